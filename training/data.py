"""Mixture folders -> `datasets.Dataset`, checked for the columns the objective needs before training.

A mixture folder (written by `tracemix mix`) holds Parquet or JSONL shards, or a `save_to_disk` folder,
plus `manifest.json`. Causal LM reads `text`; SFT reads `messages` (a list of {role, content}).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tracemix.artifacts import MANIFEST, PARTIAL, external_ref, parent_ref, read_manifest
from tracemix.errors import DataError
from training.config import Objective

ROLES = ("system", "user", "assistant")


def _shards(root: Path) -> tuple[str, list[str]]:
    if (root / "dataset_info.json").is_file() and (root / "state.json").is_file():
        return "disk", [str(root)]
    parquet = sorted(str(p) for p in root.glob("*.parquet"))
    jsonl = sorted(str(p) for p in root.glob("*.jsonl")) + sorted(str(p) for p in root.glob("*.jsonl.gz"))
    if parquet and jsonl:
        raise DataError(f"{root}: holds both .parquet and .jsonl shards; keep one format per mixture folder")
    if parquet:
        return "parquet", parquet
    if jsonl:
        return "json", jsonl
    # A parent of several mixtures (data/mixtures/demo) is an easy folder to pass by mistake.
    inner = _inner_mixtures(root)
    hint = (f"it holds mixture folders ({', '.join(inner[:5])}{', ...' if len(inner) > 5 else ''}): pass one "
            f"of them, e.g. --data {root / inner[0]}") if inner else ("pass a folder written by `tracemix mix` "
                                                                      "(or build one with `tracemix mix recipes/...`)")
    raise DataError(f"{root}: no .parquet / .jsonl shards or `save_to_disk` folder found; {hint}")


def _inner_mixtures(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if (p / MANIFEST).is_file())


def read_dataset(data: str | Path):
    """Load a local mixture folder, or a hub dataset id (train split) when no such folder exists."""
    import datasets

    root = Path(data)
    if not root.exists():
        # A hub id is NAME or ORG/NAME; anything else that does not exist is a mistyped local folder.
        if str(data).startswith((".", "/", "~")) or root.suffix or str(data).count("/") > 1:
            raise DataError(f"{data}: mixture folder not found; build it with `tracemix mix RECIPE` or fix the path")
        try:
            return datasets.load_dataset(str(data), split="train")  # a hub dataset id
        except Exception as err:  # offline, unknown repository, no train split
            raise DataError(f"{data}: no such mixture folder, and it cannot be loaded as a hub dataset "
                            f"({type(err).__name__}: {err}); pass a folder written by `tracemix mix`") from err
    if root.is_file():
        raise DataError(f"{root}: pass the mixture folder, not a single file")
    if (root / MANIFEST).is_file() or (root / PARTIAL).is_file() or not _inner_mixtures(root):
        read_manifest(root, "mixture")  # complete, and no shard added or lost since it was written
    kind, files = _shards(root)
    if kind == "disk":
        loaded = datasets.load_from_disk(files[0])
        return loaded["train"] if isinstance(loaded, datasets.DatasetDict) else loaded
    try:
        return datasets.load_dataset(kind, data_files=files, split="train")
    except Exception as err:  # schema clashes between shards, unreadable files
        raise DataError(f"{root}: cannot read the {kind} shards: {err}") from err


def _row_id(row: dict[str, Any], index: int) -> str:
    return f"id {row['id']!r}" if row.get("id") is not None else f"row {index}"


def _check_chat(messages: Any, where: str) -> None:
    if not isinstance(messages, list) or not messages:
        raise DataError(f"{where}: `messages` is empty or not a list of {{role, content}} turns")
    for turn in messages:
        if not isinstance(turn, dict) or turn.get("role") not in ROLES or not isinstance(turn.get("content"), str):
            raise DataError(f"{where}: turn {turn!r} needs a `role` in {ROLES} and a string `content`")
    if not any(t["role"] == "assistant" and t["content"].strip() for t in messages):
        raise DataError(f"{where}: conversation has no assistant turn with content, so the assistant-only loss "
                        "would be empty; drop the row from the mixture or add the assistant reply")


def check_dataset(ds, objective: Objective, source: str) -> None:
    """Fail before training on missing columns, empty texts or chats without assistant turns (naming the row)."""
    column = "messages" if objective == Objective.SFT else "text"
    if column not in ds.column_names:
        other = "sft (needs `messages`)" if column == "text" else "causal_lm (needs `text`)"
        raise DataError(f"{source}: objective `{objective.value}` needs a `{column}` column; found "
                        f"{', '.join(ds.column_names)}. Use a mixture that has it, or objective {other}")
    if len(ds) == 0:
        raise DataError(f"{source}: the mixture has no rows")
    view = ds.select_columns([c for c in ("id", column) if c in ds.column_names])
    for index, row in enumerate(view):
        where = f"{source}: {_row_id(row, index)}"
        if objective == Objective.SFT:
            if row["messages"] is None:  # mixtures of plain documents carry a null `messages` column
                raise DataError(f"{where}: objective `sft` needs chats but this row has no `messages` (a plain "
                                "document); build the mixture from tagged chats (e.g. recipes/demo/ift_code_050.yaml) "
                                "or use objective causal_lm")
            _check_chat(row["messages"], where)
        elif not isinstance(row["text"], str) or not row["text"].strip():
            raise DataError(f"{where}: empty or missing `text`; drop it from the mixture")


def load_mixture(data: str | Path, objective: Objective, with_raw: bool = False):
    """The training rows (only the column the objective reads) and the mixture's provenance
    (and the unselected rows when `with_raw`)."""
    ds = read_dataset(data)
    check_dataset(ds, objective, str(data))
    column = "messages" if objective == Objective.SFT else "text"
    out = ds.select_columns([column]), mixture_info(data, len(ds))
    return (*out, ds) if with_raw else out


def mixture_info(data: str | Path, n_rows: int) -> dict[str, Any]:
    """Where the rows came from: path, rows, the mixture's manifest hash and recipe hash (None for a hub
    dataset), and `parent`, the manifest's parent entry for the mixture."""
    info: dict[str, Any] = {"path": str(data), "n_rows": n_rows, "manifest_hash": None, "recipe_hash": None}
    if not Path(data).is_dir():
        return {**info, "parent": external_ref(data, "dataset")}
    parent = parent_ref(data, "mixture")
    manifest = read_manifest(data, "mixture")
    return {**info, "manifest_hash": parent["manifest_hash"], "recipe_hash": manifest["config_hash"], "parent": parent}


def iter_texts(ds) -> Iterator[str]:
    """Texts for tokenizer training: `text`, or each chat turn's content."""
    for row in ds:
        if "messages" in row and row["messages"]:
            yield from (t["content"] for t in row["messages"] if t.get("content"))
        elif row.get("text"):
            yield row["text"]
