"""Input readers for `tracemix tag`: JSONL (.gz/.zst), Parquet, ShareGPT JSON, chat JSONL, Hugging Face.

Every reader is a datatrove reader, so it shards files across tasks and pickles for Slurm/Ray. Bad records
never stop a run: each one is counted per reason (a `bad_input/<reason>` stat) and listed with its file and
line (capped) in `<bad_input_folder>/<rank>.json`, which `tracemix stats` sums up. A file that breaks off
(a truncated `.gz`) counts as `unreadable_file` with how far it got, and the task goes on. Formats come from
the bytes (`curation.tagging.formats`); a folder's files that are not input are listed in
`<bad_input_folder>/skipped_files.json` with their reason.
"""

from __future__ import annotations

import io
import json
import zlib
from collections.abc import Iterator
from functools import partial
from pathlib import Path

from datatrove.data import DocumentsPipeline
from datatrove.io import DataFolderLike
from datatrove.pipeline.readers.base import BaseDiskReader
from datatrove.pipeline.readers.huggingface import HuggingFaceDatasetReader

from curation.tagging.formats import (
    BOM,
    JSON_ARRAY,
    PARQUET,
    ZSTD,
    FileFormat,
    NotInput,
    decompressor,
    format_from_name,
    scan_folder,
    sniff,
)
from curation.tagging.records import DEFAULT_MAX_DOC_BYTES, RecordsMixin
from tracemix.errors import DataError

HF_PROBE_ROWS = 100  # rows of a Hugging Face dataset that must show the text field at least once
SKIPPED_FILES = "skipped_files.json"  # in the bad-input folder: the files of a folder input that were not read


def zstd_lines(f) -> Iterator[bytes]:
    """Lines of a zstd file (frames one after another), in linear time; EOFError when the data stops inside a
    frame, which a plain stream reader would pass over silently."""
    new = partial(decompressor, ZSTD)
    d, in_frame, parts = new(), False, []
    while chunk := f.read(1 << 20):
        while chunk:
            piece = d.decompress(chunk)
            in_frame = not d.eof
            chunk = d.unused_data if d.eof else b""
            if d.eof:
                d = new()
            start = 0
            while (nl := piece.find(b"\n", start)) >= 0:
                parts.append(piece[start:nl + 1])
                yield b"".join(parts)
                parts, start = [], nl + 1
            if start < len(piece):
                parts.append(piece[start:])
    if in_frame:
        raise EOFError("zstd data ended inside a frame (truncated file)")
    if parts:
        yield b"".join(parts)


def _read_errors() -> tuple[type[BaseException], ...]:
    """What a truncated or corrupt file raises mid-read (gzip, zstd, Parquet, the file system)."""
    import pyarrow as pa
    import zstandard

    return (EOFError, OSError, zlib.error, zstandard.ZstdError, pa.ArrowInvalid)


