"""Input readers for `tracemix tag`: JSONL (.gz/.zst), Parquet, ShareGPT JSON, chat JSONL, Hugging Face.

Every reader is a datatrove reader, so it shards files across tasks and pickles for Slurm/Ray. Bad records
never stop a run: each one is counted per reason (a `bad_input/<reason>` stat) and listed with its file and
line (capped) in `<bad_input_folder>/<rank>.json`, which `tracemix stats` sums up.
"""

from __future__ import annotations

import io
from pathlib import Path

from datatrove.data import DocumentsPipeline
from datatrove.io import DataFolderLike
from datatrove.pipeline.readers.base import BaseDiskReader
from datatrove.pipeline.readers.huggingface import HuggingFaceDatasetReader

from curation.tagging.records import DEFAULT_MAX_DOC_BYTES, RecordsMixin
from tracemix.errors import DataError

JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".jsonl.zst", ".ndjson")
PARQUET_SUFFIXES = (".parquet",)
JSON_SUFFIXES = (".json",)
SUPPORTED_SUFFIXES = JSONL_SUFFIXES + PARQUET_SUFFIXES + JSON_SUFFIXES
_SKIP_NAMES = {"manifest.json", "stats.json"}  # a data folder's own metadata, not input
HF_PROBE_ROWS = 100  # rows of a Hugging Face dataset that must show the text field at least once


def _suffix_of(path: str) -> str | None:
    return next((s for s in SUPPORTED_SUFFIXES if path.lower().endswith(s)), None)


class RecordReader(RecordsMixin, BaseDiskReader):
    """Reads JSONL (plain/.gz/.zst), Parquet and ShareGPT JSON arrays, picking the format from each file name.

    `files` (relative to `data_folder`) fixes the file list; without it every supported file below the folder
    is read. Records with a `messages` or ShareGPT `conversations` list become chats: `text` is the flattened
    conversation and `metadata["messages"]` keeps the turns.
    """

    name = "📖 tracemix records"
    _requires_dependencies = ["orjson", "pyarrow"]

    def __init__(
        self,
        data_folder: DataFolderLike,
        files: list[str] | None = None,
        text_key: str = "text",
        id_key: str = "id",
        limit: int = -1,
        max_doc_bytes: int = DEFAULT_MAX_DOC_BYTES,
        bad_input_folder: DataFolderLike | None = None,
        source: str | None = None,
        doc_progress: bool = False,
        file_progress: bool = False,
    ):
        super().__init__(
            data_folder,
            limit=limit,
            text_key=text_key,
            id_key=id_key,
            doc_progress=doc_progress,
            file_progress=file_progress,
            add_file_path=False,
        )
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
            raise missing_text_error(
                self.text_key, self.data_folder.resolve_paths(filepath), n_records, self._last_keys
            )

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
                        self._bad_record(
                            "invalid_utf8", filepath, line_no, f"{uerr.reason} at byte {uerr.start}"
                        )
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
            self._bad_record(
                "malformed_json", filepath, getattr(err, "lineno", 0), f"whole file unreadable: {err}"
            )
            return
        if not isinstance(records, list):
            raise DataError(
                f"{self.data_folder.resolve_paths(filepath)}: a .json input must be an array of "
                f"records (ShareGPT style), found a {type(records).__name__}. Use JSONL for one "
                "record per line."
            )
        for record in records[:1]:
            if isinstance(record, dict):
                self._last_keys = sorted(record)
        # a record index stands in for the line number in a JSON array
        yield from enumerate(records, start=1)


def missing_text_error(text_key: str, path: str, n_records: int, keys: list[str]) -> DataError:
    return DataError(
        f"{path}: none of its {n_records} records has the text field '{text_key}' (nor a "
        f"'messages'/'conversations' chat); keys found: {keys[:20]}. Pass --text-key with the "
        "field that holds the text."
    )


