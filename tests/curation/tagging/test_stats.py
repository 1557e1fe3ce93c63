import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curation.tagging.stats import compute_stats, main, write_stats
from curation.tagging.tag import tagged_schema
from tracemix.artifacts import write_manifest
from tracemix.errors import DataError


def _row(i, domain, scaffold, n_bytes, n_tokens):
    scores = {d: 0.0 for d in ("pure_code", "code_text", "math_text", "general")} | {domain: 1.0}
    return {
        "id": str(i),
        "text": "x" * n_bytes,
        "source": "t",
        "domain": domain,
        "domain_scores": scores,
        "scaffold_score": scaffold,
        "n_bytes": n_bytes,
        "n_tokens": n_tokens,
        "tagger": "t",
        "messages": None,
    }


@pytest.fixture
def tagged(tmp_path):
    rows = [
        _row(0, "math_text", 0.0, 10, 3),
        _row(1, "math_text", 0.95, 30, 7),
        _row(2, "math_text", 1.0, 20, 5),
        _row(3, "general", 0.15, 40, 10),
    ]
    schema = tagged_schema(with_tokens=True)
    pq.write_table(pa.Table.from_pylist(rows[:2], schema=schema), tmp_path / "00000.parquet")
    pq.write_table(pa.Table.from_pylist(rows[2:], schema=schema), tmp_path / "00001.parquet")
    bad = tmp_path / "logs" / "bad_input"
    bad.mkdir(parents=True)
    (bad / "00000.json").write_text(
        json.dumps(
            {
                "counts": {"empty_text": 2},
                "examples": [
                    {"reason": "empty_text", "file": "a.jsonl", "line": 9, "detail": ""},
                    {"reason": "empty_text", "file": "a.jsonl", "line": 10, "detail": ""},
                ],
            }
        )
    )
    (bad / "00001.json").write_text(
        json.dumps(
            {
                "counts": {"empty_text": 1, "malformed_json": 1},
                "examples": [
                    {"reason": "malformed_json", "file": "b.jsonl", "line": 3, "detail": "x"},
                    {"reason": "empty_text", "file": "b.jsonl", "line": 1, "detail": ""},
                ],
            }
        )
    )
    return tmp_path


def test_per_domain_table(tagged):
    stats = compute_stats(tagged)
    math, gen, code = (
        stats["domains"]["math_text"],
        stats["domains"]["general"],
        stats["domains"]["pure_code"],
    )
    assert (stats["documents"], stats["bytes"], stats["tokens"], stats["shards"]) == (4, 100, 25, 2)
    assert (math["documents"], math["bytes"], math["tokens"]) == (3, 60, 15)
    assert math["scaffold_hist"] == [1, 0, 0, 0, 0, 0, 0, 0, 0, 2]  # 1.0 falls in the last bin
    assert gen["scaffold_hist"] == [0, 1, 0, 0, 0, 0, 0, 0, 0, 0]
    assert math["share_documents"] == 0.75 and math["share_bytes"] == 0.6 and math["share_tokens"] == 0.6
    assert code == {
        "documents": 0,
        "bytes": 0,
        "share_documents": 0.0,
        "share_bytes": 0.0,
        "scaffold_mean": None,
        "scaffold_hist": [0] * 10,
        "tokens": 0,
        "share_tokens": 0.0,
    }
    assert stats["duplicate_ids"] == 0


def test_bad_input_is_summed_with_examples(tagged):
    bad = compute_stats(tagged)["bad_input"]
    assert bad["total"] == 4 and bad["counts"] == {"empty_text": 3, "malformed_json": 1}
    assert [(e["file"], e["line"]) for e in bad["examples"]] == [
        ("a.jsonl", 9),
        ("a.jsonl", 10),
        ("b.jsonl", 1),
        ("b.jsonl", 3),
    ]


def test_cli_prints_a_complete_folder_and_refuses_one_without_manifest(tagged, capsys):
    with pytest.raises(DataError, match="no manifest.json.*rerun the same `tracemix tag`"):
        main([str(tagged)])
    write_manifest(tagged, "tagged", {"test": 1}, skip=("logs",))
    assert main([str(tagged)]) == 0
    out = capsys.readouterr().out
    assert "math_text" in out and "malformed_json=1" in out and "a.jsonl:9" in out
    assert main([str(tagged), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["domains"]["general"]["documents"] == 1


def test_duplicate_ids_and_errors(tagged, tmp_path_factory):
    row = _row(0, "general", 0.5, 5, 1)
    pq.write_table(pa.Table.from_pylist([row], schema=tagged_schema(True)), tagged / "00002.parquet")
    assert write_stats(tagged)["duplicate_ids"] == 1
    empty = tmp_path_factory.mktemp("empty")
    with pytest.raises(DataError, match="no Parquet shards"):
        compute_stats(empty)
    with pytest.raises(DataError, match="not a folder"):
        main([str(empty / "nope")])
