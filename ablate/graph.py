"""A sweep as a graph of stages (mix -> train -> eval / perplexity / probe per variant), each a job of its own.

Nodes are the runner's cached stages (`ablate.runner`), keyed `STAGE/KEY` like their cache folders
(`OUTPUT/cache/STAGE/KEY/`); a stage depends on the stages whose keys are among its inputs. Beside each
folder: `KEY.lease` (who runs it, `ablate.lease`), `KEY.log` (its output) and `KEY.failed.json` (why it
stopped). `run_stage` is what every engine's job runs: `tracemix ablate SWEEP --output OUT --run-stage ID`,
also by hand, and the sweep picks the result up.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ablate import lease as leases
from ablate import stages as st
from ablate.resources import StageResources
from ablate.sweep import Sweep
from tracemix.atomic import write_json
from tracemix.config import did_you_mean
from tracemix.errors import RecipeError


@dataclass
class Node:
    stage: st.Stage
    inputs: dict[str, Any]
    run: Callable[[], dict[str, Any]]
    variants: list[str] = field(default_factory=list)
    deps: list[str] = field(default_factory=list)
    seed: int | None = None  # the training seed of a per-seed stage (train and what reads its checkpoint)

    @property
    def id(self) -> str:
        return f"{self.stage.name}/{self.stage.key}"

    def _beside(self, suffix: str) -> Path:
        return self.stage.dir.with_name(f"{self.stage.key}{suffix}")

    @property
    def lease_path(self) -> Path:
        return self._beside(".lease")

    @property
    def log_path(self) -> Path:
        return self._beside(".log")

    @property
    def failed_path(self) -> Path:
        return self._beside(".failed.json")


def build_graph(sweep: Sweep, output: str | Path) -> dict[str, Node]:
    """Every stage of the sweep, once (variants that share a stage share its node), in dependency order."""
    from ablate.runner import _variant_stages

    cache = Path(output) / "cache"
    graph: dict[str, Node] = {}
    for variant in sweep.variants():
        plan = _variant_stages(sweep, variant, cache)
        keys = {stage.key: f"{stage.name}/{stage.key}" for stage, _, _ in plan}
        for stage, inputs, run in plan:
            node = graph.setdefault(f"{stage.name}/{stage.key}", Node(stage, inputs, run))
            node.variants.append(variant["name"])
            node.deps = [keys[v] for v in inputs.values() if isinstance(v, str) and v in keys and v != stage.key]
            seeds = [graph[d].seed for d in node.deps if graph[d].seed is not None]
            node.seed = inputs["seed"] if stage.name == "train" and "seed" in inputs else (seeds[0] if seeds else None)
    return graph


def select(graph: dict[str, Node], only: list[str] | None) -> list[Node]:
    """The nodes `--only VARIANT[/STAGE]` asks for, with the unfinished stages they need; all without `only`."""
    if not only:
        return list(graph.values())
    variants = sorted({v for n in graph.values() for v in n.variants})
    wanted: set[str] = set()
    for item in only:
        variant, _, stage = item.partition("/")
        if variant not in variants:
            raise RecipeError(f"--only {item}: no variant `{variant}`{did_you_mean(variant, variants)}; the variants "
                              f"are {', '.join(variants)}")
        hits = [n.id for n in graph.values() if variant in n.variants and (not stage or n.stage.name == stage)]
        if not hits:
            names = sorted({n.stage.name for n in graph.values()})
            raise RecipeError(f"--only {item}: no stage `{stage}` in this sweep; stages: {', '.join(names)}")
        wanted.update(hits)
    todo = list(wanted)
    while todo:  # add the unfinished upstream stages
        for dep in graph[todo.pop()].deps:
            if dep not in wanted and not graph[dep].stage.done:
                wanted.add(dep)
                todo.append(dep)
    return [n for n in graph.values() if n.id in wanted]


def status(node: Node) -> tuple[str, str]:
    """(state, detail): cached | running (who) | failed (why, log) | pending."""
    if node.stage.done:
        return "cached", ""
    lease = leases.read(node.lease_path)
    if lease is not None and lease.alive():
        return "running", f"{lease.describe()}; log {node.log_path}"
    if node.failed_path.is_file():
        error = json.loads(node.failed_path.read_text()).get("error", "")
        return "failed", f"{error}; log {node.log_path}"
    if lease is not None:
        return "failed", f"{lease.describe()} ended without finishing; log {node.log_path}"
    return "pending", ""


def stage_command(sweep_file: str, output: str | Path, node_id: str, flags: list[str] | None = None) -> list[str]:
    """The command that runs one stage (what the jobs run; also printed for running it by hand)."""
    return ["tracemix", "ablate", str(sweep_file), "--output", str(output), *(flags or []), "--run-stage", node_id]


def python_command(command: list[str]) -> list[str]:
    """`stage_command` with this interpreter, so a job runs the launcher's installation."""
    return [sys.executable, "-m", "tracemix", *command[1:]]


