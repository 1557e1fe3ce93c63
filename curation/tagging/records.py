"""Records -> datatrove Documents: text or chat turns, ids, sources, and the bad-input log.

Shared by every reader in `curation.tagging.readers`. A record that cannot become a document raises `BadRecord`
with a reason (`malformed_json`, `invalid_utf8`, `missing_text`, `empty_text`, `too_large` (only with a size
limit), `malformed_chat`);
the reader counts it as a `bad_input/<reason>` stat and lists it with its file and line (capped).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

from datatrove.data import Document
from datatrove.io import DataFolderLike, get_datafolder

from curation.classifiers.compiled import count_all

# No size drop by default: long documents are kept (the tagger reads them on windows). `--max-doc-bytes`
# opts in to skipping (and counting) documents above a size.
DEFAULT_MAX_DOC_BYTES: int | None = None
MAX_EXAMPLES = 20  # file:line examples kept per reason and task
# ShareGPT speaker names -> chat roles
ROLE_MAP = {
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "chatgpt": "assistant",
    "assistant": "assistant",
    "bing": "assistant",
    "bard": "assistant",
    "model": "assistant",
    "system": "system",
}
CHAT_KEYS = ("messages", "conversations")
# NUL and the C0 controls other than tab/newline/carriage return break tokenizers and viewers
_CONTROL_SET = tuple(chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFEFF))
CONTROL_CHARS = re.compile("[" + "".join(map(re.escape, _CONTROL_SET)) + "]")
_VISIBLE = re.compile("[^\\s\x00-\x08\x0b\x0c\x0e-\x1f\ufeff]")  # stops at the first real character


def has_control_chars(text: str) -> bool:
    """`CONTROL_CHARS.search(text) is not None`, in one compiled scan (a regex class scan is several times
    slower, and every document goes through this)."""
    return count_all(text, _CONTROL_SET) > 0


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
            raise BadRecord(
                "malformed_chat",
                f"turn {i} has role={speaker!r} and content of type "
                f"{type(content).__name__}; expected a known role and a string",
            )
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


class RecordsMixin:
    """Record -> Document with bad-input accounting; shared by the disk and Hugging Face readers."""

    text_key: str
    id_key: str

    def _init_records(self, max_doc_bytes: int | None, bad_input_folder: DataFolderLike | None, source: str | None):
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
        if not _VISIBLE.search(text) or (
            messages is not None and not any(_VISIBLE.search(m["content"]) for m in messages)
        ):
            raise BadRecord("empty_text", "text is empty or whitespace only")
        if self.max_doc_bytes is not None:  # the size costs a copy of the text: only when it is checked
            n_bytes = len(text.encode("utf-8", "surrogatepass"))
            if n_bytes > self.max_doc_bytes:
                raise BadRecord("too_large", f"{n_bytes} bytes > max_doc_bytes={self.max_doc_bytes}")
        doc_id = record.pop(self.id_key, None)
        metadata = {k: v for k, v in record.items() if k != "metadata"}
        metadata["source"] = str(record.get("source") or source)
        if messages is not None:
            metadata["messages"] = messages
        return Document(
            text=text, id=str(doc_id) if doc_id is not None else f"{file}:{line}", metadata=metadata
        )

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
