"""Scaffold score: how much explicit, structured reasoning a document shows, in [0, 1].

The structured-reasoning study selects "scaffold" math samples — explicit intermediate steps, high
symbol density, derivation steps, indentation — by a threshold on a classifier score (0.5 in the
shipped recipes). This module computes that score from six cheap, explainable features:

| feature            | what is measured                                                        | scale | weight |
|--------------------|-------------------------------------------------------------------------|-------|--------|
| `step_markers`     | lines opened by a step marker: "Step 3", "First,", "Next,", "Finally,", | 1.5   | 0.30   |
|                    | numbered / lettered items ("1.", "2)", "(a)", "Part (b):")              |       |        |
| `connectives`      | therefore, thus, hence, consequently, it follows that, we get, ∴, ⇒ ... | 1.0   | 0.10   |
| `equation_chain`   | longest run of consecutive non-empty lines holding a relation           | 1.5   | 0.20   |
|                    | (`=`, `<`, `>`, `≤`, `≥`, `≈`, `\\le`, `\\Rightarrow`, `=>`)              |       |        |
| `derivation_depth` | lines that continue a derivation: start with `=`, `&=`, `\\implies`, `⇒`, | 1.5   | 0.15   |
|                    | "which gives", "so", "then", "hence", "thus", or hold two or more `=`   |       |        |
| `symbol_density`   | share of non-space characters that are digits or math symbols           | 0.08  | 0.15   |
| `indentation`      | share of non-empty lines indented by 2+ spaces or a tab                 | 0.15  | 0.10   |

Score: `sum_i weight_i * (1 - exp(-f_i / scale_i))` with weights summing to 1 (`WEIGHTS`, `SCALES`).
Each term rises from 0 towards its weight as its feature grows (a feature at its scale gives 63% of its
weight, at twice its scale 86%), so the first step markers and equations count most, and the score is
MONOTONE: raising any one feature never lowers it. Empty or whitespace-only text scores 0.0. A short
worked solution with three explicit steps and an equation chain scores about 0.5-0.7; the same answer
in one sentence of prose about 0.05-0.2.

The line counts (steps, derivation, equation chain, indentation) run in a compiled twin of the patterns
here, `_scaffold_lines.c`, and the character counts in `_scan.c` (`compiled.py`), checked equal to them by
tests; without a C compiler the Python here runs.
"""

from __future__ import annotations

import math
import re

from curation.classifiers.compiled import _scaffold_lines, _scan, count_all

# built without a C compiler: `_line_counts` below gives the same numbers, more slowly (`compiled.py`)
_compiled_line_counts = _scaffold_lines.scaffold_lines if _scaffold_lines is not None else None

WEIGHTS: dict[str, float] = {
    "step_markers": 0.30,
    "connectives": 0.10,
    "equation_chain": 0.20,
    "derivation_depth": 0.15,
    "symbol_density": 0.15,
    "indentation": 0.10,
}
SCALES: dict[str, float] = {
    "step_markers": 1.5,
    "connectives": 1.0,
    "equation_chain": 1.5,
    "derivation_depth": 1.5,
    "symbol_density": 0.08,
    "indentation": 0.15,
}
FEATURES: tuple[str, ...] = tuple(WEIGHTS)

# counted as substrings of the lower-cased text (one C call each)
_CONNECTIVES = ("therefore", "thus,", "thus ", "hence", "consequently", "it follows that", "so that",
                "which gives", "we get", "we obtain", "substituting", "simplifying", "∴", "⇒", "\\implies",
                "\\rightarrow", "\\therefore")
# the others need a backslash or non-ASCII text: skipped (one scan each) when the text has neither
_PLAIN_CONNECTIVES = tuple(c for c in _CONNECTIVES if c.isascii() and "\\" not in c)
_OTHER_CONNECTIVES = tuple(c for c in _CONNECTIVES if c not in _PLAIN_CONNECTIVES)
_ASCII_MATH = b"0123456789+-*/=^<>()[]{}|\\_%"
_UNICODE_MATH = tuple("≤≥≈±×÷√∑∫∂π∞∈∀∃⇒→")
_RELATION_HINTS = ("=", "<", ">", "\\")


