import re
import sys
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curation.classifiers import _scaffold_lines, scaffold  # the test environment builds it: never skipped
from curation.classifiers.scaffold import _line_counts, scaffold_features
from tests.curation.classifiers.test_scaffold import PLAIN_MATH, SCAFFOLD_MATH

scaffold_lines = _scaffold_lines.scaffold_lines


def _assert_equal(text: str) -> None:
    assert scaffold_lines(text) == _line_counts(text, text.lower()), repr(text)


def test_scaffold_features_run_the_compiled_twin():
    assert scaffold._compiled_line_counts is scaffold_lines
    # eight non-empty lines: "Step 1", "Step 2"; no derivation; a chain of six equations; four indented
    assert scaffold_lines(SCAFFOLD_MATH) == (8, 2, 0, 6, 4)


def test_equal_on_the_scaffold_test_texts():
    texts = [SCAFFOLD_MATH, PLAIN_MATH, "x^2 - 1 = (x - 1)(x + 1)\n= 0 when x = 1\n\\implies x = \\pm 1\nso the "
             "roots are 1 and -1", "", " \n\t", "a", "\n", "==\n= =\n===\n\\le\n<=>\n!= 1\n"]
    for text in texts:
        _assert_equal(text)


@pytest.mark.parametrize("seed", [0, 1])
def test_equal_on_demo_documents(seed):
    from curation.demo.data import iter_documents

    for doc in iter_documents(3000, seed=seed):
        _assert_equal(doc["text"])


def test_python_patterns_give_the_same_features(monkeypatch):
    from curation.demo.data import iter_documents

    texts = [d["text"] for d in iter_documents(200, seed=3)] + [SCAFFOLD_MATH, "Σ ≤ 1\nſtep 2: x = y = z"]
    compiled = [scaffold_features(t) for t in texts]
    monkeypatch.setattr(scaffold, "_compiled_line_counts", None)
    assert [scaffold_features(t) for t in texts] == compiled


# weighted toward what the patterns look at: line and blank syntax, relations, step and derivation words,
# and the non-ASCII characters that `re` treats as spaces, digits, word characters or case folds of them
_TOKENS = (["\n"] * 8 + [" "] * 8 + ["\t", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f"]
           + ["=", "=", "==", "<", ">", "!", "&", "\\le", "\\leq", "\\ge", "\\approx", "\\implies", "\\Rightarrow",
              "\\rightarrow", "=>"]
           + ["step 1", "Step", "stage", "part", "first", "firstly", "second", "thirdly", "next", "then", "so",
              "thus", "hence", "after that", "finally", "lastly", "which gives", "part (a):", "(b) ", "a) ", "12. ",
              "- ", "* ", "**", "*", "-", "(", ")", ".", ":", "_"]
           + list("0123456789abhikpsxzABIKS")
           + ["≤", "≥", "≈", "⇒", "→", "ſ", "ı", "İ", "\u212a", "٣", "\x85", "\u2028", "\xa0", "é"])


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(_TOKENS), max_size=80).map("".join))
def test_equal_on_generated_texts(text):
    _assert_equal(text)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=200))
def test_equal_on_any_text(text):
    _assert_equal(text)


def _code_points_re_treats_specially() -> list[str]:
    """Spaces, decimal digits and case folds of ASCII letters, by `re`'s own classes, plus a spread of the
    rest (word characters among them)."""
    every = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c < 0xE000)
    special = set(re.findall(r"[\s\d]|[a-z]", every, re.IGNORECASE))
    return sorted(special | set(every[::97]) | set("≤≥≈⇒→"))


def test_equal_for_every_special_code_point_in_every_role():
    lines = ["Step{c}1", "{c}step 2", "-{c}step 3", "st{c}p 4", "first{c}", "firstl{c}", "{c}irst", "thi{c}d",
             "a{c} x", "{c}. x", "1{c}. x", "1.{c}x", "({c}) x", "(a){c}x", "part {c}:", "**{c}tep 5", "so{c}",
             "{c}o", "& {c}= 1", "{c}= 1", "\\implie{c}", "which{c}gives", "\\le{c}", "x {c} y", "={c}=",
             "{c}{c}indented", "  {c}"]
    for c in _code_points_re_treats_specially():
        for line in lines:
            _assert_equal(line.format(c=c))
        _assert_equal(f"a = 1\n{c}\nb = 2\n\n{c}c < 3")  # a blank line keeps an equation chain going


@pytest.mark.parametrize("text", ["=" * 200_000, "\n" * 200_000, " " * 200_000 + "x", "\\le" * 70_000,
                                  "step" + " " * 200_000, "- " + " " * 200_000 + "*", "(a)" + " " * 200_000,
                                  "1." + "\t" * 200_000, "a=b=\n\n" * 40_000, "=\n" * 100_000,
                                  "part" + " " * 200_000 + "(", "ſ" * 200_000 + "=="])
def test_adversarial_lines_run_in_linear_time(text):
    start = time.process_time()
    counts = scaffold_lines(text)
    assert time.process_time() - start < 0.1
    assert len(counts) == 5
