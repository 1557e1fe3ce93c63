import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curation.classifiers.scaffold import (
    FEATURES,
    SCALES,
    WEIGHTS,
    scaffold_features,
    scaffold_score,
    score_from_features,
)

SCAFFOLD_MATH = """Problem: A tank holds 120 litres and drains 8 litres per minute. When is it empty?

Step 1: Write the remaining volume as V(t) = 120 - 8t.
Step 2: Set V(t) = 0:
  120 - 8t = 0
  8t = 120
  t = 120 / 8
  t = 15
Therefore the tank is empty after 15 minutes.
"""
PLAIN_MATH = "The tank is empty after fifteen minutes, because it loses the same amount every minute."


def test_empty_and_whitespace_score_zero():
    assert scaffold_score("") == 0.0
    assert scaffold_score("  \n\t ") == 0.0
    assert all(v == 0.0 for v in scaffold_features("").values())


def test_features_of_a_worked_solution():
    f = scaffold_features(SCAFFOLD_MATH)
    assert f["step_markers"] == 2.0  # "Step 1", "Step 2"
    assert f["equation_chain"] == 6.0  # both step lines hold "=", then four indented equations
    assert f["connectives"] == 1.0  # "Therefore"
    assert f["indentation"] == pytest.approx(4 / 8)  # four indented lines of eight non-empty
    assert 0.0 < f["symbol_density"] < 1.0


def test_scaffold_text_scores_above_plain_text():
    high, low = scaffold_score(SCAFFOLD_MATH), scaffold_score(PLAIN_MATH)
    assert high > 0.6
    assert low < 0.1
    assert 0.0 <= low < high <= 1.0


def test_derivation_lines_count():
    text = "x^2 - 1 = (x - 1)(x + 1)\n= 0 when x = 1\n\\implies x = \\pm 1\nso the roots are 1 and -1"
    assert scaffold_features(text)["derivation_depth"] == 3.0


def test_weights_sum_to_one_and_caps_positive():
    assert sum(WEIGHTS.values()) == pytest.approx(1.0)
    assert set(WEIGHTS) == set(SCALES) == set(FEATURES)
    assert all(c > 0 for c in SCALES.values())
    saturated = {name: SCALES[name] * 40 for name in FEATURES}
    assert score_from_features(saturated) == pytest.approx(1.0)


_feature_value = st.floats(min_value=0.0, max_value=50.0, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries({name: _feature_value for name in FEATURES}), st.sampled_from(FEATURES),
       st.floats(min_value=0.0, max_value=50.0, allow_nan=False))
def test_score_is_monotone_in_every_feature(features, name, increase):
    before = score_from_features(features)
    raised = dict(features, **{name: features[name] + increase})
    after = score_from_features(raised)
    assert 0.0 <= before <= after <= 1.0


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=400))
def test_score_in_unit_interval_for_any_text(text):
    assert 0.0 <= scaffold_score(text) <= 1.0


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=6))
def test_adding_step_lines_never_lowers_the_text_score(n):
    base = "We compute the value of the expression below.\n"
    steps = "".join(f"Step {i + 1}: {i} + 1 = {i + 1}\n" for i in range(n))
    more = steps + f"Step {n + 1}: {n} + 1 = {n + 1}\n"
    assert scaffold_score(base + more) >= scaffold_score(base + steps)


def test_threshold_half_separates_demo_scaffold_math():
    # the density ablation selects scaffold math with `scaffold_score >= 0.5`
    from curation.demo.data import iter_documents

    math_docs = [d for d in iter_documents(600, seed=11) if d["label"] == "math_text"]
    assert len(math_docs) > 100
    hits = sum((scaffold_score(d["text"]) >= 0.5) == d["scaffold"] for d in math_docs)
    assert hits / len(math_docs) >= 0.85


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([*"aTx=1 \n\t\\∴⇒", "therefore", "Thus ", "\\implies", "we get"]), max_size=30)
       .map("".join).filter(str.strip))
def test_text_features_with_a_shared_lower_equal_scaffold_features(text):
    from curation.classifiers.scaffold import text_features

    assert text_features(text, text.lower()) == scaffold_features(text)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from(("=", " ", "\n", "<", ">", "\\le", "\\", "so ", "Step 1. ", "1", "x", "\t", "≤",
                                 "==", "(a) ", "  ")), min_size=1, max_size=20))
def test_long_adversarial_lines_score_in_linear_time(tokens):
    import time

    unit = "".join(tokens)
    text = (unit * (100_000 // len(unit) + 1))[:100_000]
    start = time.process_time()
    assert 0.0 <= scaffold_score(text) <= 1.0
    assert time.process_time() - start < 0.5
