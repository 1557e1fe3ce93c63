import gzip
import json
import pickle

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from curation.tagging.readers import RecordReader, parse_hf_spec, resolve_input
from tracemix.errors import DataError

RECORDS = [
    {"id": "a", "text": "def f():\n    return 1\n", "source": "s"},
    {"id": "b", "text": "The river flows.", "source": "s"},
]


def _jsonl(records) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in records)


def _read(reader):
    return list(reader.run())


@pytest.mark.parametrize(
    "name,pack",
    [
        ("x.jsonl", lambda b: b),
        ("x.jsonl.gz", gzip.compress),
        ("x.jsonl.zst", lambda b: zstandard.ZstdCompressor().compress(b)),
    ],
)
def test_jsonl_plain_and_compressed(tmp_path, name, pack):
    (tmp_path / name).write_bytes(pack(_jsonl(RECORDS)))
    docs = _read(resolve_input(str(tmp_path / name)))
    assert [(d.id, d.text, d.metadata["source"]) for d in docs] == [
        (r["id"], r["text"], "s") for r in RECORDS
    ]


def test_parquet(tmp_path):
    pq.write_table(pa.Table.from_pylist(RECORDS), tmp_path / "x.parquet")
    docs = _read(resolve_input(str(tmp_path / "x.parquet")))
    assert [d.text for d in docs] == [r["text"] for r in RECORDS]


def test_sharegpt_json_array(tmp_path):
    data = [
        {
            "id": "c1",
            "conversations": [
                {"from": "system", "value": "Be brief."},
                {"from": "human", "value": "What is 2+2?"},
                {"from": "gpt", "value": "4"},
            ],
        },
        {
            "id": "c2",
            "conversations": [
                {"from": "user", "value": "hi"},
                {"from": "bing", "value": "hello"},
                {"from": "chatgpt", "value": "bye"},
            ],
        },
    ]
    (tmp_path / "sg.json").write_text(json.dumps(data))
    docs = _read(resolve_input(str(tmp_path / "sg.json")))
    assert docs[0].metadata["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "What is 2+2?"},
        {"role": "assistant", "content": "4"},
    ]
    assert docs[0].text == "system: Be brief.\n\nuser: What is 2+2?\n\nassistant: 4"
    assert [m["role"] for m in docs[1].metadata["messages"]] == ["user", "assistant", "assistant"]
    assert docs[0].metadata["source"] == "sg"  # file stem when the record names no source


def test_messages_jsonl(tmp_path):
    rec = {
        "id": "m",
        "messages": [{"role": "user", "content": "x = 1?"}, {"role": "assistant", "content": "yes"}],
        "source": "chat",
    }
    (tmp_path / "c.jsonl").write_text(json.dumps(rec) + "\n")
    (doc,) = _read(resolve_input(str(tmp_path / "c.jsonl")))
    assert doc.text == "user: x = 1?\n\nassistant: yes" and doc.metadata["messages"] == rec["messages"]


def test_text_key_and_default_ids(tmp_path):
    (tmp_path / "x.jsonl").write_text('{"content": "hello"}\n{"content": "world"}\n')
    docs = _read(resolve_input(str(tmp_path / "x.jsonl"), text_key="content"))
    assert [(d.id, d.text) for d in docs] == [("x.jsonl:1", "hello"), ("x.jsonl:2", "world")]


def test_bad_input_is_counted_with_file_and_line(tmp_path):
    big = "x" * (20 * 2**20)  # a 20 MB document
    lines = [
        json.dumps({"id": "ok1", "text": "good one"}).encode(),
        b'{"id": "broken", "text": ',  # 2 malformed JSON
        json.dumps({"id": "nt", "body": "no text field"}).encode(),  # 3 missing text
        json.dumps({"id": "e", "text": ""}).encode(),  # 4 empty
        json.dumps({"id": "w", "text": "  \n\t "}).encode(),  # 5 whitespace only
        b'{"id": "u", "text": "caf\xe9 \xff"}',  # 6 invalid UTF-8
        json.dumps({"id": "big", "text": big}).encode(),  # 7 too large
        json.dumps({"id": "nul", "text": "\u0000\u0000"}).encode(),  # 8 NULs only: empty
        json.dumps({"id": "ok2", "text": "good two"}).encode(),
    ]
    (tmp_path / "bad.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    out = tmp_path / "bad_input"
    reader = resolve_input(str(tmp_path / "bad.jsonl"), bad_input_folder=str(out), max_doc_bytes=10 * 2**20)
    docs = _read(reader)
    assert [d.id for d in docs] == ["ok1", "ok2"]
    log = json.loads((out / "00000.json").read_text())
    assert log["counts"] == {
        "empty_text": 3,
        "invalid_utf8": 1,
        "malformed_json": 1,
        "missing_text": 1,
        "too_large": 1,
    }
    assert [(e["reason"], e["file"], e["line"]) for e in log["examples"]] == [
        ("malformed_json", "bad.jsonl", 2),
        ("missing_text", "bad.jsonl", 3),
        ("empty_text", "bad.jsonl", 4),
        ("empty_text", "bad.jsonl", 5),
        ("invalid_utf8", "bad.jsonl", 6),
        ("too_large", "bad.jsonl", 7),
        ("empty_text", "bad.jsonl", 8),
    ]
    assert reader.stats["bad_input/empty_text"].total == 3
    assert "body" in log["examples"][1]["detail"]  # says which keys it did find


def test_missing_text_key_across_a_file_is_an_error(tmp_path):
    (tmp_path / "x.jsonl").write_text('{"id": 1, "content": "a"}\n{"id": 2, "content": "b"}\n')
    with pytest.raises(DataError, match=r"x\.jsonl.*'text'.*\['content', 'id'\].*--text-key"):
        resolve_input(str(tmp_path / "x.jsonl"))
    reader = resolve_input(str(tmp_path / "x.jsonl"), check=False)  # the run itself stops too
    with pytest.raises(DataError, match="'text'"):
        _read(reader)


def test_folder_skips_metadata_and_mixes_formats(tmp_path):
    (tmp_path / "a.jsonl").write_bytes(_jsonl(RECORDS[:1]))
    pq.write_table(pa.Table.from_pylist(RECORDS[1:]), tmp_path / "b.parquet")
    (tmp_path / "manifest.json").write_text('{"kind": "demo"}')
    (tmp_path / "notes.json").write_text('{"not": "an array"}')
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "x.jsonl").write_text('{"text": "a log, not input"}\n')
    reader = resolve_input(str(tmp_path))
    assert reader.list_input_files() == ["a.jsonl", "b.parquet"]
    assert sorted(d.id for d in _read(reader)) == ["a", "b"]


