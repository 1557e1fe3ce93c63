"""Input readers for `tracemix tag`: JSONL (.gz/.zst), Parquet, ShareGPT JSON, chat JSONL, Hugging Face.

Every reader is a datatrove reader, so it shards files across tasks and pickles for Slurm/Ray. Bad records
never stop a run: each one is counted per reason (a `bad_input/<reason>` stat) and listed with its file and
line (capped) in `<bad_input_folder>/<rank>.json`, which `tracemix stats` sums up.
"""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

from datatrove.data import Document, DocumentsPipeline
from datatrove.io import DataFolderLike, get_datafolder
from datatrove.pipeline.readers.base import BaseDiskReader
from datatrove.pipeline.readers.huggingface import HuggingFaceDatasetReader

from tracemix.errors import DataError

# A single document this large is a dump, not a sample: it would dominate token budgets and stall tokenizers.
DEFAULT_MAX_DOC_BYTES = 10 * 2**20
MAX_EXAMPLES = 20  # file:line examples kept per reason and task
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".jsonl.zst", ".ndjson")
PARQUET_SUFFIXES = (".parquet",)
JSON_SUFFIXES = (".json",)
SUPPORTED_SUFFIXES = JSONL_SUFFIXES + PARQUET_SUFFIXES + JSON_SUFFIXES
# ShareGPT speaker names -> chat roles
ROLE_MAP = {"human": "user", "user": "user", "gpt": "assistant", "chatgpt": "assistant", "assistant": "assistant",
            "bing": "assistant", "bard": "assistant", "model": "assistant", "system": "system"}
CHAT_KEYS = ("messages", "conversations")
_SKIP_NAMES = {"manifest.json", "stats.json"}
# NUL and the C0 controls other than tab/newline/carriage return break tokenizers and viewers
CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufeff]")
_VISIBLE = re.compile("[^\\s\x00-\x08\x0b\x0c\x0e-\x1f\ufeff]")  # stops at the first real character


class BadRecord(Exception):
    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason, self.detail = reason, detail


def normalise_messages(turns: Any) -> list[dict[str, str]]:
    """`messages` ({role, content}) or ShareGPT `conversations` ({from, value}) -> [{role, content}]."""
    if not isinstance(turns, list) or not turns:
        raise BadRecord("malformed_chat", "chat turns must be a non-empty list")
    out = []
    for i, turn in enumerate(turns):
        if not isinstance(turn, dict):
            raise BadRecord("malformed_chat", f"turn {i} is {type(turn).__name__}, expected an object")
        speaker = turn.get("role", turn.get("from"))
        content = turn.get("content", turn.get("value"))
        role = ROLE_MAP.get(str(speaker).lower())
        if role is None or not isinstance(content, str):
            raise BadRecord("malformed_chat", f"turn {i} has role={speaker!r} and content of type "
                                              f"{type(content).__name__}; expected a known role and a string")
        out.append({"role": role, "content": content})
    return out


def flatten_messages(messages: list[dict[str, str]]) -> str:
    """A conversation as one text, classified as a whole: 'role: content' turns joined by blank lines."""
    return "\n\n".join(f"{m['role']}: {m['content']}" for m in messages)


class BadInputLog:
    """Counts of bad records per reason plus the first few file:line examples of each."""

    def __init__(self, max_examples: int = MAX_EXAMPLES):
        self.max_examples = max_examples
        self.counts: Counter[str] = Counter()
        self.examples: list[dict[str, Any]] = []

    def add(self, reason: str, file: str, line: int | str, detail: str) -> None:
        self.counts[reason] += 1
        if self.counts[reason] <= self.max_examples:
            self.examples.append({"reason": reason, "file": file, "line": line, "detail": detail[:300]})

    def to_dict(self) -> dict[str, Any]:
        return {"counts": dict(sorted(self.counts.items())), "examples": self.examples}


