"""Where the stages of a sweep run: in this process, as Slurm jobs, or as Ray tasks.

Every engine walks the graph (`ablate.graph`) in dependency order and, for each stage that is neither cached
nor held by a live lease, claims its lease and starts `tracemix ablate SWEEP --output OUT --run-stage ID`:

- local: in this process, one stage after another;
- slurm: one `sbatch` job per stage, `--dependency=afterok:` on the jobs of its inputs and
  `--kill-on-invalid-dep=yes`, so a failed input cancels what waits on it (a relaunch resubmits both);
- ray: one Ray task per stage on the cluster in RAY_ADDRESS (or a local instance), its input tasks as
  arguments, so Ray starts it once they succeed.

A relaunch submits only what is missing or failed: cached stages are skipped, live leases are left alone.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ablate import lease as leases
from ablate.graph import Node, execute, python_command, stage_command, status
from ablate.resources import StageResources
from ablate.sweep import Sweep
from tracemix.atomic import write_json
from tracemix.errors import RecipeError
from tracemix.executors import parse_mem_gb


@dataclass
class Launch:
    """What a launch did: stage id -> job id (Slurm), "ran" (local, Ray) or the reason it was left out."""

    submitted: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


@dataclass
class Context:
    sweep: Sweep
    sweep_file: str  # absolute: jobs run it from the launch directory
    output: Path  # absolute, on the filesystem the jobs share
    flags: list[str]  # resource flags given on the command line, passed on to each stage's command
    cli: dict[str, Any]  # the same flags as StageResources fields

    def resources(self, node: Node) -> StageResources:
        return self.sweep.resources.for_stage(node.stage.name, self.cli)

    def command(self, node: Node) -> list[str]:
        return stage_command(self.sweep_file, self.output, node.id, self.flags)


def _upstream_blocked(node: Node, blocked: dict[str, str]) -> str | None:
    bad = [d for d in node.deps if d in blocked]
    return f"waits for {', '.join(bad)}" if bad else None


class LocalEngine:
    name = "local"

    def launch(self, ctx: Context, nodes: list[Node], graph: dict[str, Node], log=print) -> Launch:
        out = Launch()
        for node in nodes:
            if node.stage.done:
                continue
            reason = _upstream_blocked(node, {**out.failed, **out.skipped})
            state, detail = status(node)
            if reason or state == "running":
                out.skipped[node.id] = reason or f"running: {detail}"
                log(f"  {node.id:<28} skipped ({out.skipped[node.id]})")
                continue
            try:
                record = execute(node, graph, ctx.resources(node), command=shlex.join(ctx.command(node)))
            except Exception as err:  # the next independent stage still runs; the error is in KEY.failed.json
                out.failed[node.id] = f"{type(err).__name__}: {err}"
                log(f"  {node.id:<28} failed: {out.failed[node.id]} (log {node.log_path})")
                continue
            out.submitted[node.id] = "ran"
            log(f"  {node.id:<28} done in {record['seconds']:.1f}s ({', '.join(node.variants)})")
        return out


def sbatch_script(ctx: Context, node: Node, res: StageResources) -> str:
    """The batch script of one stage: its resources as #SBATCH lines, the setup lines, then the stage."""
    lines = ["#!/bin/bash", f"#SBATCH --job-name=tracemix-{ctx.sweep.name}-{node.stage.name}-{node.stage.key[:8]}",
             "#SBATCH --nodes=1", "#SBATCH --ntasks=1", f"#SBATCH --cpus-per-task={res.cpus or 1}",
             f"#SBATCH --time={res.time}", f"#SBATCH --chdir={os.getcwd()}", f"#SBATCH --output={node.log_path}",
             "#SBATCH --open-mode=append", "#SBATCH --kill-on-invalid-dep=yes"]
    for key in ("partition", "account", "qos"):
        if getattr(res, key):
            lines.append(f"#SBATCH --{key}={getattr(res, key)}")
    if res.mem:
        lines.append(f"#SBATCH --mem={max(1, round(parse_mem_gb(res.mem) * 1024))}M")
    if res.gpus:
        lines.append(f"#SBATCH --gres=gpu:{res.gpus}")
    lines += ["set -eo pipefail", *(res.setup or []), f"exec {shlex.join(python_command(ctx.command(node)))}", ""]
    return "\n".join(lines)


