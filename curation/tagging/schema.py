"""The tagged-data schema: the columns every tagged Parquet shard has (the data contract in DESIGN.md)."""

from __future__ import annotations

from tracemix.domains import DOMAINS


def tagged_schema(with_tokens: bool):
    """The tagged-folder columns (the data contract); `messages` is null for documents that are not chats."""
    import pyarrow as pa

    fields = [
        ("id", pa.string()),
        ("text", pa.string()),
        ("source", pa.string()),
        ("domain", pa.string()),
        ("domain_scores", pa.struct([(d, pa.float64()) for d in DOMAINS])),
        ("scaffold_score", pa.float64()),
        ("n_bytes", pa.int64()),
    ]
    if with_tokens:
        fields.append(("n_tokens", pa.int64()))
    fields += [
        ("tagger", pa.string()),
        ("messages", pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))),
    ]
    return pa.schema(fields)