def test_shards_split_files_across_tasks(tmp_path):
    for i in range(3):
        (tmp_path / f"{i}.jsonl").write_bytes(_jsonl([{"id": str(i), "text": f"doc {i}"}]))
    reader = resolve_input(str(tmp_path))
    ids = [[d.id for d in pickle.loads(pickle.dumps(reader)).run(rank=r, world_size=2)] for r in (0, 1)]
    assert ids == [["0", "2"], ["1"]]


def test_missing_input_and_bad_extension(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        resolve_input(str(tmp_path / "nope"))
    (tmp_path / "x.csv").write_text("a,b\n")
    with pytest.raises(DataError, match=r"x\.csv': not JSONL, a JSON array or Parquet \(starts with 'a,b"):
        resolve_input(str(tmp_path / "x.csv"))
    with pytest.raises(DataError, match=r"holds no JSONL, JSON array or Parquet files \(skipped 1: x\.csv: not JSONL"):
        resolve_input(str(tmp_path))
    with pytest.raises(DataError, match="--max-doc-bytes must be a positive"):
        resolve_input(str(tmp_path / "x.csv"), max_doc_bytes=0)


def test_hf_spec():
    assert parse_hf_spec("hf:org/name") == ("org/name", None, "train")
    assert parse_hf_spec("hf:org/name:cfg") == ("org/name", "cfg", "train")
    assert parse_hf_spec("hf:org/name:test") == ("org/name", None, "test")
    assert parse_hf_spec("hf:org/name:cfg:validation") == ("org/name", "cfg", "validation")
    with pytest.raises(DataError):
        parse_hf_spec("hf:")


def test_reader_without_file_list_globs_supported(tmp_path):
    (tmp_path / "a.jsonl").write_bytes(_jsonl(RECORDS))
    (tmp_path / "readme.txt").write_text("not data")
    reader = RecordReader(str(tmp_path))
    assert reader.list_input_files() == ["a.jsonl"] and len(_read(reader)) == 2


def test_hf_spec_builds_a_streaming_reader_that_pickles():
    from curation.tagging.readers import HFRecordReader

    reader = resolve_input("hf:org/name:cfg:validation", text_key="content", limit=5)
    assert isinstance(reader, HFRecordReader)
    assert (reader.dataset, reader.dataset_options, reader.streaming) == (
        "org/name",
        {"split": "validation", "name": "cfg"},
        True,
    )
    clone = pickle.loads(pickle.dumps(reader))
    doc = clone.get_document_from_dict({"content": "hi", "id": 3}, "org/name", "00000/0")
    assert (doc.id, doc.text, doc.metadata["source"]) == ("3", "hi", "org/name")
    assert clone.get_document_from_dict({"content": " "}, "org/name", "00000/1") is None
    assert clone._bad.counts == {"empty_text": 1}
    fresh = pickle.loads(pickle.dumps(reader))  # a wrong text key shows in the first rows: stop there
    with pytest.raises(DataError, match=r"hf:org/name.*'content'.*\['body'\]"):
        for i in range(100):
            fresh.get_document_from_dict({"body": "x"}, "org/name", f"00000/{i}")


def test_broken_json_array_is_counted_and_the_rest_is_read(tmp_path):
    (tmp_path / "a.json").write_text(
        '[{"id": "1", "conversations": [{"from": "human", "value": "hi"}]},\n{"id": '
    )
    (tmp_path / "b.json").write_text(
        '[{"id": "2", "conversations": [{"from": "alien", "value": "?"}]}, {"id": "3", "text": "plain"}]'
    )
    reader = resolve_input(str(tmp_path), bad_input_folder=str(tmp_path / "bad"), check=False)
    assert [d.id for d in _read(reader)] == ["3"]
    log = json.loads((tmp_path / "bad" / "00000.json").read_text())
    assert log["counts"] == {"malformed_chat": 1, "malformed_json": 1}
    assert [(e["file"], e["line"]) for e in log["examples"]] == [("a.json", 2), ("b.json", 1)]
    (tmp_path / "obj.json").write_text('{"id": 1}')
    with pytest.raises(DataError, match="a single JSON object without 'text'"):
        _read(RecordReader(str(tmp_path), files=["obj.json"]))