_ASCII_SPACE = b" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"  # what `str.split()` separates on in ASCII text


def reference_math_chars(text: str) -> tuple[int, int]:
    """(digits and math symbols, non-space characters), counted with C-speed string methods; the reference
    of `_math_chars`, a compiled twin (`compiled.py`)."""
    if not text.isascii():
        compact = "".join(text.split())
        raw = compact.encode("utf-8", "replace")
        n_math = len(raw) - len(raw.translate(None, _ASCII_MATH))
        return n_math + sum(map(compact.count, _UNICODE_MATH)), len(compact)
    raw = text.encode("ascii")
    return len(raw) - len(raw.translate(None, _ASCII_MATH)), len(raw.translate(None, _ASCII_SPACE))


def _compiled_math_chars(text: str, ascii_math: str = _ASCII_MATH.decode(),
                         other: str = "".join(_UNICODE_MATH)) -> tuple[int, int]:
    return _scan.math_chars(text, ascii_math, other)


_math_chars = _compiled_math_chars if _scan is not None else reference_math_chars


# Whole-text passes (one C scan each) instead of a Python loop over lines. They run on "\n" + text: each
# pattern starts at a line's "\n" (a literal the scan skips to quickly) and `[^\S\n]` keeps it inside one
# line, so it sees what the per-line rule sees on `ln.strip()`.
_LEAD = r"\n[^\S\n]*"
_STEP = (_LEAD + r"(?=[0-9(\[\-*a-hA-HsSfFnNtTlLpP])(?:[-*][^\S\n]+)?(?:\*\*)?(?:"
         r"step[^\S\n]*\d|stage[^\S\n]*\d|part[^\S\n]*\(?[a-z0-9]\)?[:.]"
         r"|first(?:ly)?\b|second(?:ly)?\b|third(?:ly)?\b|next\b|then\b|after that\b"
         r"|finally\b|lastly\b|\d{1,2}[.)][^\S\n]+\S|\([a-z0-9]\)[^\S\n]+\S|[a-h][.)][^\S\n]+\S)")
_DERIVATION = (_LEAD + r"(?:&[^\S\n]*)?(?:=|\\implies|\\rightarrow|⇒|=>|→|which gives"
               r"|so\b|then\b|hence\b|thus\b)")
_STEP_LINES = re.compile(_STEP, re.IGNORECASE)
_DERIVATION_LINES = re.compile(_DERIVATION, re.IGNORECASE)
# ASCII text: the same patterns, case-sensitive, over the lower-cased text. For ASCII, lower-casing and
# IGNORECASE agree (Unicode case folds such as "ſ" ~ "s" do not), and `re` scans a case-sensitive
# pattern much faster.
_STEP_LINES_LOWER = re.compile(_STEP)
_DERIVATION_LINES_LOWER = re.compile(_DERIVATION)
_TWO_EQ_LINES = re.compile(r"\n[^\n]*=[^\n]*=[^\n]*")  # candidates for "two or more `=`"
_NONEMPTY = re.compile(r"\n[^\S\n]*\S")
_INDENTED = re.compile(r"\n(?:  |\t)[^\S\n]*\S")
# a line holding a relation: skip characters that cannot start one, try one where it might (linear time)
_REL = r"(?:=(?<![=!<>]=)(?!=)|[<>≤≥≈]|\\(?:le|ge|leq|geq|approx|Rightarrow|implies)\b|=>)"
_REL_LINE = r"[^\n=<>≤≥≈\\]*+(?:(?!" + _REL + r")[=<>≤≥≈\\][^\n=<>≤≥≈\\]*+)*+" + _REL + r"[^\n]*+"
# a run of such lines, blank lines allowed in between (they neither break nor extend a chain)
_CHAIN = re.compile(r"\n" + _REL_LINE + r"(?:\n(?:[^\S\n]*\n)*+" + _REL_LINE + r")*+")


