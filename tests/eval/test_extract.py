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
    ("the answer is 10 - 3 = 7", "7"),
    ("The answer is 5 + 3 = 8 apples, since 5 + 3 = 8.", "8"),
    ("It drops to \u22125 degrees.", "-5"),
    ("There are 1 000 seats and 12\u2009345.5 litres", "12345.5"),
    ("A crowd of 1\u202f000\u202f000", "1000000"),
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
    assert code_block(text) == "def f(x):\n    return x + 1\n"  # the solution, not the usage example
    two = "```python\ndef helper():\n    pass\n```\n```python\ndef g():\n    return 1\n```\n```python\nprint(g())\n```"
    assert code_block(two, entry_point="helper") == "def helper():\n    pass\n"
    assert code_block(two) == "def g():\n    return 1\n"
    assert code_block("```\nprint(1)\n```\n```\nprint(2)\n```") == "print(2)\n"
    assert code_block("```python\ndef g():\n    return 2\n```") == "def g():\n    return 2\n"
    assert code_block("def h(): pass") == "def h(): pass"
    assert boxed_content("so \\boxed{\\frac{1}{2}} done") == "\\frac{1}{2}"
    assert math_answer("Thus \\boxed{\\frac{1}{2}}.") == "\\frac{1}{2}"
    assert math_answer("The final answer is $x^2$.") == "x^2"


@pytest.mark.parametrize(("text", "expected"), [
    ("So x = \\dfrac{1}{2}.", "\\dfrac{1}{2}"),  # not the last bare number, 2
    ("There are 10^6 cells", "10^6"),
    ("The area is 3\\pi", "3\\pi"),
    ("It costs \\$5 and \\$7, so $x = 12$", "12"),  # \\$ is a currency sign, not a delimiter
    ("the answer is 10 - 3 = 7", "7"),
    ("The answer is $\\frac{1}{2}$ because 3 > 2.", "\\frac{1}{2}"),
    ("We get \\( x^2 = 4 \\) here", "4"),
    ("It is \u22125", "-5"),
    ("about 1 000", "1000"),
    ("I have 3 apples and 4 pears", "4"),
    ("The result is 5 (rounded).", "5"),  # no dangling bracket
    ("so f(3) = 12", "12"),
    ("The answer is 5 dollars, since 2 + 3 = 5.", "5"),  # the cue's formula, not its trailing prose
    ("The answer is \\frac{1}{2} of the cake.", "\\frac{1}{2}"),
    ("The answer is (3, \\frac{\\pi}{2}).", "(3, \\frac{\\pi}{2})"),
    ("The answer is Monday.", "Monday"),
    ("no answer here", None),
])
def test_math_answer_without_boxed(text, expected):
    assert math_answer(text) == expected


def test_extract_dispatches_by_name():
    assert extract("option_letter", "(C)", ["a", "b", "c"]) == "C"
    assert extract("last_number", "7 cats") == "7"
    assert extract("code_block", "```\ndef f():\n    pass\n```\n```\nf()\n```", entry_point="f") == "def f():\n    pass\n"
