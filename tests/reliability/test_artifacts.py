"""Kill tests: `tracemix mix --overwrite`, `tracemix tag` and `tracemix train` are SIGKILLed in a subprocess
(at injected points through TRACEMIX_CRASH_AT, or at a random moment), then rerun; every artifact is old or
new and complete, and readers refuse what is not."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml

from curation.mixing import build_mixture, load_result
from tests.curation.mixing.conftest import make_tagged, recipe_dict
from tests.training.conftest import tiny_config, write_text_mixture
from tracemix.artifacts import read_manifest
from tracemix.cli import main as tracemix
from tracemix.errors import DataError
from tracemix.provenance import file_hash

ROOT = Path(__file__).resolve().parents[2]


def _spawn(args: list[str], crash: str | None = None) -> subprocess.Popen:
    """`tracemix ARGS` in its own session (so the whole process group can be killed, as when a node dies)."""
    env = {**os.environ, "TRACEMIX_CRASH_AT": crash or "", "PYTHONPATH": str(ROOT)}
    log = tempfile.TemporaryFile("w+")  # noqa: SIM115 - read after the process ends, closed with it
    proc = subprocess.Popen([sys.executable, "-m", "tracemix", *map(str, args)], cwd=ROOT, env=env,
                            stdout=log, stderr=log, text=True, start_new_session=True)
    proc.log = log
    return proc


def _log(proc: subprocess.Popen) -> str:
    proc.log.seek(0)
    return proc.log.read()[-3000:]


def _kill_group(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # helpers it started (datatrove's manager) go too
    proc.wait()
    proc.log.close()


def _killed_at(args: list[str], crash: str) -> None:
    proc = _spawn(args, crash)
    proc.wait(timeout=120)
    assert proc.returncode == -signal.SIGKILL, _log(proc)
    _kill_group(proc)


def _kill_when(proc: subprocess.Popen, ready, delay: float = 0.0, timeout: float = 120) -> bool:
    """SIGKILL `proc` a random moment (0 to `delay` s) after `ready()` first holds; False if it had already
    finished by then."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert proc.poll() is None, _log(proc)
        assert time.monotonic() < deadline
        time.sleep(0.002)
    time.sleep(random.uniform(0, delay))
    finished = proc.poll() is not None
    _kill_group(proc)
    return not finished


def _recipe_file(path: Path, source: Path, seed: int) -> Path:
    path.write_text(yaml.safe_dump(recipe_dict(source, seed=seed)))
    return path


def _ids(folder: Path) -> list[str]:
    import polars as pl

    shards = load_result(folder)["output"]["shards"]
    return pl.concat([pl.read_parquet(folder / s) for s in shards])["id"].to_list()


