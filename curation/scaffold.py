"""Scaffold score: how much explicit, structured reasoning a document shows, in [0, 1].

The structured-reasoning study selects "scaffold" math samples — explicit intermediate steps, high
symbol density, derivation steps, indentation — by a threshold on a classifier score (0.5 in the
shipped recipes). This module computes that score from six cheap, explainable features:

| feature               | what is measured                                                      | saturates at |
|-----------------------|-----------------------------------------------------------------------|--------------|
| `step_markers`        | lines opened by a step marker: "Step 3", "First,", "Next,", "Finally," | 4            |
|                       | numbered / lettered list items ("1.", "2)", "(a)")                    |              |
| `connectives`         | reasoning connectives anywhere: therefore, thus, hence, so that, ∴, ⇒  | 3            |
| `equation_chain`      | longest run of consecutive non-empty lines that hold a relation       | 4            |
|                       | (`=`, `<`, `>`, `≤`, `≥`, `\\le`, `\\Rightarrow`, `=>`)               |              |
| `derivation_depth`    | lines that continue a derivation: start with `=`, `\\implies`, `⇒`,   | 4            |
|                       | "which gives", "so", "then", or hold two or more `=`                  |              |
| `symbol_density`      | share of non-space characters that are digits or math symbols        | 0.25         |
| `indentation`         | share of non-empty lines indented by 2+ spaces or a tab               | 0.4          |

The score is a weighted sum of the saturated features, `sum_i w_i * min(1, f_i / cap_i)` with
weights summing to 1 (`WEIGHTS`, `CAPS`). Each term is non-decreasing in its feature, so the score is
MONOTONE: raising any one feature never lowers it. Empty or whitespace-only text scores 0.0.
"""

from __future__ import annotations

import re

# feature -> (weight, saturation cap); weights sum to 1 so the score lies in [0, 1].
WEIGHTS: dict[str, float] = {
    "step_markers": 0.28,
    "connectives": 0.10,
    "equation_chain": 0.22,
    "derivation_depth": 0.15,
    "symbol_density": 0.15,
    "indentation": 0.10,
}
CAPS: dict[str, float] = {
    "step_markers": 4.0,
    "connectives": 3.0,
    "equation_chain": 4.0,
    "derivation_depth": 4.0,
    "symbol_density": 0.25,
    "indentation": 0.4,
}
FEATURES: tuple[str, ...] = tuple(WEIGHTS)

_STEP_LINE = re.compile(
    r"^\s*(?:[-*]\s+)?(?:\*\*)?(?:"
    r"step\s*\d+|stage\s*\d+|part\s*\(?[a-z0-9]\)?[:.]"
    r"|first(?:ly)?\b|second(?:ly)?\b|third(?:ly)?\b|next\b|then\b|after that\b|finally\b|lastly\b"
    r"|\d{1,2}[.)]\s|\([a-z0-9]\)\s|[a-h][.)]\s"
    r")",
    re.IGNORECASE,
)
_CONNECTIVE = re.compile(
    r"\b(?:therefore|thus|hence|consequently|it follows that|so that|which gives|we get|we obtain"
    r"|substituting|simplifying)\b|∴|⇒|\\implies|\\Rightarrow|\\therefore",
    re.IGNORECASE,
)
_RELATION = re.compile(r"(?<![=!<>])=(?!=)|[<>≤≥≈]|\\(?:le|ge|leq|geq|approx|Rightarrow|implies)\b|=>")
_DERIVATION_START = re.compile(
    r"^\s*(?:&\s*)?(?:=|\\implies|\\Rightarrow|⇒|=>|→|which gives|so\b|then\b|hence\b|thus\b)",
    re.IGNORECASE,
)
_MATH_CHARS = frozenset("0123456789+-*/=^<>()[]{}|\\_%≤≥≈±×÷√∑∫∂π∞∈∀∃⇒→")


def scaffold_features(text: str) -> dict[str, float]:
    """The six scaffold features of `text` (see the module docstring); all 0.0 for empty text."""
    feats = dict.fromkeys(FEATURES, 0.0)
    if not text or not text.strip():
        return feats
    lines = [ln for ln in text.splitlines() if ln.strip()]
    steps = chain = best_chain = derivation = indented = 0
    for ln in lines:
        if _STEP_LINE.match(ln):
            steps += 1
        has_rel = _RELATION.search(ln) is not None
        if has_rel:
            chain += 1
            best_chain = max(best_chain, chain)
        else:
            chain = 0
        if _DERIVATION_START.match(ln) or ln.count("=") - 2 * ln.count("==") >= 2:
            derivation += 1
        if ln.startswith(("  ", "\t")):
            indented += 1
    compact = "".join(text.split())
    n_math = sum(1 for ch in compact if ch in _MATH_CHARS)
    feats["step_markers"] = float(steps)
    feats["connectives"] = float(len(_CONNECTIVE.findall(text)))
    feats["equation_chain"] = float(best_chain)
    feats["derivation_depth"] = float(derivation)
    feats["symbol_density"] = n_math / max(1, len(compact))
    feats["indentation"] = indented / max(1, len(lines))
    return feats


def score_from_features(features: dict[str, float]) -> float:
    """Weighted sum of saturated features; non-decreasing in every feature, in [0, 1]."""
    total = 0.0
    for name, weight in WEIGHTS.items():
        value = max(0.0, float(features.get(name, 0.0)))
        total += weight * min(1.0, value / CAPS[name])
    return min(1.0, max(0.0, total))


def scaffold_score(text: str) -> float:
    """Scaffold score of `text` in [0, 1]; 0.0 for empty or whitespace-only text."""
    if not text or not text.strip():
        return 0.0
    return score_from_features(scaffold_features(text))