class SlurmEngine:
    name = "slurm"

    def launch(self, ctx: Context, nodes: list[Node], graph: dict[str, Node], log=print) -> Launch:
        out = Launch()
        jobs: dict[str, str] = {}  # stage id -> Slurm job of this launch or an earlier one still queued
        leases.prefetch(n.lease_path for n in nodes)
        for node in nodes:
            if node.stage.done:
                continue
            lease = leases.read(node.lease_path)
            if lease is not None and lease.alive():
                if lease.holder.get("slurm_job"):
                    jobs[node.id] = str(lease.holder["slurm_job"])
                else:  # run by hand or by another engine: Slurm cannot wait on it
                    out.skipped[node.id] = f"running as {lease.describe()}"
                continue
            reason = _upstream_blocked(node, out.skipped)
            if reason:
                out.skipped[node.id] = reason
                log(f"  {node.id:<28} not submitted ({reason}); relaunch once it is done")
                continue
            claimed = leases.claim(node.lease_path, "slurm", holder={}, log=str(node.log_path))
            if claimed is None:  # another launch got there first: wait on its job when it has one
                other = leases.read(node.lease_path)
                if other is not None and other.holder.get("slurm_job"):
                    jobs[node.id] = str(other.holder["slurm_job"])
                else:
                    out.skipped[node.id] = "claimed by another launch"
                continue
            node.failed_path.unlink(missing_ok=True)
            after = [jobs[d] for d in node.deps if d in jobs]
            try:
                job = self._submit(ctx, node, claimed, after)
            except BaseException:
                claimed.release()
                raise
            claimed.holder = {"slurm_job": job}
            claimed.save()
            jobs[node.id] = out.submitted[node.id] = job
            log(f"  {node.id:<28} Slurm job {job}" + (f" after {','.join(after)}" if after else ""))
        return out

    def _submit(self, ctx: Context, node: Node, lease: leases.Lease, after: list[str]) -> str:
        res = ctx.resources(node)
        script = node.stage.dir.with_name(f"{node.stage.key}.sbatch")
        script.write_text(sbatch_script(ctx, node, res))
        cmd = ["sbatch", "--parsable"] + ([f"--dependency=afterok:{':'.join(after)}"] if after else []) + [str(script)]
        env = {**os.environ, leases.ENV_TOKEN: lease.token}
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
        except FileNotFoundError:
            raise RecipeError("--executor slurm: `sbatch` is not on PATH; run on a Slurm login node") from None
        if done.returncode != 0:
            raise RecipeError(f"sbatch refused stage {node.id}: {done.stderr.strip()} (script {script})")
        return done.stdout.strip().split(";")[0]


def wait_for(nodes: list[Node], poll: float = 2.0, log=print) -> dict[str, str]:
    """Block until every node is cached or no longer held by a live lease; return the unfinished ones."""
    pending = [n for n in nodes if not n.stage.done]
    reported: set[str] = set()
    while True:
        leases.prefetch(n.lease_path for n in pending)
        states = {n.id: status(n) for n in pending}
        for n in pending:
            if states[n.id][0] == "cached" and n.id not in reported:
                reported.add(n.id)
                log(f"  {n.id:<28} done")
        if all(s in ("cached", "failed", "pending") for s, _ in states.values()):
            return {i: f"{s}: {d}" for i, (s, d) in states.items() if s != "cached"}
        time.sleep(poll)


