"""Replays: a folder input loses no valid document silently.

JSONL named `.json`, `.json.gz`, subfolders, symlinked folders and a UTF-8 BOM are read; a truncated `.gz`
or `.zst` is reported by name with how far it got while the rest of the task goes on; every other file is
listed with its reason in stats.json and on screen; a 20 MB document is kept unless a size limit is asked.
"""

from __future__ import annotations

import gzip
import json
import os

import zstandard

from curation.tagging.readers import resolve_input
from tracemix import cli

BOM = b"\xef\xbb\xbf"


def lines(ids: list[str]) -> bytes:
    return b"".join(json.dumps({"id": i, "text": f"The river flows past {i}."}).encode() + b"\n" for i in ids)


def array(ids: list[str]) -> bytes:
    return json.dumps([{"id": i, "text": f"A story about {i}."} for i in ids]).encode()


def test_every_file_of_a_folder_is_read_or_listed(tmp_path, capsys):
    raw, elsewhere = tmp_path / "raw", tmp_path / "elsewhere"
    (raw / "sub" / "deeper").mkdir(parents=True)
    elsewhere.mkdir()
    (raw / "named.json").write_bytes(lines(["named1", "named2"]))  # JSONL under a .json name
    (raw / "arr.json.gz").write_bytes(gzip.compress(array(["arr1", "arr2"])))
    (raw / "lines.json.gz").write_bytes(gzip.compress(lines(["gz1", "gz2"])))
    (raw / "sub" / "deeper" / "c.jsonl").write_bytes(lines(["deep"]))
    (raw / "bom.jsonl").write_bytes(BOM + lines(["bom1", "bom2"]))
    (raw / "bom_arr.json").write_bytes(BOM + array(["bomarr"]))
    (raw / "noext").write_bytes(lines(["noext"]))
    (elsewhere / "e.jsonl").write_bytes(lines(["linked"]))
    os.symlink(elsewhere, raw / "linked")
    os.symlink(raw, raw / "sub" / "loop")  # a loop is listed, not followed
    big = [f"t{i}" for i in range(20_000)]  # several zstd blocks
    gz, zst = gzip.compress(lines(big)), zstandard.ZstdCompressor().compress(lines(big))
    (raw / "trunc.jsonl.gz").write_bytes(gz[: len(gz) // 2])
    (raw / "trunc.jsonl.zst").write_bytes(zst[: len(zst) // 2])
    (raw / "readme.txt").write_text("How this folder was made.\n")
    (raw / "notes.json").write_text('{"collected_by": "me"}')
    (raw / ".hidden.jsonl").write_bytes(lines(["hidden"]))

    out = tmp_path / "tagged"
    assert cli.main(["tag", "--input", str(raw), "--output", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    stats = json.loads((out / "stats.json").read_text())
    bad = stats["bad_input"]

    # the truncated files are named with how far they got, and the same task read everything else
    unreadable = {e["file"]: e for e in bad["examples"] if e["reason"] == "unreadable_file"}
    assert set(unreadable) == {"trunc.jsonl.gz", "trunc.jsonl.zst"} and bad["counts"]["unreadable_file"] == 2
    got = {f: e["line"] for f, e in unreadable.items()}
    assert all(0 < n < 20_000 for n in got.values())
    assert "truncated or corrupt after line/row" in unreadable["trunc.jsonl.gz"]["detail"]
    assert "ended inside a frame" in unreadable["trunc.jsonl.zst"]["detail"]
    assert stats["documents"] == 12 + sum(got.values())  # nothing but the broken tails is lost
    assert "malformed_json" not in bad["counts"]  # the BOMs were read, not counted as broken lines

    skipped = {s["file"]: s["reason"] for s in bad["skipped_files"]}
    assert skipped == {
        ".hidden.jsonl": "hidden file",
        "notes.json": "a single JSON object without 'text' (metadata, not records); pass --text-key if it is a record",
        "readme.txt": "not JSONL, a JSON array or Parquet (starts with 'How this folder was made')",
        "sub/loop/": f"symlink to a folder already read ({os.path.realpath(raw)})",
    }
    assert "files not read (4;" in printed and "readme.txt  not JSONL" in printed

    import polars as pl

    ids = set(pl.read_parquet(sorted(out.glob("*.parquet")))["id"])
    assert {"named1", "arr2", "gz2", "deep", "bom1", "bomarr", "noext", "linked", "t1"} <= ids
    assert "hidden" not in ids


def test_a_20_mb_document_is_kept_unless_a_limit_is_asked(tmp_path):
    text = "word " * (4 * 2**20)  # 20 MB
    (tmp_path / "big.jsonl").write_text(json.dumps({"id": "big", "text": text}) + "\n"
                                        + json.dumps({"id": "small", "text": "tiny"}) + "\n")
    docs = list(resolve_input(str(tmp_path / "big.jsonl")).run())
    assert [d.id for d in docs] == ["big", "small"] and len(docs[0].text) == len(text)
    limited = resolve_input(str(tmp_path / "big.jsonl"), max_doc_bytes=2**20)
    assert [d.id for d in limited.run()] == ["small"] and limited.stats["bad_input/too_large"].total == 1