class _RecordsMixin:
    """Record -> Document with bad-input accounting; shared by the disk and Hugging Face readers."""

    text_key: str
    id_key: str

    def _init_records(self, max_doc_bytes: int, bad_input_folder: DataFolderLike | None, source: str | None):
        self.max_doc_bytes = max_doc_bytes
        self.bad_input_folder = bad_input_folder
        self.source = source
        self._bad = BadInputLog()

    def _bad_record(self, reason: str, file: str, line: int | str, detail: str) -> None:
        self._bad.add(reason, file, line, detail)
        self.stat_update(f"bad_input/{reason}")

    def _has_text_field(self, record: dict) -> bool:
        return self.text_key in record or any(isinstance(record.get(k), list) for k in CHAT_KEYS)

    def _record_to_document(self, record: Any, file: str, line: int | str, source: str) -> Document:
        """Raise BadRecord for anything that is not a usable document."""
        if not isinstance(record, dict):
            raise BadRecord("malformed_json", f"expected a JSON object, got {type(record).__name__}")
        record = dict(record)
        text = record.pop(self.text_key, None)
        messages = None
        if text is None:
            chat_key = next((k for k in CHAT_KEYS if isinstance(record.get(k), list)), None)
            if chat_key is None:
                raise BadRecord("missing_text", f"no '{self.text_key}' field (keys: {sorted(record)[:12]})")
            messages = normalise_messages(record.pop(chat_key))
            text = flatten_messages(messages)
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError as err:
                raise BadRecord("invalid_utf8", str(err)) from None
        if not isinstance(text, str):
            raise BadRecord("missing_text", f"'{self.text_key}' is {type(text).__name__}, expected a string")
        if not _VISIBLE.search(text) or (messages is not None and not any(_VISIBLE.search(m["content"])
                                                                          for m in messages)):
            raise BadRecord("empty_text", "text is empty or whitespace only")
        n_bytes = len(text.encode("utf-8", "surrogatepass"))
        if n_bytes > self.max_doc_bytes:
            raise BadRecord("too_large", f"{n_bytes} bytes > max_doc_bytes={self.max_doc_bytes}")
        doc_id = record.pop(self.id_key, None)
        metadata = {k: v for k, v in record.items() if k != "metadata"}
        metadata["source"] = str(record.get("source") or source)
        if messages is not None:
            metadata["messages"] = messages
        return Document(text=text, id=str(doc_id) if doc_id is not None else f"{file}:{line}", metadata=metadata)

    def _convert(self, record: Any, file: str, line: int | str, source: str) -> Document | None:
        try:
            return self._record_to_document(record, file, line, source)
        except BadRecord as bad:
            self._bad_record(bad.reason, file, line, bad.detail)
            return None

    def _save_bad_input(self, rank: int) -> None:
        if self.bad_input_folder is None:
            return
        folder = get_datafolder(self.bad_input_folder)
        name = f"{rank:05d}.json"
        if folder.is_local():
            from tracemix.atomic import write_json

            write_json(folder.resolve_paths(name), self._bad.to_dict())
        else:
            with folder.open(name, "w") as f:
                json.dump(self._bad.to_dict(), f)


def _suffix_of(path: str) -> str | None:
    return next((s for s in SUPPORTED_SUFFIXES if path.lower().endswith(s)), None)