def _ray_stage(command: list[str], cwd: str, env: dict[str, str], log: str, *upstream: Any) -> int:
    """A Ray task: run one stage's command (its inputs, passed as `upstream`, have finished by now)."""
    with open(log, "a", encoding="utf-8") as f:
        done = subprocess.run(command, cwd=cwd, env={**os.environ, **env}, stdout=f, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        raise RuntimeError(f"stage exited with status {done.returncode}; see {log}")
    return done.returncode


class RayEngine:
    name = "ray"

    def launch(self, ctx: Context, nodes: list[Node], graph: dict[str, Node], log=print) -> Launch:
        import ray

        from tracemix.executors import _init_ray

        _init_ray()
        remote = ray.remote(_ray_stage)
        out, refs, claimed = Launch(), {}, {}
        for node in nodes:
            if node.stage.done:
                continue
            lease = leases.read(node.lease_path)
            reason = _upstream_blocked(node, out.skipped)
            if (lease is not None and lease.alive()) or reason:
                out.skipped[node.id] = reason or f"running as {lease.describe()}"
                log(f"  {node.id:<28} not started ({out.skipped[node.id]})")
                continue
            lease = leases.claim(node.lease_path, "ray", log=str(node.log_path))
            if lease is None:
                continue
            claimed[node.id] = lease
            node.failed_path.unlink(missing_ok=True)
            res = ctx.resources(node)
            options: dict[str, Any] = {"num_cpus": res.cpus or 1, "num_gpus": res.gpus or 0, "max_retries": 0}
            if res.mem:
                options["memory"] = int(parse_mem_gb(res.mem) * 2**30)
            upstream = [refs[d] for d in node.deps if d in refs]
            command = python_command(ctx.command(node))
            if res.setup:  # the same shell lines a Slurm job runs first
                command = ["bash", "-c", "\n".join(["set -eo pipefail", *res.setup, f"exec {shlex.join(command)}"])]
            refs[node.id] = remote.options(name=node.id, **options).remote(
                command, os.getcwd(), {leases.ENV_TOKEN: lease.token}, str(node.log_path), *upstream)
            out.submitted[node.id] = "ray"
            log(f"  {node.id:<28} Ray task" + (f" after {len(upstream)} input(s)" if upstream else ""))
        for node_id, ref in refs.items():
            try:
                ray.get(ref)
                log(f"  {node_id:<28} done")
            except Exception as err:  # the stage failed, or an input did and Ray never started it
                out.failed[node_id] = str(err).strip().splitlines()[-1]
                log(f"  {node_id:<28} failed ({out.failed[node_id]})")
                node = next(n for n in nodes if n.id == node_id)
                if not node.failed_path.is_file():  # killed before it could say why
                    write_json(node.failed_path, {"stage": node_id, "error": out.failed[node_id],
                                                  "log": str(node.log_path), "time": time.time()})
            finally:
                claimed[node_id].release()  # a no-op when the task released (or a takeover replaced) it
        return out


ENGINES = {"local": LocalEngine, "slurm": SlurmEngine, "ray": RayEngine}


def make_context(sweep: Sweep, sweep_file: str, output: str | Path, cli: dict[str, Any]) -> Context:
    flags = []
    for key in ("partition", "account", "qos", "time", "cpus", "mem"):
        if cli.get(key) is not None:
            flags += [f"--{key}", str(cli[key])]
    return Context(sweep, str(Path(sweep_file).resolve()), Path(output).resolve(), flags, cli)


def plan_lines(ctx: Context, graph: dict[str, Node], nodes: list[Node]) -> list[str]:
    """`--plan`: every stage with its variants, state and, when not cached, the command that runs it by hand."""
    lines = [f"{ctx.sweep.name}: {len(graph)} stages -> {ctx.output}"]
    leases.prefetch(n.lease_path for n in nodes)
    counts: dict[str, int] = {}
    for node in nodes:
        state, detail = status(node)
        counts[state] = counts.get(state, 0) + 1
        seed = f" seed {node.seed}" if node.seed is not None else ""
        lines.append(f"  {state:<8} {node.id:<28} {', '.join(node.variants)}{seed}" + (f"  ({detail})" if detail else ""))
        if state in ("pending", "failed"):
            lines.append(f"           run by hand: {shlex.join(ctx.command(node))}")
    lines.append("  " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    return lines


def run_one(ctx: Context, graph: dict[str, Node], node_id: str) -> dict[str, Any]:
    """`--run-stage ID`: the job body of every engine, and the command for running a stage by hand."""
    if node_id not in graph:
        from tracemix.config import did_you_mean

        raise RecipeError(f"--run-stage {node_id}: no such stage in this sweep{did_you_mean(node_id, list(graph))}; "
                          "`--plan` lists them")
    node = graph[node_id]
    _stop_on_sigterm()
    return execute(node, graph, ctx.resources(node), command=shlex.join(ctx.command(node)))


def _stop_on_sigterm() -> None:
    """scancel / Ray cancellation send SIGTERM: unwind (recording the failure, dropping the lease) before SIGKILL."""
    import signal

    def stop(signum, frame):
        raise SystemExit(f"stopped by signal {signum}")

    signal.signal(signal.SIGTERM, stop)