class HFRecordReader(RecordsMixin, HuggingFaceDatasetReader):
    """A Hugging Face dataset (streamed with `datasets.load_dataset`) with the same record handling."""

    name = "🤗 tracemix records"

    def __init__(
        self,
        dataset: str,
        config: str | None = None,
        split: str = "train",
        text_key: str = "text",
        id_key: str = "id",
        limit: int = -1,
        max_doc_bytes: int = DEFAULT_MAX_DOC_BYTES,
        bad_input_folder: DataFolderLike | None = None,
        streaming: bool = True,
    ):
        options = {"split": split} | ({"name": config} if config else {})
        super().__init__(
            dataset,
            dataset_options=options,
            streaming=streaming,
            limit=limit,
            text_key=text_key,
            id_key=id_key,
        )
        self._init_records(max_doc_bytes, bad_input_folder, dataset)
        self._n_probe = self._n_probe_text = 0

    def get_document_from_dict(self, data: dict, source_file: str, id_in_file: int | str):
        # a dataset is one "file": if its first rows all lack the text field, the key is wrong
        if self._n_probe < HF_PROBE_ROWS:
            self._n_probe += 1
            self._n_probe_text += isinstance(data, dict) and self._has_text_field(data)
            if self._n_probe == HF_PROBE_ROWS and not self._n_probe_text:
                raise missing_text_error(self.text_key, f"hf:{self.dataset}", self._n_probe, sorted(data))
        return self._convert(data, source_file, id_in_file, self.dataset)

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        yield from super().run(data, rank, world_size)
        self._save_bad_input(rank)


def parse_hf_spec(spec: str) -> tuple[str, str | None, str]:
    """'hf:ORG/NAME[:CONFIG][:SPLIT]' -> (name, config, split); a lone extra part naming a split is one."""
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


def resolve_input(
    spec: str,
    text_key: str = "text",
    limit: int = -1,
    max_doc_bytes: int = DEFAULT_MAX_DOC_BYTES,
    bad_input_folder: DataFolderLike | None = None,
    check: bool = True,
) -> RecordReader | HFRecordReader:
    """`--input` -> a datatrove reader. Local files are listed (and their text key checked) up front."""
    if spec.startswith("hf:"):
        name, config, split = parse_hf_spec(spec)
        return HFRecordReader(
            name,
            config,
            split,
            text_key=text_key,
            limit=limit,
            max_doc_bytes=max_doc_bytes,
            bad_input_folder=bad_input_folder,
        )
    path = Path(spec).expanduser()
    if not path.exists():
        raise DataError(
            f"input '{spec}' does not exist (expected a file or folder of JSONL/Parquet/JSON, "
            "or hf:ORG/NAME[:CONFIG][:SPLIT])"
        )
    if path.is_file():
        if not _suffix_of(path.name):
            raise DataError(
                f"input '{spec}' has an unsupported extension; supported: {list(SUPPORTED_SUFFIXES)}"
            )
        folder, files = path.parent, [path.name]
    else:
        folder = path
        files = []
        for p in sorted(path.rglob("*")):
            rel = p.relative_to(path)
            if (
                not p.is_file()
                or not _suffix_of(p.name)
                or any(part.startswith((".", "_")) for part in rel.parts)
            ):
                continue
            # a data folder's own metadata (manifest.json, stats, datatrove logs) is not input
            if (
                p.name in _SKIP_NAMES
                or rel.parts[0] == "logs"
                or (p.suffix == ".json" and not _is_json_array(p))
            ):
                continue
            files.append(rel.as_posix())
        if not files:
            raise DataError(
                f"input folder '{spec}' holds no supported files ({', '.join(SUPPORTED_SUFFIXES)})"
            )
    reader = RecordReader(
        str(folder.resolve()),
        files=files,
        text_key=text_key,
        limit=limit,
        max_doc_bytes=max_doc_bytes,
        bad_input_folder=bad_input_folder,
    )
    if check:
        check_text_key(reader)
    return reader


def check_text_key(reader: RecordReader, max_files: int = 32, max_records: int = 100) -> None:
    """Fail before any work when the first records of a file all lack the text field."""
    for filepath in reader.list_input_files()[:max_files]:
        probe = RecordReader(
            reader.data_folder, files=[filepath], text_key=reader.text_key, id_key=reader.id_key
        )
        n_records = n_with_text = 0
        for _, record in probe._iter_records(filepath, _suffix_of(filepath)):
            if not isinstance(record, dict):
                continue
            n_records += 1
            n_with_text += probe._has_text_field(record)
            if n_with_text or n_records >= max_records:
                break
        if n_records and not n_with_text:
            raise missing_text_error(
                reader.text_key, reader.data_folder.resolve_paths(filepath), n_records, probe._last_keys
            )
