import json
import os

import polars as pl
import pyarrow.parquet as pq
import pytest

from curation.demo.data import write_demo
from curation.tagging.records import flatten_messages
from curation.tagging.tag import run_tag, tagged_schema
from tracemix.cli import main as cli
from tracemix.domains import DOMAINS
from tracemix.errors import DataError


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    write_demo(out, docs=60, chats_n=20, seed=3)
    return out


def _rows(folder):
    return pl.read_parquet(sorted(folder.glob("*.parquet"))).sort("id")


def test_tags_the_demo_folder_into_the_contract(demo, tmp_path):
    out = tmp_path / "tagged"
    stats = run_tag(str(demo), out, quiet=True, progress=False)
    shards = sorted(p.name for p in out.glob("*.parquet"))
    assert shards == ["00000.parquet"]
    assert pq.read_schema(out / shards[0]).remove_metadata() == tagged_schema(with_tokens=False)
    df = _rows(out)
    assert df.height == 80 == stats["documents"] and df["id"].n_unique() == 80
    assert set(df["domain"]) <= set(DOMAINS) and df["tagger"].unique().to_list() == ["heuristic-v2"]
    assert df["n_bytes"].to_list() == [len(t.encode()) for t in df["text"]]
    chats = df.filter(pl.col("messages").is_not_null())
    assert chats.height == 20 and set(chats["source"]) == {"demo-chat"}
    row = chats.row(0, named=True)
    assert row["text"] == flatten_messages(row["messages"])
    assert df.filter(pl.col("messages").is_null())["source"].unique().to_list() == ["demo"]
    scores = df["domain_scores"].struct.unnest()
    assert ((scores.sum_horizontal() - 1).abs() < 1e-6).all()
    assert df["scaffold_score"].is_between(0, 1).all()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["classifier"] == "heuristic" and manifest["tokenizer"] is None
    assert manifest["documents"] == 80 and "datatrove" in manifest["versions"] and "git_commit" in manifest
    assert json.loads((out / "stats.json").read_text())["documents"] == 80


def test_tokenizer_adds_n_tokens(demo, tmp_path, tiny_tokenizer_dir, tiny_tokenizer):
    out = tmp_path / "tok"
    stats = run_tag(str(demo / "corpus.jsonl"), out, tokenizer=str(tiny_tokenizer_dir), quiet=True)
    df = _rows(out)
    assert df["n_tokens"].dtype == pl.Int64 and stats["tokens"] == df["n_tokens"].sum()
    text = df["text"][0]
    assert df["n_tokens"][0] == len(tiny_tokenizer(text, add_special_tokens=False)["input_ids"])
    assert json.loads((out / "manifest.json").read_text())["tokenizer"] == str(tiny_tokenizer_dir)


def test_two_tasks_give_the_same_rows_and_a_rerun_resumes(demo, tmp_path, capsys):
    one, two = tmp_path / "one", tmp_path / "two"
    run_tag(str(demo), one, tasks=1, quiet=True)
    run_tag(str(demo), two, tasks=2, workers=1, quiet=True)
    assert sorted(p.name for p in two.glob("*.parquet")) == ["00000.parquet", "00001.parquet"]
    assert _rows(one).equals(_rows(two))
    mtimes = {p: p.stat().st_mtime_ns for p in two.glob("*.parquet")}
    run_tag(str(demo), two, tasks=2, workers=1, quiet=True)  # everything is complete: nothing is redone
    assert {p: p.stat().st_mtime_ns for p in two.glob("*.parquet")} == mtimes
    with pytest.raises(DataError, match="other settings.*tasks: 2 -> 1"):
        run_tag(str(demo), two, tasks=1, quiet=True)


