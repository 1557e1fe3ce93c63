import json

import polars as pl
import pytest

from tests.training.conftest import CHATS, write_chat_mixture, write_text_mixture
from tracemix.artifacts import write_manifest
from tracemix.errors import DataError
from tracemix.provenance import config_hash, file_hash
from training.config import Objective
from training.data import check_dataset, iter_texts, load_mixture, read_dataset


def test_parquet_jsonl_and_save_to_disk_folders_load_the_same_rows(tmp_path):
    root = write_text_mixture(tmp_path / "pq", ["a b", "c d", "e f"])
    ds, info = load_mixture(root, Objective.CAUSAL_LM)
    assert ds.column_names == ["text"] and ds["text"] == ["a b", "c d", "e f"]
    assert info["n_rows"] == 3 and info["recipe_hash"] == config_hash({"recipe": "memo"})
    assert info["manifest_hash"] == file_hash(root / "manifest.json") and info["parent"]["kind"] == "mixture"

    jl = tmp_path / "jl"
    jl.mkdir()
    (jl / "00000.jsonl").write_text("".join(json.dumps({"id": str(i), "text": t}) + "\n"
                                            for i, t in enumerate(["x", "y"])))
    write_manifest(jl, "mixture", {})
    assert load_mixture(jl, Objective.CAUSAL_LM)[0]["text"] == ["x", "y"]

    disk = tmp_path / "disk"
    read_dataset(root).save_to_disk(str(disk))
    write_manifest(disk, "mixture", {})
    assert read_dataset(disk)["text"] == ["a b", "c d", "e f"]


def test_missing_column_for_the_objective_is_named(tmp_path):
    root = write_text_mixture(tmp_path / "pq", ["a", "b"])
    with pytest.raises(DataError, match=r"objective `sft` needs a `messages` column; found id, text, source"):
        load_mixture(root, Objective.SFT)


def test_chat_without_assistant_turn_names_the_row_id(tmp_path):
    chats = [CHATS[0], [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "  "}]]
    root = write_chat_mixture(tmp_path / "c", chats)
    with pytest.raises(DataError, match=r"id 'chat-1': conversation has no assistant turn with content"):
        load_mixture(root, Objective.SFT)


def test_bad_roles_and_empty_texts_are_reported(tmp_path):
    import datasets

    ds = datasets.Dataset.from_dict({"id": ["a"], "messages": [[{"role": "bot", "content": "x"}]]})
    with pytest.raises(DataError, match=r"id 'a': turn .* needs a `role` in"):
        check_dataset(ds, Objective.SFT, "m")
    with pytest.raises(DataError, match=r"m: row 1: empty or missing `text`"):
        check_dataset(datasets.Dataset.from_dict({"text": ["ok", ""]}), Objective.CAUSAL_LM, "m")


def test_folders_without_shards_or_with_mixed_formats_fail(tmp_path):
    with pytest.raises(DataError, match="mixture folder not found"):
        read_dataset(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no manifest.json"):
        read_dataset(tmp_path / "empty")
    mixed = write_text_mixture(tmp_path / "mixed", ["a"])
    (mixed / "x.jsonl").write_text('{"text": "b"}\n')
    with pytest.raises(DataError, match=r"x.jsonl is not listed .*rerun `tracemix mix`"):
        read_dataset(mixed)
    write_manifest(mixed, "mixture", {})
    with pytest.raises(DataError, match="both .parquet and .jsonl"):
        read_dataset(mixed)


def test_iter_texts_reads_chat_turns(tmp_path):
    root = write_chat_mixture(tmp_path / "c", CHATS[:1])
    ds, _ = load_mixture(root, Objective.SFT)
    assert list(iter_texts(ds)) == ["hi", "hello", "add 2 and 3", "2 + 3 = 5"]
    assert pl.read_parquet(root / "00000.parquet")["messages"].dtype == pl.List


def test_a_parent_of_mixture_folders_names_them(tmp_path):
    write_text_mixture(tmp_path / "demo" / "math_density", ["a"])
    with pytest.raises(DataError, match=r"holds mixture folders \(math_density\): pass one of them, e.g. --data "):
        read_dataset(tmp_path / "demo")


def test_a_missing_nested_path_is_a_folder_error_not_a_hub_lookup():
    with pytest.raises(DataError, match=r"data/mixtures/demo_chats: mixture folder not found"):
        read_dataset("data/mixtures/demo_chats")


def test_an_unloadable_hub_id_is_a_data_error(monkeypatch):
    import datasets

    def offline(*args, **kwargs):
        raise ConnectionError("Couldn't reach 'org/name' on the Hub (OfflineModeIsEnabled)")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(DataError, match=r"org/name: no such mixture folder, and it cannot be loaded as a hub"):
        read_dataset("org/name")


def test_sft_on_plain_documents_says_to_use_chats(tmp_path):
    import datasets

    ds = datasets.Dataset.from_dict({"id": ["doc-0"], "text": ["x"], "messages": [None]})
    with pytest.raises(DataError, match=r"id 'doc-0': objective `sft` needs chats but this row has no `messages`"):
        check_dataset(ds, Objective.SFT, "m")