class RecordReader(_RecordsMixin, BaseDiskReader):
    """Reads JSONL (plain/.gz/.zst), Parquet and ShareGPT JSON arrays, picking the format from each file name.

    `files` (relative to `data_folder`) fixes the file list; without it every supported file below the folder
    is read. Records with a `messages` or ShareGPT `conversations` list become chats: `text` is the flattened
    conversation and `metadata["messages"]` keeps the turns.
    """

    name = "📖 tracemix records"
    _requires_dependencies = ["orjson", "pyarrow"]

    def __init__(self, data_folder: DataFolderLike, files: list[str] | None = None, text_key: str = "text",
                 id_key: str = "id", limit: int = -1, max_doc_bytes: int = DEFAULT_MAX_DOC_BYTES,
                 bad_input_folder: DataFolderLike | None = None, source: str | None = None,
                 doc_progress: bool = False, file_progress: bool = False):
        super().__init__(data_folder, limit=limit, text_key=text_key, id_key=id_key, doc_progress=doc_progress,
                         file_progress=file_progress, add_file_path=False)
        self.files = sorted(files) if files is not None else None
        self._init_records(max_doc_bytes, bad_input_folder, source)

    def list_input_files(self) -> list[str]:
        if self.files is not None:
            return self.files
        return [f for f in self.data_folder.list_files(recursive=True) if _suffix_of(f)]

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if data:
            yield from data
        shard = self.list_input_files()[rank::world_size]
        for doc in self.read_files_shard(shard):
            self.update_doc_stats(doc)
            yield doc
        self._save_bad_input(rank)

    def read_file(self, filepath: str) -> DocumentsPipeline:
        suffix = _suffix_of(filepath)
        source = self.source or Path(filepath).name.split(".")[0]
        n_records = n_with_text = 0
        for line, record in self._iter_records(filepath, suffix):
            if isinstance(record, dict):
                n_records += 1
                n_with_text += self._has_text_field(record)
            with self.track_time():
                doc = self._convert(record, filepath, line, source)
            if doc is not None:
                yield doc
        if n_records and not n_with_text:
            raise missing_text_error(self.text_key, self.data_folder.resolve_paths(filepath), n_records,
                                     self._last_keys)

    def _iter_records(self, filepath: str, suffix: str | None):
        self._last_keys: list[str] = []
        if suffix in PARQUET_SUFFIXES:
            yield from self._iter_parquet(filepath)
        elif suffix in JSON_SUFFIXES:
            yield from self._iter_json_array(filepath)
        else:
            yield from self._iter_jsonl(filepath)

    def _iter_jsonl(self, filepath: str):
        import orjson

        with self.data_folder.open(filepath, "rb", compression="infer") as f:
            # zstd streams only read(); a BufferedReader gives every codec the same line iteration
            lines = f if hasattr(f, "readline") and not filepath.endswith(".zst") else io.BufferedReader(f)
            for line_no, raw in enumerate(lines, start=1):
                if not raw.strip():
                    continue  # blank lines separate nothing and hold nothing
                try:
                    record = orjson.loads(raw)  # validates UTF-8 too; we only tell the two apart on failure
                except orjson.JSONDecodeError as err:
                    try:
                        raw.decode("utf-8")
                    except UnicodeDecodeError as uerr:
                        self._bad_record("invalid_utf8", filepath, line_no, f"{uerr.reason} at byte {uerr.start}")
                    else:
                        self._bad_record("malformed_json", filepath, line_no, str(err))
                    continue
                if isinstance(record, dict) and not self._last_keys:
                    self._last_keys = sorted(record)
                yield line_no, record

    def _iter_parquet(self, filepath: str):
        import pyarrow.parquet as pq

        with self.data_folder.open(filepath, "rb") as f, pq.ParquetFile(f) as pqf:
            self._last_keys = list(pqf.schema_arrow.names)
            row = 0
            for batch in pqf.iter_batches(batch_size=1000):
                for record in batch.to_pylist():
                    row += 1
                    yield row, record

    def _iter_json_array(self, filepath: str):
        import orjson

        with self.data_folder.open(filepath, "rb") as f:
            raw = f.read()
        try:
            records = orjson.loads(raw)
        except orjson.JSONDecodeError as err:
            # one broken byte spoils the whole array: count it and go on with the other files
            self._bad_record("malformed_json", filepath, getattr(err, "lineno", 0), f"whole file unreadable: {err}")
            return
        if not isinstance(records, list):
            raise DataError(f"{self.data_folder.resolve_paths(filepath)}: a .json input must be an array of "
                            f"records (ShareGPT style), found a {type(records).__name__}. Use JSONL for one "
                            "record per line.")
        for record in records[:1]:
            if isinstance(record, dict):
                self._last_keys = sorted(record)
        # a record index stands in for the line number in a JSON array
        yield from enumerate(records, start=1)


def missing_text_error(text_key: str, path: str, n_records: int, keys: list[str]) -> DataError:
    return DataError(f"{path}: none of its {n_records} records has the text field '{text_key}' (nor a "
                     f"'messages'/'conversations' chat); keys found: {keys[:20]}. Pass --text-key with the "
                     "field that holds the text.")