def test_changed_input_files_are_not_resumed(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.jsonl").write_text('{"id": "1", "text": "first"}\n')
    run_tag(str(src), tmp_path / "out", quiet=True)
    (src / "b.jsonl").write_text('{"id": "2", "text": "second"}\n')
    with pytest.raises(DataError, match="input_files"):
        run_tag(str(src), tmp_path / "out", quiet=True)


class Flaky:
    """Fails on one document while a marker file exists: a task that dies half-way."""

    name = "flaky-v0"

    def __init__(self, marker):
        self.marker = marker

    def predict(self, text):
        if os.path.exists(self.marker) and "assistant:" not in text:
            raise RuntimeError("worker died")
        return {d: 0.25 for d in DOMAINS}


def test_rerun_after_a_failed_task_only_redoes_that_task(demo, tmp_path):
    out, marker = tmp_path / "out", tmp_path / "marker"
    marker.touch()
    with pytest.raises(RuntimeError, match="worker died"):  # task 1 (corpus.jsonl) dies, task 0 is done
        run_tag(str(demo), out, classifier=Flaky(str(marker)), tasks=2, workers=1, quiet=True)
    assert os.listdir(out / "logs" / "completions") == ["00000"]
    done = (out / "00000.parquet").stat().st_mtime_ns
    marker.unlink()
    run_tag(str(demo), out, classifier=Flaky(str(marker)), tasks=2, workers=1, quiet=True)
    assert sorted(os.listdir(out / "logs" / "completions")) == ["00000", "00001"]
    assert (out / "00000.parquet").stat().st_mtime_ns == done  # the finished task was not redone
    assert _rows(out).height == 80


def test_bad_input_ends_in_stats_and_the_run_goes_on(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_bytes(
        b'{"id": "1", "text": "ok"}\n{"id": "2", "text": \n{"id": "3", "text": " "}\n'
        b'{"id": "4", "text": "\xff"}\n{"id": "5", "text": "fine too"}\n'
    )
    stats = run_tag(str(src), tmp_path / "out", quiet=True)
    assert stats["documents"] == 2
    assert stats["bad_input"]["counts"] == {"empty_text": 1, "invalid_utf8": 1, "malformed_json": 1}
    assert [(e["file"], e["line"]) for e in stats["bad_input"]["examples"]] == [
        ("in.jsonl", 3),
        ("in.jsonl", 4),
        ("in.jsonl", 2),
    ]


def test_limit_caps_documents_per_task(demo, tmp_path):
    assert run_tag(str(demo), tmp_path / "lim", limit=7, tasks=2, quiet=True)["documents"] == 14


def test_cli_fails_fast_with_clear_errors(demo, tmp_path, capsys):
    out = tmp_path / "never"
    assert cli(["tag", "--input", str(demo), "--output", str(out), "--classifier", "heuristik"]) == 2
    assert "Did you mean 'heuristic'" in capsys.readouterr().err
    assert cli(["tag", "--input", str(demo), "--output", str(out), "--classifier", "fasttext:nope.bin"]) == 2
    assert "fastText model not found: nope.bin" in capsys.readouterr().err
    assert cli(["tag", "--input", str(tmp_path / "missing"), "--output", str(out)]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert cli(["tag", "--input", str(demo), "--output", str(out), "--text-key", "body"]) == 2
    assert "'body'" in capsys.readouterr().err
    assert cli(["tag", "--input", str(demo), "--output", str(out), "--classifier", "llm"]) == 2
    assert "--base-url --model" in capsys.readouterr().err
    assert cli(["tag", "--input", str(demo), "--output", str(out), "--tokenizer", str(tmp_path / "no-tok")]) == 2
    err = capsys.readouterr().err
    assert "cannot load tokenizer" in err and ".. " not in err
    assert not out.exists()  # nothing started


def test_cli_tags_and_stats_prints_again(demo, tmp_path, capsys):
    out = tmp_path / "cli"
    assert cli(["tag", "--input", str(demo / "corpus.jsonl"), "--output", str(out), "--no-progress"]) == 0
    assert "math_text" in capsys.readouterr().out
    assert cli(["stats", str(out)]) == 0
    assert "total" in capsys.readouterr().out


def test_fasttext_classifier_end_to_end(demo, tmp_path):
    from curation.classifiers.fasttext_tagger import train_fasttext

    records = [json.loads(line) for line in (demo / "corpus.jsonl").read_text().splitlines()]
    train_fasttext(
        [{"text": r["text"], "label": r["label"], "id": r["id"]} for r in records],
        tmp_path / "m.bin",
        epoch=5,
        dim=16,
        bucket=10_000,
    )
    stats = run_tag(
        str(demo / "corpus.jsonl"), tmp_path / "ft", classifier=f"fasttext:{tmp_path / 'm.bin'}", quiet=True
    )
    assert stats["documents"] == 60
    assert _rows(tmp_path / "ft")["tagger"][0].startswith("fasttext:m:")
    assert [p["kind"] for p in json.loads((tmp_path / "ft" / "manifest.json").read_text())["parents"]] == ["raw", "classifier"]


@pytest.mark.slow
def test_ray_executor_runs_the_same_pipeline(demo, tmp_path):
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    try:
        stats = run_tag(
            str(demo / "corpus.jsonl"), tmp_path / "ray", executor="ray", quiet=True, progress=False
        )
    finally:
        ray.shutdown()
    run_tag(str(demo / "corpus.jsonl"), tmp_path / "local", quiet=True)
    assert stats["documents"] == 60 and _rows(tmp_path / "ray").equals(_rows(tmp_path / "local"))


_SLOW_RUN = """
import sys, time
sys.path.insert(0, {root!r})
from curation.tagging.tag import run_tag

class Slow:
    name = "slow-v0"
    def predict(self, text):
        time.sleep(float(sys.argv[1]))
        return {{"pure_code": 0.1, "code_text": 0.1, "math_text": 0.1, "general": 0.7}}

run_tag({demo!r}, {out!r}, classifier=Slow(), tasks=2, workers=1, quiet=True, progress=False)
"""


def test_killed_run_resumes_where_it_stopped(demo, tmp_path):
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    out = tmp_path / "out"
    script = tmp_path / "slow.py"
    root = str(Path(__file__).resolve().parents[3])
    script.write_text(_SLOW_RUN.format(root=root, demo=str(demo), out=str(out)))
    proc = subprocess.Popen(
        [sys.executable, str(script), "0.1"],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while not (out / "logs" / "completions" / "00000").exists() and time.time() < deadline:
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)  # task 0 done, task 1 (40 docs x 0.1 s) half-way
    proc.wait()
    assert os.listdir(out / "logs" / "completions") == ["00000"]
    done = (out / "00000.parquet").stat().st_mtime_ns
    subprocess.run(
        [sys.executable, str(script), "0"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    assert sorted(os.listdir(out / "logs" / "completions")) == ["00000", "00001"]
    assert (out / "00000.parquet").stat().st_mtime_ns == done
    df = _rows(out)
    assert df.height == 80 and df["id"].n_unique() == 80


def test_tagging_without_the_compiled_scans_warns_and_gives_the_same_rows(demo, tmp_path, capsys, monkeypatch):
    from curation.classifiers import compiled, heuristic, line_rules, scaffold

    fast = tmp_path / "fast"
    run_tag(str(demo), fast, progress=False)
    assert "compiled scans were not built" not in capsys.readouterr().err
    # an install without a C compiler: every scan falls back to its Python reference
    calls = []

    def reference_line_stats(text):
        calls.append(1)
        return line_rules.reference_line_stats(text)

    monkeypatch.setattr(compiled, "COMPILED", False)
    monkeypatch.setattr(heuristic, "line_stats", reference_line_stats)
    for name in ("word_stats", "fences", "arith_count", "number_count"):
        monkeypatch.setattr(heuristic, name, getattr(heuristic, f"reference_{name}"))
    monkeypatch.setattr(heuristic, "count_all", compiled.reference_count_all)
    monkeypatch.setattr(heuristic, "count_each", compiled.reference_count_each)
    monkeypatch.setattr(scaffold, "count_all", compiled.reference_count_all)
    monkeypatch.setattr(scaffold, "_compiled_line_counts", None)
    monkeypatch.setattr(scaffold, "_math_chars", scaffold.reference_math_chars)
    slow = tmp_path / "slow"
    run_tag(str(demo), slow, progress=False)
    assert "compiled scans were not built" in capsys.readouterr().err
    assert len(calls) == 80 and _rows(slow).equals(_rows(fast))
