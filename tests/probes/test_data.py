import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from probes.data import collate, iter_batches, read_documents
from tests.probes.conftest import write_tagged
from tracemix.errors import DataError


def _rows():
    return [dict(id="g1", text="the river flows", domain="general"),
            dict(id="c1", text="def add(a, b):\n    return a + b\n", domain="pure_code"),
            dict(id="m1", text="Step 1: 12 + 30 = 42.", domain="math_text")]


def test_read_tagged_folder_in_taxonomy_order(tmp_path):
    write_tagged(tmp_path / "t", _rows()[:2], "00000.parquet")
    write_tagged(tmp_path / "t", _rows()[2:], "00001.parquet")
    docs = read_documents(tmp_path / "t")
    assert list(docs) == ["pure_code", "math_text", "general"]
    assert list(docs["general"]) == [("g1", "the river flows")]


def test_mixture_jsonl_and_several_folders(tmp_path):
    (tmp_path / "mix").mkdir()
    with open(tmp_path / "mix" / "part.jsonl", "w") as f:
        for r in _rows():
            f.write(json.dumps(r) + "\n")
    write_tagged(tmp_path / "t", [dict(id="g2", text="more news", domain="general")])
    docs = read_documents([tmp_path / "mix", tmp_path / "t"])
    assert [i for i, _ in docs["general"]] == ["g1", "g2"]


def test_missing_domain_column_names_the_file(tmp_path):
    (tmp_path / "t").mkdir()
    pq.write_table(pa.table({"id": ["a"], "text": ["x"]}), tmp_path / "t" / "00000.parquet")
    with pytest.raises(DataError, match=r"00000.parquet: missing column\(s\) \['domain'\].*tracemix tag"):
        read_documents(tmp_path / "t")


def test_empty_or_missing_folder(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        read_documents(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no \\*.parquet or \\*.jsonl shards"):
        read_documents(tmp_path / "empty")


def test_bad_jsonl_line_is_named(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "a.jsonl").write_text('{"text": "x", "domain": "general"}\n{oops\n')
    with pytest.raises(DataError, match="a.jsonl:2: not valid JSON"):
        read_documents(tmp_path / "m")


def test_budget_windows_and_padding(tiny_tokenizer):
    docs = {"general": [("a", "the river flows through the old town " * 3), ("b", "the market opens")],
            "pure_code": [("c", "def add(a, b):\n    return a + b\n")]}
    batches = list(iter_batches(docs, tiny_tokenizer, max_tokens_per_domain=20, batch_size=2, seq_len=8,
                                pad_id=1))
    general = [b for b in batches if b.domain == "general"]
    assert [b.domain for b in batches] == ["general"] * len(general) + ["pure_code"] * (len(batches) - len(general))
    assert sum(int(b.attention_mask.sum()) for b in general) == 20  # exact budget
    assert all(b.input_ids.shape[1] <= 8 and b.input_ids.shape[0] <= 2 for b in batches)
    assert [(d, o) for b in general for d, o in zip(b.doc_ids, b.offsets, strict=True)][:3] == [
        ("a", 0), ("a", 8), ("a", 16)]
    batch = collate("general", [("a", 0, [5, 6, 7]), ("b", 0, [8])], pad_id=1)
    assert batch.input_ids.tolist() == [[5, 6, 7], [8, 1, 1]]
    assert batch.attention_mask.tolist() == [[1, 1, 1], [1, 0, 0]]


def test_documents_are_read_only_as_far_as_the_budget(tiny_tokenizer):
    consumed = []

    def docs():
        for i in range(100_000):
            consumed.append(i)
            yield (str(i), "the river flows through the old town")

    batches = list(iter_batches({"general": docs()}, tiny_tokenizer, max_tokens_per_domain=10, batch_size=4,
                                seq_len=8, pad_id=1))
    assert sum(int(b.attention_mask.sum()) for b in batches) == 10
    assert len(consumed) <= 256  # one tokenizer chunk, not the corpus


def test_streamed_documents_keep_file_order_and_row_names(tmp_path):
    write_tagged(tmp_path / "t", [dict(id=None, text=f"doc {i}", domain="general" if i % 2 else "math_text")
                                  for i in range(5)])
    docs = read_documents(tmp_path / "t")
    assert [i for i, _ in docs["general"]] == ["00000.parquet:1", "00000.parquet:3"]
    assert [t for _, t in docs["math_text"]] == ["doc 0", "doc 2", "doc 4"]