class HFRecordReader(_RecordsMixin, HuggingFaceDatasetReader):
    """A Hugging Face dataset (streamed with `datasets.load_dataset`) with the same record handling."""

    name = "🤗 tracemix records"

    def __init__(self, dataset: str, config: str | None = None, split: str = "train", text_key: str = "text",
                 id_key: str = "id", limit: int = -1, max_doc_bytes: int = DEFAULT_MAX_DOC_BYTES,
                 bad_input_folder: DataFolderLike | None = None, streaming: bool = True):
        options = {"split": split} | ({"name": config} if config else {})
        super().__init__(dataset, dataset_options=options, streaming=streaming, limit=limit, text_key=text_key,
                         id_key=id_key)
        self._init_records(max_doc_bytes, bad_input_folder, dataset)

    def get_document_from_dict(self, data: dict, source_file: str, id_in_file: int | str):
        return self._convert(data, source_file, id_in_file, self.dataset)

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        yield from super().run(data, rank, world_size)
        self._save_bad_input(rank)


def parse_hf_spec(spec: str) -> tuple[str, str | None, str]:
    """'hf:ORG/NAME[:CONFIG][:SPLIT]' -> (name, config, split); one extra part that names a split is a split."""
    parts = spec.removeprefix("hf:").split(":")
    if not parts[0] or len(parts) > 3:
        raise DataError(f"bad dataset spec '{spec}': expected hf:ORG/NAME[:CONFIG][:SPLIT]")
    name, config, split = parts[0], None, "train"
    if len(parts) == 2:
        if parts[1].split("[")[0] in ("train", "test", "validation", "valid", "dev"):
            split = parts[1]
        else:
            config = parts[1] or None
    elif len(parts) == 3:
        config, split = parts[1] or None, parts[2] or "train"
    return name, config, split


def _is_json_array(path: Path) -> bool:
    with open(path, "rb") as f:
        head = f.read(4096).lstrip()
    return head.startswith(b"[")


def resolve_input(spec: str, text_key: str = "text", limit: int = -1,
                  max_doc_bytes: int = DEFAULT_MAX_DOC_BYTES, bad_input_folder: DataFolderLike | None = None,
                  check: bool = True) -> RecordReader | HFRecordReader:
    """`--input` -> a datatrove reader. Local files are listed (and their text key checked) up front."""
    if spec.startswith("hf:"):
        name, config, split = parse_hf_spec(spec)
        return HFRecordReader(name, config, split, text_key=text_key, limit=limit, max_doc_bytes=max_doc_bytes,
                              bad_input_folder=bad_input_folder)
    path = Path(spec).expanduser()
    if not path.exists():
        raise DataError(f"input '{spec}' does not exist (expected a file or folder of JSONL/Parquet/JSON, "
                        "or hf:ORG/NAME[:CONFIG][:SPLIT])")
    if path.is_file():
        if not _suffix_of(path.name):
            raise DataError(f"input '{spec}' has an unsupported extension; supported: {list(SUPPORTED_SUFFIXES)}")
        folder, files = path.parent, [path.name]
    else:
        folder = path
        files = []
        for p in sorted(path.rglob("*")):
            rel = p.relative_to(path)
            if not p.is_file() or not _suffix_of(p.name) or any(part.startswith((".", "_")) for part in rel.parts):
                continue
            # a data folder's own metadata (manifest.json, stats, datatrove logs) is not input
            if p.name in _SKIP_NAMES or rel.parts[0] == "logs" or (p.suffix == ".json" and not _is_json_array(p)):
                continue
            files.append(rel.as_posix())
        if not files:
            raise DataError(f"input folder '{spec}' holds no supported files ({', '.join(SUPPORTED_SUFFIXES)})")
    reader = RecordReader(str(folder.resolve()), files=files, text_key=text_key, limit=limit,
                          max_doc_bytes=max_doc_bytes, bad_input_folder=bad_input_folder)
    if check:
        check_text_key(reader)
    return reader


def check_text_key(reader: RecordReader, max_files: int = 32, max_records: int = 100) -> None:
    """Fail before any work when the first records of a file all lack the text field."""
    for filepath in reader.list_input_files()[:max_files]:
        probe = RecordReader(reader.data_folder, files=[filepath], text_key=reader.text_key,
                             id_key=reader.id_key)
        n_records = n_with_text = 0
        for _, record in probe._iter_records(filepath, _suffix_of(filepath)):
            if not isinstance(record, dict):
                continue
            n_records += 1
            n_with_text += probe._has_text_field(record)
            if n_with_text or n_records >= max_records:
                break
        if n_records and not n_with_text:
            raise missing_text_error(reader.text_key, reader.data_folder.resolve_paths(filepath), n_records,
                                     probe._last_keys)
