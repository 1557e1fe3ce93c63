"""What an input file holds, decided by its bytes as well as its name, and folder listings that skip nothing
silently.

`sniff(path, text_key)` reads at most the first 64 KiB (decompressed) of a file: Parquet by its `PAR1`
magic, gzip / zstd by theirs (whatever the extension), then a JSON array (`[`) or JSON lines (`{` on the
first line), after an optional UTF-8 byte-order mark. `scan_folder` walks a folder, following symlinked
folders (each real folder once), and returns every file either with its format or with the reason it is
not input; `tracemix tag` puts that list in `stats.json` and prints it.
"""

from __future__ import annotations

import os
import zlib
from dataclasses import dataclass
from pathlib import Path

PARQUET, JSONL, JSON_ARRAY = "parquet", "jsonl", "json"
GZIP, ZSTD = "gzip", "zstd"
BOM = b"\xef\xbb\xbf"
HEAD_BYTES = 1 << 16
METADATA_NAMES = {"manifest.json", "stats.json"}  # a tracemix folder's own files, not input
_MAGIC = {b"\x1f\x8b": GZIP, b"\x28\xb5\x2f\xfd": ZSTD}
_BY_NAME = ((".parquet", PARQUET), (".jsonl", JSONL), (".ndjson", JSONL), (".json", JSON_ARRAY))


@dataclass(frozen=True)
class FileFormat:
    kind: str  # parquet | jsonl | json (an array of records)
    compression: str | None = None  # gzip | zstd | None


class NotInput(Exception):
    """A file that is not records; `reason` says why (it is listed, never dropped silently)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def format_from_name(name: str) -> FileFormat | None:
    """The format a file name promises (for remote folders, which are not sniffed)."""
    low = name.lower()
    compression = GZIP if low.endswith(".gz") else ZSTD if low.endswith(".zst") else None
    base = low.removesuffix(".gz").removesuffix(".zst")
    kind = next((k for suffix, k in _BY_NAME if base.endswith(suffix)), None)
    return FileFormat(kind, compression) if kind else None


def decompressor(compression: str):
    """An incremental decompressor with `decompress(bytes)`, `eof` and `unused_data` (gzip or one zstd frame)."""
    if compression == GZIP:
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    import zstandard

    return zstandard.ZstdDecompressor().decompressobj()


def _head(path: Path, compression: str | None) -> tuple[bytes, bool]:
    """Up to HEAD_BYTES of the (decompressed) content and whether that is all of it. A truncated stream
    gives what it holds: the reader then reports how far the file got."""
    with open(path, "rb") as f:
        if compression is None:
            head = f.read(HEAD_BYTES + 1)
            return head[:HEAD_BYTES], len(head) <= HEAD_BYTES
        d, out = decompressor(compression), b""
        while len(out) <= HEAD_BYTES and not d.eof and (chunk := f.read(1 << 16)):
            out += d.decompress(chunk)
        return out[:HEAD_BYTES], d.eof and len(out) <= HEAD_BYTES and not f.read(1)


def sniff(path: str | os.PathLike, text_key: str = "text") -> FileFormat:
    """The format of a local file by content; NotInput with the reason when it holds no records."""
    import orjson

    from curation.tagging.records import CHAT_KEYS

    path = Path(path)
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic == b"PAR1":
        return FileFormat(PARQUET)
    compression = _MAGIC.get(magic[:2]) or _MAGIC.get(magic)
    try:
        head, whole = _head(path, compression)
    except (OSError, EOFError, ValueError, zlib.error) as err:  # zstandard's errors are ValueErrors
        raise NotInput(f"unreadable {compression or ''} data: {err}".replace("  ", " ")) from None
    body = head.removeprefix(BOM).lstrip()
    if not body and compression and not whole:  # broken off before its first block: the reader says where
        return FileFormat((format_from_name(path.name) or FileFormat(JSONL)).kind, compression)
    if not body:
        raise NotInput("empty file")
    if body[:1] == b"[":
        return FileFormat(JSON_ARRAY, compression)
    if body[:1] == b"{":
        if b"\n" not in body and not whole:
            return FileFormat(JSONL, compression)  # one record longer than the head: read it as a line
        first = body.split(b"\n", 1)[0]
        try:
            record = orjson.loads(first)
        except orjson.JSONDecodeError:
            record = None
        if isinstance(record, dict):
            has_text = text_key in record or any(isinstance(record.get(k), list) for k in CHAT_KEYS)
            if has_text or body[len(first):].strip():
                return FileFormat(JSONL, compression)  # a record, or several lines of them
            raise NotInput(f"a single JSON object without '{text_key}' (metadata, not records); "
                           "pass --text-key if it is a record")
        if whole:
            try:
                orjson.loads(body)
            except orjson.JSONDecodeError:
                pass
            else:
                raise NotInput("one pretty-printed JSON object, not JSON lines or an array of records")
        raise NotInput("not JSON lines: the first line is not a JSON object")
    shown = body[:24].decode("utf-8", "replace")
    raise NotInput(f"not JSONL, a JSON array or Parquet (starts with {shown!r})")


def scan_folder(root: str | os.PathLike, text_key: str = "text") -> tuple[dict[str, FileFormat], list[dict]]:
    """(files relative to `root` -> format, skipped [{"file", "reason"}]), both sorted by path.

    Symlinked folders are followed (a loop is listed, not followed); hidden or `_`-prefixed entries, a
    tagged folder's `logs/` and `manifest.json`/`stats.json` are listed as skipped with their reason.
    """
    root = Path(root)
    files: dict[str, FileFormat] = {}
    skipped: list[dict] = []
    seen = {os.path.realpath(root)}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        here = Path(dirpath)
        rel_dir = here.relative_to(root)
        keep = []
        for d in sorted(dirnames):
            rel = (rel_dir / d).as_posix()
            real = os.path.realpath(here / d)
            if d.startswith((".", "_")):
                skipped.append({"file": rel + "/", "reason": "hidden folder"})
            elif rel == "logs":
                skipped.append({"file": rel + "/", "reason": "a tagged folder's datatrove logs"})
            elif real in seen:
                skipped.append({"file": rel + "/", "reason": f"symlink to a folder already read ({real})"})
            else:
                seen.add(real)
                keep.append(d)
        dirnames[:] = keep
        for name in sorted(filenames):
            rel = (rel_dir / name).as_posix()
            if name.startswith((".", "_")):
                skipped.append({"file": rel, "reason": "hidden file"})
            elif name in METADATA_NAMES:
                skipped.append({"file": rel, "reason": "a tracemix folder's metadata"})
            elif not (here / name).is_file():
                skipped.append({"file": rel, "reason": "not a regular file (broken link, FIFO or device)"})
            else:
                try:
                    files[rel] = sniff(here / name, text_key)
                except NotInput as err:
                    skipped.append({"file": rel, "reason": err.reason})
                except OSError as err:
                    skipped.append({"file": rel, "reason": f"cannot be opened: {err.strerror or err}"})
    return dict(sorted(files.items())), sorted(skipped, key=lambda s: s["file"])
