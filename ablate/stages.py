"""The stages of a sweep (frame, mix, train, eval, perplexity, probe), each cached under a content hash
of everything it depends on.

A stage's folder is `OUTPUT/cache/STAGE/KEY/`; it counts as finished only once `stage.json` is written
(atomically, last). An interrupted stage keeps its folder, so the stage's own resume logic (mixture
shards, training checkpoints) picks it up on the next run.
"""

from __future__ import annotations

import json
import time
from contextlib import redirect_stderr
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracemix.artifacts import parent_ref, read_manifest
from tracemix.atomic import write_json
from tracemix.config import parse_yaml
from tracemix.errors import DataError
from tracemix.provenance import config_hash, file_hash

if TYPE_CHECKING:
    from eval.settings import EvalSettings, PerplexitySettings
    from probes.settings import ProbeSettings

MARKER = "stage.json"
ARTIFACT_KINDS = {"mix": "mixture", "train": "checkpoint", "eval": "eval", "perplexity": "perplexity",
                  "probe": "probe"}  # tracemix.artifacts


def config_hash_of_file(path: str | Path) -> str:
    """Hash of a config file's parsed content, so comments and formatting do not invalidate the cache."""
    return config_hash(parse_yaml(Path(path).read_text(encoding="utf-8")))


def folder_fingerprint(path: str | Path) -> str:
    """Identity of a data folder: its manifest hash when it has one, else names, sizes and mtimes."""
    root = Path(path)
    manifest = root / "manifest.json"
    if manifest.is_file():
        return file_hash(manifest)
    entries = sorted((str(p.relative_to(root)), p.stat().st_size, int(p.stat().st_mtime))
                     for p in root.rglob("*") if p.is_file())
    return config_hash(entries)


@dataclass
class Stage:
    name: str  # frame | mix | train | eval | perplexity | probe
    key: str  # content hash of the stage's inputs
    dir: Path

    @property
    def done(self) -> bool:
        """`stage.json` is written, and the stage's artifact (mixture, checkpoint, eval or probe run) is complete
        and matches its manifest; a cache entry whose files were lost or changed runs again."""
        if not (self.dir / MARKER).is_file():
            return False
        if self.name not in ARTIFACT_KINDS:
            return True
        try:
            read_manifest(self.dir, ARTIFACT_KINDS[self.name])
        except DataError:
            return False
        return True

    def result(self) -> dict[str, Any]:
        return json.loads((self.dir / MARKER).read_text())


def stage(cache: Path, name: str, inputs: dict[str, Any]) -> Stage:
    key = config_hash(inputs)[:16]
    return Stage(name, key, cache / name / key)


def sweep_parents(stages: list[Stage]) -> list[dict[str, Any]]:
    """The sweep manifest's parents: its eval, perplexity and probe runs (else its checkpoints), through
    which `tracemix lineage` reaches the mixtures and the tagged data."""
    leaves = [s for s in stages if s.name in ("eval", "perplexity", "probe")] or [
        s for s in stages if s.name == "train"]
    return [parent_ref(s.dir, ARTIFACT_KINDS[s.name]) for s in leaves]


def finish(st: Stage, inputs: dict[str, Any], result: dict[str, Any], seconds: float) -> dict[str, Any]:
    record = {"stage": st.name, "key": st.key, "inputs": inputs, "seconds": round(seconds, 2), "result": result}
    write_json(st.dir / MARKER, record)
    return record


def run_mix(recipe_path: str, overrides: dict[str, Any], out: Path) -> dict[str, Any]:
    from curation.mixing import build_mixture, load_recipe

    recipe = load_recipe(recipe_path, overrides=overrides)
    # datatrove logs every task to stderr; keep the sweep's display readable and the log next to the stage
    with open(out.parent / f"{out.name}.log", "a", encoding="utf-8") as log, redirect_stderr(log):
        manifest = build_mixture(recipe, output=out)
    return {"path": str(out), "manifest_hash": file_hash(out / "manifest.json") if (out / "manifest.json").is_file()
            else config_hash(manifest)}


def run_train(config: str, data: Path, out: Path, max_steps: int | None, seed: int,
              overrides: dict[str, Any]) -> dict[str, Any]:
    from training import run_training

    manifest = run_training(config, data=str(data), output=str(out), max_steps=max_steps, seed=seed,
                            overrides=overrides or None)
    return {"path": str(out), "final_loss": manifest.get("final_loss")}


def run_evaluation(model: Path, settings: EvalSettings, out: Path) -> dict[str, Any]:
    settings.run(model, out)
    return {"path": str(out)}


def run_perplexity(model: Path, settings: PerplexitySettings, exclude: Path | None, out: Path) -> dict[str, Any]:
    """Held-out loss of `model` on `settings.data`; `exclude` (a mixture folder) skips its documents."""
    result = settings.model_copy(update={"exclude": str(exclude) if exclude else None}).run(model, out)
    return {"path": str(out), "bpb": result["bpb"], "mean_loss": result["mean_loss"]}


def run_probing(model: Path, settings: ProbeSettings, out: Path) -> dict[str, Any]:
    settings.run(model, out)
    return {"path": str(out)}


def timed(fn, *args, **kwargs) -> tuple[dict[str, Any], float]:
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start