class RecordReader(RecordsMixin, BaseDiskReader):
    """Reads JSONL (plain/gzip/zstd), Parquet and ShareGPT JSON arrays.

    `files` (relative to `data_folder`) fixes the file list, `formats` their formats (from `scan_folder`);
    without them every file below the folder whose name promises records is read, local files are sniffed.
    Records with a `messages` or ShareGPT `conversations` list become chats: `text` is the flattened
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
        max_doc_bytes: int | None = DEFAULT_MAX_DOC_BYTES,
        bad_input_folder: DataFolderLike | None = None,
        source: str | None = None,
        formats: dict[str, FileFormat] | None = None,
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
        self.formats = dict(formats or {})
        if files is None and formats is not None:
            files = list(formats)
        self.files = sorted(files) if files is not None else None
        self.skipped: list[dict] = []  # files of a folder input that are not records, with the reason
        self._init_records(max_doc_bytes, bad_input_folder, source)

    def list_input_files(self) -> list[str]:
        if self.files is not None:
            return self.files
        return [f for f in self.data_folder.list_files(recursive=True) if format_from_name(f)]

    def file_format(self, filepath: str) -> FileFormat:
        """The format found by `scan_folder`, else sniffed (local files), else promised by the name."""
        fmt = self.formats.get(filepath)
        if fmt is None and self.data_folder.is_local():
            try:
                fmt = sniff(self.data_folder.resolve_paths(filepath), self.text_key)
            except NotInput as err:
                raise DataError(f"{self.data_folder.resolve_paths(filepath)}: {err.reason}") from None
        fmt = fmt or format_from_name(filepath)
        if fmt is None:
            raise DataError(f"{self.data_folder.resolve_paths(filepath)}: unknown format; name it .jsonl, .json "
                            "or .parquet (optionally .gz/.zst)")
        self.formats[filepath] = fmt
        return fmt

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if data:
            yield from data
        shard = self.list_input_files()[rank::world_size]
        if rank == 0 and self.bad_input_folder is not None and self.skipped:
            _save_skipped(self.bad_input_folder, self.skipped)
        for doc in self.read_files_shard(shard):
            self.update_doc_stats(doc)
            yield doc
        self._save_bad_input(rank)

    def read_file(self, filepath: str) -> DocumentsPipeline:
        source = self.source or Path(filepath).name.split(".")[0]
        n_records = n_with_text = 0
        for line, record in self._iter_records(filepath, self.file_format(filepath)):
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

    def _iter_records(self, filepath: str, fmt: FileFormat):
        """(line or row, record) pairs; a file that breaks off is counted as `unreadable_file` and left."""
        self._last_keys: list[str] = []
        self._where = 0  # the last line / row / record read whole
        read = {PARQUET: self._iter_parquet, JSON_ARRAY: self._iter_json_array}.get(fmt.kind, self._iter_jsonl)
        try:
            yield from read(filepath, fmt)
        except _read_errors() as err:
            self._bad_record("unreadable_file", filepath, self._where,
                             f"truncated or corrupt after line/row {self._where}: {type(err).__name__}: {err}")

    def _iter_jsonl(self, filepath: str, fmt: FileFormat):
        import orjson

        zstd = fmt.compression == ZSTD
        with self.data_folder.open(filepath, "rb", compression=None if zstd else fmt.compression) as f:
            lines = zstd_lines(f) if zstd else f if hasattr(f, "readline") else io.BufferedReader(f)
            for line_no, raw in enumerate(lines, start=1):
                self._where = line_no  # the iterator only hands out whole lines
                if line_no == 1:
                    raw = raw.removeprefix(BOM)
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

    def _iter_parquet(self, filepath: str, fmt: FileFormat):
        import pyarrow.parquet as pq

        with self.data_folder.open(filepath, "rb") as f, pq.ParquetFile(f) as pqf:
            self._last_keys = list(pqf.schema_arrow.names)
            row = 0
            for batch in pqf.iter_batches(batch_size=1000):
                for record in batch.to_pylist():
                    row += 1
                    self._where = row
                    yield row, record

    def _iter_json_array(self, filepath: str, fmt: FileFormat):
        import orjson

        with self.data_folder.open(filepath, "rb", compression=fmt.compression) as f:
            raw = f.read().removeprefix(BOM)
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
        max_doc_bytes: int | None = DEFAULT_MAX_DOC_BYTES,
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


def resolve_input(
    spec: str,
    text_key: str = "text",
    limit: int = -1,
    max_doc_bytes: int | None = DEFAULT_MAX_DOC_BYTES,
    bad_input_folder: DataFolderLike | None = None,
    check: bool = True,
) -> RecordReader | HFRecordReader:
    """`--input` -> a datatrove reader. Local files are listed, their format sniffed and their text key
    checked up front; a folder's files that hold no records are listed in `reader.skipped` (and in
    `bad_input_folder/skipped_files.json`) with their reason."""
    if max_doc_bytes is not None and max_doc_bytes < 1:
        raise DataError(f"--max-doc-bytes must be a positive number of bytes (got {max_doc_bytes})")
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
    skipped: list[dict] = []
    if path.is_file():
        try:
            formats = {path.name: sniff(path, text_key)}
        except NotInput as err:
            raise DataError(f"input '{spec}': {err.reason}; expected JSONL, a JSON array of records or "
                            "Parquet (optionally gzip/zstd compressed)") from None
        folder = path.parent
    else:
        folder = path
        formats, skipped = scan_folder(path, text_key)
        if not formats:
            reasons = "; ".join(f"{s['file']}: {s['reason']}" for s in skipped[:5])
            raise DataError(f"input folder '{spec}' holds no JSONL, JSON array or Parquet files"
                            + (f" (skipped {len(skipped)}: {reasons})" if skipped else ""))
    reader = RecordReader(
        str(folder.resolve()),
        text_key=text_key,
        limit=limit,
        max_doc_bytes=max_doc_bytes,
        bad_input_folder=bad_input_folder,
        formats=formats,
    )
    reader.skipped = skipped
    if check:
        check_text_key(reader)
    return reader


def _save_skipped(bad_input_folder: DataFolderLike, skipped: list[dict]) -> None:
    from datatrove.io import get_datafolder

    folder = get_datafolder(bad_input_folder)
    if folder.is_local():
        from tracemix.atomic import write_json

        write_json(folder.resolve_paths(SKIPPED_FILES), {"skipped_files": skipped})
    else:
        with folder.open(SKIPPED_FILES, "w") as f:
            json.dump({"skipped_files": skipped}, f)


def check_text_key(reader: RecordReader, max_files: int = 32, max_records: int = 100) -> None:
    """Fail before any work when the first records of a file all lack the text field."""
    for filepath in reader.list_input_files()[:max_files]:
        probe = RecordReader(
            reader.data_folder, files=[filepath], text_key=reader.text_key, id_key=reader.id_key
        )
        n_records = n_with_text = 0
        for _, record in probe._iter_records(filepath, reader.file_format(filepath)):
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