def test_mix_overwrite_killed_anywhere_leaves_the_old_or_the_new_mixture(tmp_path):
    src = make_tagged(tmp_path / "tagged", 40)
    old_recipe, new_recipe = _recipe_file(tmp_path / "a.yaml", src, 1), _recipe_file(tmp_path / "b.yaml", src, 2)
    out = tmp_path / "mix"
    old = build_mixture(old_recipe, out)
    old_ids = _ids(out)
    for point in ("mix:shards-moved", "mix:before-swap"):
        _killed_at(["mix", new_recipe, "--output", out, "--overwrite"], point)
        assert read_manifest(out, "mixture")["fingerprint"] == old["fingerprint"] and _ids(out) == old_ids
    proc = _spawn(["mix", new_recipe, "--output", out, "--overwrite", "--tasks", "2"])
    _kill_when(proc, lambda: (tmp_path / ".mix.mix").exists(), delay=0.3)  # wherever it lands (or not)
    now = read_manifest(out, "mixture")  # whichever it is, it is complete
    new = build_mixture(new_recipe, out, overwrite=True)  # the rerun completes the new one
    assert now["fingerprint"] in (old["fingerprint"], new["fingerprint"])
    assert read_manifest(out, "mixture")["fingerprint"] == new["fingerprint"] != old["fingerprint"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.yaml", "b.yaml", "mix", "tagged"]


def test_a_crash_while_shards_move_leaves_nothing_a_reader_accepts(tmp_path, tiny_tokenizer_dir):
    src = make_tagged(tmp_path / "tagged", 40)
    out = tmp_path / "fresh"
    _killed_at(["mix", _recipe_file(tmp_path / "b.yaml", src, 2), "--output", out], "mix:shards-moved")
    with pytest.raises(DataError, match="no such artifact folder"):
        read_manifest(out, "mixture")
    cfg = tmp_path / "train.yaml"
    cfg.write_text(yaml.safe_dump(tiny_config(tiny_tokenizer_dir, "llama")))
    assert tracemix(["train", str(cfg), "--data", str(out), "--check"]) == 2
    # another recipe into the same folder never picks up the stale shards of the interrupted one
    built = build_mixture(_recipe_file(tmp_path / "a.yaml", src, 1), out)
    clean = build_mixture(_recipe_file(tmp_path / "a.yaml", src, 1), tmp_path / "clean")
    assert _ids(out) == _ids(tmp_path / "clean") and built["fingerprint"] == clean["fingerprint"]
    assert not (tmp_path / ".fresh.mix").exists()


def test_outputs_that_are_or_hold_their_input_are_refused(tmp_path, capsys):
    src = make_tagged(tmp_path / "tagged", 10)
    before = {p.name: file_hash(p) for p in src.iterdir()}
    assert tracemix(["tag", "--input", str(src), "--output", str(src)]) == 2
    assert tracemix(["tag", "--input", str(src), "--output", str(src / "inner")]) == 2
    recipe = _recipe_file(tmp_path / "r.yaml", src, 1)
    assert tracemix(["mix", str(recipe), "--output", str(src)]) == 2
    assert tracemix(["mix", str(recipe), "--output", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "is the input" in err and "lies inside the input" in err and "contains the input" in err
    assert {p.name: file_hash(p) for p in src.iterdir()} == before and read_manifest(src, "tagged")


def test_tag_killed_mid_run_is_refused_by_stats_and_mix_then_resumes(tmp_path, capsys):
    from curation.demo.data import write_demo

    write_demo(tmp_path / "demo", docs=2000, chats_n=0)
    lines = (tmp_path / "demo" / "corpus.jsonl").read_text().splitlines()
    raw = tmp_path / "raw"
    raw.mkdir()
    for i in range(4):
        (raw / f"part{i}.jsonl").write_text("\n".join(lines[i::4]) + "\n")
    out = tmp_path / "tagged"
    proc = _spawn(["tag", "--input", raw, "--output", out, "--tasks", "4", "--no-progress"])
    assert _kill_when(proc, lambda: any((out / "logs" / "completions").glob("0*")))  # after its first task
    assert tracemix(["stats", str(out)]) == 2
    assert "tagging tasks finished" in capsys.readouterr().err
    with pytest.raises(DataError, match="sources\\[0\\]: .*incomplete"):
        build_mixture(recipe_dict(out), tmp_path / "mix")
    assert tracemix(["tag", "--input", str(raw), "--output", str(out), "--tasks", "4", "--no-progress"]) == 0
    manifest = read_manifest(out, "tagged")
    assert manifest["documents"] == len(lines) and sum(manifest["bad_input"].values()) == 0


def test_train_killed_while_checkpointing_resumes_from_the_last_complete_checkpoint(tmp_path, tiny_tokenizer_dir):
    from eval import run_eval
    from probes import run_probe
    from training import load_result as load_checkpoint
    from training import run_training

    data = write_text_mixture(tmp_path / "mix")
    cfg = tiny_config(tiny_tokenizer_dir, "llama", save_steps=1, max_steps=400)
    (tmp_path / "train.yaml").write_text(yaml.safe_dump(cfg))
    out = tmp_path / "run"
    proc = _spawn(["train", tmp_path / "train.yaml", "--data", data, "--output", out])
    assert _kill_when(proc, lambda: (out / "checkpoint-2" / "trainer_state.json").is_file(), delay=0.2)
    for read in (lambda: read_manifest(out, "checkpoint"),
                 lambda: run_eval(str(out), "coin_flip", limit=1, progress=False),
                 lambda: run_probe(str(out), str(data), tmp_path / "probe", progress=False)):
        with pytest.raises(DataError, match="incomplete: a checkpoint run"):
            read()
    steps = sorted(int(p.name.split("-")[1]) for p in out.glob("checkpoint-*"))
    torn = out / f"checkpoint-{steps[-1]}"  # as if the kill hit while its trainer_state.json was written
    if (torn / "trainer_state.json").is_file():
        (torn / "trainer_state.json").write_text('{"global_step": ')
    resumed = run_training(cfg, data=data, output=out, max_steps=steps[-1] + 1)
    assert resumed["resumed_from"] == str(out / f"checkpoint-{steps[-2]}")
    assert load_checkpoint(out)["global_step"] == steps[-1] + 1
    assert json.loads((out / "manifest.json").read_text())["parents"][0]["kind"] == "mixture"
