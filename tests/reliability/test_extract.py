"""Replays: answer extraction and comparison, checked against math-verify and lm-eval's GSM8K filters.

Each row is a reply, its gold answer, whether tracemix must score it correct, and what the reference gives
on the same reply: math-verify's `verify(parse(gold), parse(reply))`, and lm-eval's GSM8K `strict-match`
and `flexible-extract` filters followed by its `exact_match` (re-implemented below from lm-eval's gsm8k.yaml).
A row where tracemix and a reference differ documents a case the reference misreads.
"""

from __future__ import annotations

import re

import pytest
import sympy
from math_verify import parse, verify

from eval.extract import extract, math_answer
from eval.registry import get_task
from eval.scoring import is_correct

# lm-eval gsm8k.yaml: filter_list strict-match / flexible-extract (group_select -1), then exact_match with
# ignore_case and regexes_to_ignore [",", "\\$", "(?s).*#### ", "\\.$"]
LM_STRICT = re.compile(r"#### (\-?[0-9\.\,]+)")
LM_FLEXIBLE = re.compile(r"(-?[$0-9.,]{2,})|(-?[0-9]+)")
LM_IGNORE = [",", "\\$", "(?s).*#### ", "\\.$"]


def lm_strict(text: str) -> str:
    found = LM_STRICT.findall(text)
    return found[0] if found else "[invalid]"


def lm_flexible(text: str) -> str:
    found = LM_FLEXIBLE.findall(text)
    if not found:
        return "[invalid]"
    groups = [g for g in found[-1] if g]
    return groups[0].strip() if groups else "[invalid]"


def lm_exact_match(pred: str, gold: str) -> bool:
    for pattern in LM_IGNORE:
        pred, gold = re.sub(pattern, "", pred), re.sub(pattern, "", gold)
    return pred.strip().lower() == gold.strip().lower()


# reply, gold, tracemix correct, lm-eval strict correct, lm-eval flexible correct
GSM8K = [
    ("Natalia sold 48/2 = 24 clips in May.\nShe sold 48+24 = 72 clips altogether.\n#### 72", "72",
     True, True, True),
    ("the answer is 10 - 3 = 7", "7", True, False, True),
    ("the answer is 10 - 3 = 7", "10", False, False, False),  # was read as 10
    ("The answer is 5 + 3 = 8 apples.", "8", True, False, True),
    ("The answer is 18 dollars, i.e. 3 * 6.", "18", True, False, False),
    ("The answer is 7.\nCheck: 7 * 3 = 21", "7", True, False, False),
    ("It drops to \u22125 degrees.", "-5", True, False, False),  # U+2212 minus
    ("It drops to \u22125 degrees.", "5", False, False, True),
    ("So the hall seats 1 000 people.", "1000", True, False, False),
    ("So the hall seats 1\u202f000 people.", "1000", True, False, False),  # narrow no-break space
    ("She has $1,234 left.", "1234", True, False, True),
    ("#### 1,000", "1000", True, True, True),
    ("He ends with 12 apples, then eats 2, so 10.", "10", True, False, True),
]


@pytest.mark.parametrize(("reply", "gold", "ours", "strict", "flexible"), GSM8K)
def test_gsm8k_extraction_against_lm_eval_filters(reply, gold, ours, strict, flexible):
    task = get_task("gsm8k")
    assert is_correct(task, extract(task.extractor, reply), gold)[0] is ours
    assert lm_exact_match(lm_strict(reply), gold) is strict
    assert lm_exact_match(lm_flexible(reply), gold) is flexible


# reply, gold, tracemix correct, math-verify correct
MATH = [
    ("So x = \\dfrac{1}{2}.", "\\frac{1}{2}", True, False),  # math-verify needs $...$ around bare LaTeX
    ("So x = \\dfrac{1}{2}.", "2", False, False),  # was read as the last number, 2
    ("There are 10^6 cells", "1000000", True, True),
    ("There are 10^6 cells", "6", False, False),
    ("The area is 3\\pi", "3\\pi", True, False),
    ("The area is 3\\pi", "3", False, True),  # math-verify stops at the bare \pi
    ("It costs \\$5 and \\$7, so $x = 12$", "12", True, True),  # \$ is currency, not a delimiter
    ("It costs \\$5 and \\$7 in total", "7", True, False),
    ("the answer is 10 - 3 = 7", "7", True, True),
    ("the answer is 10 - 3 = 7", "10", False, False),
    ("The answer is $\\frac{1}{2}$.", "0.5", True, True),
    ("Thus \\boxed{\\frac{\\sqrt{2}}{2}}", "\\frac{1}{\\sqrt{2}}", True, True),
    ("The temperature is \u22125", "-5", True, False),
    ("about 1 000", "1000", True, True),
    ("We get $x^2 = 4$, so $x = 2$.", "2", True, True),
    ("Hence the interval is $[0, 1)$.", "[0,1)", True, True),
    ("The answer is 5 dollars, since 2 + 3 = 5.", "5", True, True),
    ("The answer is \\frac{1}{2} of the cake.", "\\frac{1}{2}", True, True),
]


@pytest.mark.parametrize(("reply", "gold", "ours", "reference"), MATH)
def test_math_extraction_against_math_verify(reply, gold, ours, reference):
    task = get_task("math500")
    assert is_correct(task, extract(task.extractor, reply), gold)[0] is ours
    assert verify(parse(f"${gold}$"), parse(reply)) is reference


@pytest.mark.parametrize(("reply", "formula", "value"), [
    ("So x = \\dfrac{1}{2}.", "\\dfrac{1}{2}", sympy.Rational(1, 2)),
    ("There are 10^6 cells", "10^6", sympy.Integer(10) ** 6),
    ("The area is 3\\pi", "3\\pi", 3 * sympy.pi),
])
def test_bare_latex_is_taken_whole_and_parses_as_math_verify_reads_it(reply, formula, value):
    assert math_answer(reply) == formula
    assert sympy.simplify(parse(f"${formula}$")[0] - value) == 0


@pytest.mark.parametrize("unit", ["$", "\\(", "1 ", "{", "the answer is ", "10 - ", "\\frac{", "5 (x "])
def test_long_adversarial_replies_extract_in_linear_time(unit):
    """Four times the text takes about four times as long (a quadratic rule would take sixteen)."""
    import time

    def seconds(n: int) -> float:
        reply = unit * n + "= 7"
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            math_answer(reply)
            extract("last_number", reply)
            best = min(best, time.perf_counter() - start)
        return best

    small = seconds(20_000 // len(unit))
    assert seconds(80_000 // len(unit)) < 8 * small + 0.05
