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
"""

from __future__ import annotations

import math
import re

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

_STEP_LINE = re.compile(
    r"(?:[-*]\s+)?(?:\*\*)?(?:"
    r"step\s*\d+|stage\s*\d+|part\s*\(?[a-z0-9]\)?[:.]"
    r"|first(?:ly)?\b|second(?:ly)?\b|third(?:ly)?\b|next\b|then\b|after that\b|finally\b|lastly\b"
    r"|\d{1,2}[.)]\s|\([a-z0-9]\)\s|[a-h][.)]\s"
    r")",
    re.IGNORECASE,
)
# counted as substrings of the lower-cased text (one C call each)
_CONNECTIVES = ("therefore", "thus,", "thus ", "hence", "consequently", "it follows that", "so that",
                "which gives", "we get", "we obtain", "substituting", "simplifying", "∴", "⇒", "\\implies",
                "\\rightarrow", "\\therefore")
_RELATION = re.compile(r"(?<![=!<>])=(?!=)|[<>≤≥≈]|\\(?:le|ge|leq|geq|approx|Rightarrow|implies)\b|=>")
_DERIVATION_START = re.compile(
    r"(?:&\s*)?(?:=|\\implies|\\Rightarrow|⇒|=>|→|which gives|so\b|then\b|hence\b|thus\b)",
    re.IGNORECASE,
)
_ASCII_MATH = b"0123456789+-*/=^<>()[]{}|\\_%"
_UNICODE_MATH = "≤≥≈±×÷√∑∫∂π∞∈∀∃⇒→"
_STEP_FIRST = frozenset("0123456789([-*abcdefghABCDEFGHsSfFnNtTlLpP")
_DERIVATION_FIRST = frozenset("=\\&⇒→wWsStThH")
_RELATION_HINTS = ("=", "<", ">", "\\")


def _math_chars(text: str) -> tuple[int, int]:
    """(digits and math symbols, non-space characters), counted with C-speed string methods."""
    compact = "".join(text.split())
    raw = compact.encode("utf-8", "replace")
    n_math = len(raw) - len(raw.translate(None, _ASCII_MATH))
    if not compact.isascii():
        n_math += sum(compact.count(ch) for ch in _UNICODE_MATH)
    return n_math, len(compact)


def scaffold_features(text: str) -> dict[str, float]:
    """The six scaffold features of `text` (see the module docstring); all 0.0 for empty text."""
    feats = dict.fromkeys(FEATURES, 0.0)
    if not text or not text.strip():
        return feats
    n_lines = steps = chain = best_chain = derivation = indented = 0
    for ln in text.split("\n"):
        stripped = ln.strip()
        if not stripped:
            continue  # blank lines neither break nor extend an equation chain
        n_lines += 1
        first = stripped[0]
        if first in _STEP_FIRST and _STEP_LINE.match(stripped):
            steps += 1
        if (any(h in stripped for h in _RELATION_HINTS) or not stripped.isascii()) and _RELATION.search(stripped):
            chain += 1
            best_chain = max(best_chain, chain)
        else:
            chain = 0
        if (first in _DERIVATION_FIRST and _DERIVATION_START.match(stripped)) or (
                stripped.count("=") - 2 * stripped.count("==") >= 2):
            derivation += 1
        if ln[0] in " \t" and (ln.startswith("  ") or ln[0] == "\t"):
            indented += 1
    n_math, n_chars = _math_chars(text)
    lower = text.lower()
    feats["step_markers"] = float(steps)
    feats["connectives"] = float(sum(lower.count(c) for c in _CONNECTIVES))
    feats["equation_chain"] = float(best_chain)
    feats["derivation_depth"] = float(derivation)
    feats["symbol_density"] = n_math / max(1, n_chars)
    feats["indentation"] = indented / max(1, n_lines)
    return feats


def score_from_features(features: dict[str, float]) -> float:
    """Weighted sum of saturating terms; non-decreasing in every feature, in [0, 1]."""
    total = 0.0
    for name, weight in WEIGHTS.items():
        value = max(0.0, float(features.get(name, 0.0)))
        total += weight * -math.expm1(-value / SCALES[name])
    return min(1.0, max(0.0, total))


def scaffold_score(text: str) -> float:
    """Scaffold score of `text` in [0, 1]; 0.0 for empty or whitespace-only text."""
    if not text or not text.strip():
        return 0.0
    return score_from_features(scaffold_features(text))