def _derivation_lines(text: str, derivation: re.Pattern = _DERIVATION_LINES) -> int:
    """Derivation lines of `text` ("\n" first); `derivation`: `_DERIVATION_LINES`, or its lower-case twin
    when `text` is ASCII and lower-cased."""
    n = len(derivation.findall(text))
    if text.count("=") >= 2:  # lines with two or more `=` (not `==`) that do not already start a derivation
        for ln in _TWO_EQ_LINES.findall(text):
            if ln.count("=") - 2 * ln.count("==") >= 2 and not derivation.match(ln):
                n += 1
    return n


def _longest_chain(text: str) -> int:
    if text.isascii() and not any(map(text.__contains__, _RELATION_HINTS)):
        return 0
    return max((len(_NONEMPTY.findall(run)) for run in _CHAIN.findall(text)), default=0)


def scaffold_features(text: str) -> dict[str, float]:
    """The six scaffold features of `text` (see the module docstring); all 0.0 for empty text."""
    if not text or not text.strip():
        return dict.fromkeys(FEATURES, 0.0)
    return text_features(text, text.lower())


def text_features(text: str, lower: str) -> dict[str, float]:
    """`scaffold_features` of a non-blank `text` whose `lower()` the caller has already computed."""
    feats = {}
    n_math, n_chars = _math_chars(text)
    connectives = count_all(lower, _PLAIN_CONNECTIVES)
    if "\\" in text or not text.isascii():
        connectives += count_all(lower, _OTHER_CONNECTIVES)
    if _compiled_line_counts is not None:
        n_lines, steps, derivation, chain, indented = _compiled_line_counts(text)
    else:
        n_lines, steps, derivation, chain, indented = _line_counts(text, lower)
    feats["step_markers"] = float(steps)
    feats["connectives"] = float(connectives)
    feats["equation_chain"] = float(chain)
    feats["derivation_depth"] = float(derivation)
    feats["symbol_density"] = n_math / max(1, n_chars)
    feats["indentation"] = indented / max(1, n_lines)
    return feats


def _line_counts(text: str, lower: str) -> tuple[int, int, int, int, int]:
    """(non-empty lines, step-marker lines, derivation lines, longest equation chain, indented lines) of
    `text`, whose `lower()` is `lower`: the reference that `_scaffold_lines.scaffold_lines` equals."""
    text = "\n" + text
    n_lines = len(_NONEMPTY.findall(text))
    if text.isascii():
        lower = "\n" + lower
        steps = len(_STEP_LINES_LOWER.findall(lower))
        derivation = _derivation_lines(lower, _DERIVATION_LINES_LOWER)
    else:
        steps = len(_STEP_LINES.findall(text))
        derivation = _derivation_lines(text)
    indented = len(_INDENTED.findall(text)) if "\n  " in text or "\n\t" in text else 0
    return n_lines, steps, derivation, _longest_chain(text), indented


def score_from_features(features: dict[str, float]) -> float:
    """Weighted sum of saturating terms; non-decreasing in every feature, in [0, 1]."""
    total = 0.0
    get = features.get
    for name, weight in WEIGHTS.items():
        value = float(get(name, 0.0))
        value = value if value > 0.0 else 0.0  # negatives and NaN count as 0
        total += weight * -math.expm1(-value / SCALES[name])
    return 1.0 if total > 1.0 else total if total > 0.0 else 0.0


def scaffold_score(text: str) -> float:
    """Scaffold score of `text` in [0, 1]; 0.0 for empty or whitespace-only text."""
    if not text or not text.strip():
        return 0.0
    return score_from_features(scaffold_features(text))


class HeuristicScaffold:
    """`scaffold_score` behind the scaffold-scorer interface (`name`, `score(text)`)."""

    name = "scaffold-heuristic-v1"

    def score(self, text: str) -> float:
        return scaffold_score(text)
