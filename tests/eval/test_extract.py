import pytest

from eval.extract import (
    boxed_content,
    code_block,
    extract,
    last_number,
    list_answer,
    math_answer,
    normalized_string,
    option_letter,
    yes_no,
)


@pytest.mark.parametrize(("text", "expected"), [
    ("She pays 3 * 6 = 18 dollars. The answer is 18.", "18"),
    ("The answer is $1,234.50 in total.", "1234.5"),
    ("Total: 12 apples, then 30 more, so 42 apples", "42"),
    ("#### 72", "72"),
    ("The answer is 18 dollars, i.e. 3 * 6.", "18"),
    ("Half of it: 3/4 of a cup", "0.75"),
    ("It drops to -5 degrees.", "-5"),
    ("About 50% of them", "50"),
    ("so x = \\boxed{12} and then 99", "12"),
    ("1,000,000 people", "1000000"),
    ("no digits here", None),
])
def test_last_number(text, expected):
    assert last_number(text) == expected


@pytest.mark.parametrize(("text", "options", "expected"), [
    ("Let's see... The answer is (B).", None, "B"),
    ("Answer: C", None, "C"),
    ("(A) is wrong, (D) is right", None, "D"),
    ("The answer is B. Because A fails.", None, "B"),
    ("I think it is the blue book.", ["red book", "blue book", "green book"], "B"),
    ("nothing useful", ["x1", "x2"], None),
])
def test_option_letter(text, options, expected):
    assert option_letter(text, options) == expected


def test_strings_lists_and_yes_no():
    assert normalized_string('Concatenating: J, M.\nThe answer is "JM".') == "jm"
    assert normalized_string("The granddaughter.\nMore text") == "granddaughter"
    assert list_answer("The answer is alarm, gum, key.") == "alarm, gum, key"
    assert list_answer("[c; b; a]") == "c, b, a"
    assert yes_no("Ka flips, so no. The answer is yes.") == "yes"
    assert yes_no("After two flips the coin is heads up: no, wait, yes") == "yes"
    assert yes_no("maybe") is None


def test_code_and_math():
    text = "Here:\n```python\ndef f(x):\n    return x + 1\n```\nand a test\n```\nprint(f(1))\n```"
    assert code_block(text) == "print(f(1))\n"
    assert code_block("```python\ndef g():\n    return 2\n```") == "def g():\n    return 2\n"
    assert code_block("def h(): pass") == "def h(): pass"
    assert boxed_content("so \\boxed{\\frac{1}{2}} done") == "\\frac{1}{2}"
    assert math_answer("Thus \\boxed{\\frac{1}{2}}.") == "\\frac{1}{2}"
    assert math_answer("The final answer is $x^2$.") == "x^2"


def test_extract_dispatches_by_name():
    assert extract("option_letter", "(C)", ["a", "b", "c"]) == "C"
    assert extract("last_number", "7 cats") == "7"
