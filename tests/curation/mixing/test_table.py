from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curation.mixing.recipe import load_recipe
from curation.mixing.table import load_table, same_tokenizer, stable_hash
from tests.curation.mixing.conftest import make_tagged, recipe_dict
from tracemix.errors import DataError


def test_table_has_metadata_only_and_assigns_entries_and_buckets(tagged):
    r = load_recipe(recipe_dict(tagged, groups={"coding": ["pure_code", "code_text"]},
                                mixture={"coding": 0.5, "general": 0.5},
                                density={"coding": {"threshold": 0.5, "share": 0.3}}))
    t = load_table(r)
    assert "text" not in t.frame.columns
    assert set(t.frame["entry"].unique()) == {"coding", "general"}  # math_text has no share: left out
    coding = t.frame.filter(t.frame["entry"] == "coding")
    assert ((coding["scaffold_score"] >= 0.5) == (coding["bucket"] == "scaffold")).all()
    assert set(t.frame.filter(t.frame["entry"] == "general")["bucket"]) == {"all"}
    assert t.supply[str(tagged.resolve())]["math_text"]["documents"] == 40
    assert not t.tokens_known  # documents budget: n_tokens is not needed


def test_token_counts_used_only_from_the_same_tokenizer(tagged):
    same = load_table(load_recipe(recipe_dict(tagged, budget={"unit": "tokens", "total": 100}, tokenizer="words")))
    other = load_table(load_recipe(recipe_dict(tagged, budget={"unit": "tokens", "total": 100}, tokenizer="gpt2")))
    assert same.tokens_known and same.frame["n_tokens"].null_count() == 0
    assert not other.tokens_known and other.frame["n_tokens"].null_count() == other.frame.height
    assert same_tokenizer("a", "a") and not same_tokenizer("a", None)


def test_rank_is_a_stable_hash_of_seed_and_id(tagged):
    t = load_table(load_recipe(recipe_dict(tagged)))
    row = t.frame.row(0, named=True)
    assert row["rank"] == stable_hash(7, row["id"])
    assert stable_hash(1, "a") == 0x52494DE452D10712  # pinned: a hash change would reshuffle every mixture
    assert stable_hash(1, "a") != stable_hash(2, "a")


def test_duplicate_ids_and_missing_columns_are_named(tmp_path):
    a = make_tagged(tmp_path / "a", 5)
    b = make_tagged(tmp_path / "b", 5)  # same ids as a
    with pytest.raises(DataError, match="appears 2 times across the sources"):
        load_table(load_recipe(recipe_dict([a, b])))
    bad = tmp_path / "bad"
    bad.mkdir()
    pq.write_table(pa.table({"id": ["x"], "text": ["t"]}), bad / "00000.parquet")
    with pytest.raises(DataError, match=r"00000.parquet: missing column\(s\) domain"):
        load_table(load_recipe(recipe_dict(bad)))


def test_filter_on_source_column(tmp_path):
    src = make_tagged(tmp_path / "t", 10, chats=True)
    r = load_recipe(recipe_dict(src, filter={"source": ["test"]}))
    assert load_table(r).frame.height == 40
    with pytest.raises(DataError, match=r"no documents with source in \['other'\]"):
        load_table(load_recipe(recipe_dict(src, filter={"source": ["other"]})))


def test_excluded_ids_are_never_planned(tagged, tmp_path):
    held = tmp_path / "heldout.parquet"
    pq.write_table(pa.table({"id": ["doc-general-0", "doc-math_text-3"], "domain": ["general", "math_text"]}), held)
    t = load_table(load_recipe(recipe_dict(tagged, exclude=[str(held)])))
    assert not set(t.frame["id"]) & {"doc-general-0", "doc-math_text-3"}
    assert t.supply[str(tagged.resolve())]["math_text"]["documents"] == 39
    with pytest.raises(DataError, match=r"exclude\[0\]: '.*nope.parquet' is not a Parquet file"):
        load_table(load_recipe(recipe_dict(tagged, exclude=[str(tmp_path / "nope.parquet")])))