def _torchrun_train(node: Node, gpus: int) -> dict[str, Any]:
    """A training stage across `gpus` processes: `tracemix train` under torchrun, inside this job."""
    config, data, out, max_steps, seed, overrides = node.run.args
    # torchrun as this interpreter's module: the job's PATH need not hold the installation's bin/
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={gpus}",
           "-m", "tracemix", "train", str(config),
           "--data", str(data), "--output", str(out), "--seed", str(seed)]
    cmd += ["--max-steps", str(max_steps)] if max_steps else []
    for key, value in (overrides or {}).items():
        cmd += ["--set", f"{key}={json.dumps(value)}"]
    print("+ " + shlex.join(cmd), flush=True)
    subprocess.run(cmd, check=True)
    manifest = json.loads((Path(out) / "manifest.json").read_text())
    return {"path": str(out), "final_loss": manifest.get("final_loss")}


def execute(node: Node, graph: dict[str, Node], resources: StageResources, holder: leases.Lease | None = None,
            command: str = "") -> dict[str, Any]:
    """Run one stage under its lease (adopted from the job's launcher, or claimed here); write `stage.json`,
    or `KEY.failed.json` with the error. Refuses a stage another live holder runs or whose inputs are missing."""
    if node.stage.done:
        return node.stage.result()
    missing = [d for d in node.deps if not graph[d].stage.done]
    if missing:
        raise RecipeError(f"stage {node.id} needs {', '.join(missing)} first (run those, or the whole sweep)")
    lease = holder or leases.adopt(node.lease_path) or leases.claim(node.lease_path, "local", log=str(node.log_path))
    if lease is None:
        current = leases.read(node.lease_path)
        raise RecipeError(f"stage {node.id} is already running ({current.describe() if current else 'elsewhere'}); "
                          f"wait for it, or stop it and rerun. {command}")
    node.failed_path.unlink(missing_ok=True)
    threads = _set_threads(resources.cpus or int(os.environ.get("SLURM_CPUS_PER_TASK", 0)) or None)
    try:
        with leases.Heartbeat(lease):
            node.stage.dir.mkdir(parents=True, exist_ok=True)
            if node.stage.name == "train" and resources.gpus and resources.gpus > 1:
                result, seconds = st.timed(_torchrun_train, node, resources.gpus)
            else:
                result, seconds = st.timed(node.run)
            return st.finish(node.stage, node.inputs, result, seconds)
    except BaseException as err:  # SIGTERM from scancel arrives as SystemExit
        write_json(node.failed_path, {"stage": node.id, "error": f"{type(err).__name__}: {err}"[:2000],
                                      "log": str(node.log_path), "time": time.time(), "pid": os.getpid()})
        raise
    finally:
        _set_threads(threads)
        lease.release()


def _set_threads(n: int | None) -> int | None:
    """Torch's CPU threads follow the stage's `cpus` on every engine, so results match across engines."""
    if n is None:
        return None
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    return previous
