from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from curation.mixing.plan import Shortfall, bucket_targets, shortfall_message
from curation.mixing.recipe import load_recipe
from tests.curation.mixing.conftest import recipe_dict


def test_density_splits_the_entry_budget():
    r = load_recipe(recipe_dict("x", budget={"unit": "tokens", "total": 1000}, tokenizer="gpt2",
                                density={"math_text": {"threshold": 0.5, "share": 0.25}}))
    t = bucket_targets(r)
    assert t[("math_text", "scaffold")] == 75 and t[("math_text", "plain")] == 225
    assert t[("general", "all")] == 400 and sum(t.values()) == 1000


@settings(max_examples=60, deadline=None)
@given(total=st.integers(1, 10**9), weights=st.lists(st.integers(0, 100), min_size=4, max_size=4),
       share=st.floats(0, 1))
def test_targets_are_integers_summing_to_the_total(total, weights, share):
    if sum(weights) == 0:
        weights = [1, 0, 0, 0]
    shares = [w / (sum(weights) + 10) for w in weights]  # sums below 1: the rest is redistributed
    mixture = dict(zip(["general", "pure_code", "code_text", "math_text"], shares, strict=True))
    r = load_recipe(recipe_dict("x", budget={"unit": "documents", "total": total}, mixture=mixture,
                                redistribute="proportional",
                                density={"math_text": {"threshold": 0.5, "share": share}}))
    t = bucket_targets(r)
    assert sum(t.values()) == total
    for (key, _), v in t.items():
        if mixture[key] == 0:
            assert v == 0


def test_shortfall_message_names_bucket_sizes_and_repeats():
    r = load_recipe(recipe_dict("x", budget={"unit": "tokens", "total": 10}, tokenizer="gpt2"))
    msg = shortfall_message(r, [Shortfall(("math_text", "scaffold"), ("math_text",), 1_200_000, 400_000, 1234),
                                Shortfall(("coding", "all"), ("pure_code", "code_text"), 10, 0, 0)])
    assert "mixture.math_text bucket 'scaffold': needs 1,200,000 tokens, available 400,000 in 1,234 documents" in msg
    assert "set `max_repeats: 3`" in msg
    assert "mixture.coding (pure_code, code_text) bucket 'all'" in msg and "no documents at all" in msg
