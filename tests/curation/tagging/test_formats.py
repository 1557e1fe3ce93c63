import gzip

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from curation.tagging.formats import JSON_ARRAY, JSONL, PARQUET, FileFormat, NotInput, format_from_name, sniff

ROW = b'{"id": "a", "text": "hello"}\n'


@pytest.mark.parametrize(("name", "data", "expected"), [
    ("x.json", ROW * 2, FileFormat(JSONL)),  # JSONL under a .json name
    ("x.txt", b"\xef\xbb\xbf" + ROW, FileFormat(JSONL)),  # content decides, a BOM is allowed
    ("x", b'  [{"text": "a"}]', FileFormat(JSON_ARRAY)),
    ("x.json.gz", gzip.compress(b'[{"text": "a"}]', mtime=0), FileFormat(JSON_ARRAY, "gzip")),
    ("x.data", zstandard.ZstdCompressor().compress(ROW), FileFormat(JSONL, "zstd")),  # magic, not the name
    ("one.json", b'{"text": "a single record"}', FileFormat(JSONL)),
], ids=["jsonl-named-json", "bom", "array", "json-gz", "zstd-magic", "one-record"])
def test_sniff_by_content(tmp_path, name, data, expected):
    (tmp_path / name).write_bytes(data)
    assert sniff(tmp_path / name) == expected


def test_sniff_parquet_and_long_first_records(tmp_path):
    pq.write_table(pa.table({"text": ["a"]}), tmp_path / "p.bin")
    assert sniff(tmp_path / "p.bin") == FileFormat(PARQUET)
    (tmp_path / "long.jsonl").write_bytes(b'{"text": "' + b"x" * 200_000 + b'"}\n')
    assert sniff(tmp_path / "long.jsonl") == FileFormat(JSONL)


@pytest.mark.parametrize(("data", "reason"), [
    (b"", "empty file"),
    (b'{"version": 2}', "a single JSON object without 'text'"),
    (b'{\n  "version": 2\n}\n', "one pretty-printed JSON object"),
    (b"id,text\n1,a\n", "not JSONL, a JSON array or Parquet (starts with 'id,text"),
    (b"\x1f\x8bgarbage, not deflate", "unreadable gzip data"),
], ids=["empty", "object", "pretty", "csv", "bad-gzip"])
def test_sniff_names_what_is_not_records(tmp_path, data, reason):
    (tmp_path / "f").write_bytes(data)
    with pytest.raises(NotInput, match=reason.replace("(", r"\(")):
        sniff(tmp_path / "f")


def test_a_stream_broken_before_its_first_block_is_left_to_the_reader(tmp_path):
    (tmp_path / "t.jsonl.gz").write_bytes(gzip.compress(ROW * 100)[:12])  # the reader reports "after line 0"
    assert sniff(tmp_path / "t.jsonl.gz") == FileFormat(JSONL, "gzip")


def test_format_from_name():
    assert format_from_name("a.jsonl.zst") == FileFormat(JSONL, "zstd")
    assert format_from_name("a.json.gz") == FileFormat(JSON_ARRAY, "gzip")
    assert format_from_name("a.csv") is None
