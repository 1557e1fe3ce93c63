"""The compiled scans (`_scan.c`) equal their Python references on every text, in linear time."""

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curation.classifiers import compiled, heuristic, line_rules, scaffold
from curation.demo.data import iter_documents
from curation.tagging.records import CONTROL_CHARS, has_control_chars

# the syntax the rules look at, plus the characters where Python's Unicode classes differ from ASCII ones
FRAGMENTS = [
    "\n", "\n", "\n\n", " ", " ", "  ", "    ", "\t", "\r", "\x00", "\x07", "\x1f", "\ufeff", "\x7f",
    "\x0b", "\x0c", "\x1c", "\x85", "\u2028", "\xa0",
    "=", "==", "!=", "+=", "//=", "<<=", ">>=", "-=", "=>", "->", "x", "ab", "a_b", "self.x", "a.b[0]", "'k'",
    "def ", "class ", "return", "return ", "{", "}", ";", "};", "fi", "done", "then", "; then", "; do", "):",
    ":", ",", "(", ")", "[", "]", "foo(", "f(x)", "/*", "*/", "* ", "# ", "#\t", "//", " // ", "  #", "-- ",
    "<!--", "=pod", "=head1", "=cut", "- ", "+ ", "|", "'", '"', "“", "”", "’", "`", "*", "!", "?", ".", "-",
    "/", "%", "\\frac{a}{b}", "\\le", "\\ge", "\\approx", "≤", "≥", "≈", "≠", "×", "÷", "^", "from ",
    " import ", "import ", "if ", "else", "SELECT ", "print(", "3", "12", "1.5", "3/4", "2,000", "٣", "²", "Ⅷ",
    "how", " how ", "square", "expected", "what", "find", "solve", "theorem", "proof", "function", "install",
    "```", "```py\n", "~~~", "~~~\n", "``", "````", " ```\n", "\n```", "\n~~~ \n",
    "How many", "The", "Hello", "world", "word", "é", "ſ", "İ", "ı", "K", "_", "a1", "Z",
]
texts = st.one_of(
    st.lists(st.sampled_from(FRAGMENTS), max_size=80).map("".join),
    st.text(max_size=300),
)
# pattern sets counted at once: the classifiers' own, overlapping and repeated ones ("aa" in "aaa" counts once)
COUNTED = [heuristic._PROBES, heuristic._MATH_SYMBOLS, heuristic._MATH_PHRASES, scaffold._PLAIN_CONNECTIVES, scaffold._OTHER_CONNECTIVES,
           scaffold._UNICODE_MATH, ("aa", "a", "a"), ("a", "a", "≤", "\x00"), ("==", "=", "≤", "≤≥", "\\le")]
SETTINGS = settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_count_all_refuses_patterns_it_cannot_count():
    from curation.classifiers import _scan

    assert _scan.count_all("a\x00b\x00", ("\x00",)) == 2
    with pytest.raises(ValueError, match="empty"):
        _scan.count_all("abc", ("a", ""))
    with pytest.raises(ValueError, match="at most"):
        _scan.count_all("abc", tuple("x" * 65))


def test_the_compiled_scans_are_built():
    # the install builds them (setup.py); without them the tagger runs the references, about 2x slower
    assert compiled.COMPILED and line_rules.line_stats is compiled._scan.line_stats
    assert heuristic.word_stats is compiled._scan.word_stats


def _check(text: str) -> None:
    assert line_rules.line_stats(text) == line_rules.reference_line_stats(text), repr(text)
    assert heuristic.word_stats(text) == heuristic.reference_word_stats(text), repr(text)
    assert heuristic.arith_count(text) == heuristic.reference_arith_count(text), repr(text)
    assert scaffold._math_chars(text) == scaffold.reference_math_chars(text), repr(text)
    assert has_control_chars(text) == (CONTROL_CHARS.search(text) is not None), repr(text)
    assert tuple(heuristic.fences(text)) == heuristic.reference_fences(text), repr(text)
    for patterns in COUNTED:
        assert compiled.count_all(text, patterns) == compiled.reference_count_all(text, patterns), repr(text)
        assert compiled.count_each(text, patterns) == compiled.reference_count_each(text, patterns), repr(text)
    for end in (-1, 0, 7, len(text) // 2):
        assert heuristic.number_count(text, end) == heuristic.reference_number_count(text, end), repr(text)


@SETTINGS
@given(texts)
def test_equal_to_the_references_on_generated_text(text):
    _check(text)


def test_equal_to_the_references_on_the_demo_corpus():
    for doc in iter_documents(1500, seed=3):
        _check(doc["text"])


@pytest.mark.parametrize(
    "text",
    [
        "", "\n", "   \n\t\n", "x = 1", "x == 1", "ab = ", "a.b[0] += 2", "a //= 3", "a <<= 1", "a\u3000= 1",
        "1 = 2", "_ = f(x)", "f(x)", "f (x)", "obj.method(arg)", "\\frac{a}{b} = c", "{\\bf x}", "=pod\nany\n=cut",
        "/* a\nb */\nc", "/*/ still open\nx", "- The first item of a list of things here", "“Quoted” prose is here too ok",
        "The quick brown fox jumps over the lazy dog", "x ≤ y and y ≥ z", "return x == y", "3 - 4", "3 -4",
        "٣+٤", "1.2.3", "12/3/4", "5 ×(2)", "7  -  a", "How many apples?", "square root of 2", "word" * 40,
    ],
)
def test_equal_to_the_references_on_edge_cases(text):
    _check(text)


@pytest.mark.parametrize(
    "text",
    ["=" * 200_000, "\n" * 200_000, " " * 200_000 + "x", "a " * 100_000, "1 " * 100_000, "1.1." * 50_000,
     "```\n" * 100_000, "```\n" + "x\n" * 100_000,
     "(" * 200_000 + ")", "\\f" * 100_000, "- " * 100_000, "“" * 200_000, "3 -" * 60_000],
)
def test_linear_on_adversarial_lines(text):
    start = time.perf_counter()
    line_rules.line_stats(text)
    heuristic.word_stats(text)
    heuristic.arith_count(text)
    heuristic.number_count(text)
    heuristic.fences(text)
    scaffold._math_chars(text)
    compiled.count_all(text, ("==", "=", "aa", "a "))
    assert time.perf_counter() - start < 0.5
