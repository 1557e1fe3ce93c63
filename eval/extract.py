"""Rule-based answer extraction, one rule per answer type.

Each rule maps a generation to the answer string that is scored (or None when nothing is found).
Answers introduced by "the answer is", "####" or \\boxed{} win over anything else in the text, as in
the zero-shot chain-of-thought answer-extraction step (Kojima et al., 2022).
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from fractions import Fraction

_ANSWER_CUE = re.compile(r"(?:the\s+)?(?:final\s+)?answer\s*(?:is|:)\s*:?\s*|####\s*", re.IGNORECASE)
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:\s*/\s*\d+)?|-?\.\d+")
_ARTICLES = re.compile(r"\b(?:a|an|the)\b")


def _after_cue(text: str) -> str | None:
    """Text after the last answer cue, up to the end of that line."""
    cues = list(_ANSWER_CUE.finditer(text))
    if not cues:
        return None
    return text[cues[-1].end():].split("\n", 1)[0]


def boxed_content(text: str) -> str | None:
    """Content of the last \\boxed{...}, braces balanced."""
    start = text.rfind("\\boxed")
    if start < 0:
        return None
    i = text.find("{", start)
    if i < 0:
        return None
    depth = 0
    for j in range(i, len(text)):
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        if depth == 0:
            return text[i + 1:j]
    return None


def parse_number(token: str) -> float | None:
    """'1,234.5' -> 1234.5, '3/4' -> 0.75, '$12' -> 12.0; None if not a number."""
    token = token.strip().replace(",", "").replace("$", "").replace("%", "").rstrip(".")
    try:
        return float(Fraction(token.replace(" ", ""))) if "/" in token else float(token)
    except (ValueError, ZeroDivisionError):
        return None


def format_number(value: float) -> str:
    return str(int(value)) if value.is_integer() else f"{value:.6g}"


def last_number(text: str) -> str | None:
    """The number after the answer cue, else the last number in the text; units, commas, $ and % dropped."""
    for scope in (boxed_content(text), _after_cue(text), text):
        if not scope:
            continue
        numbers = _NUMBER.findall(scope)
        if numbers:
            # after a cue the first number is the answer ("The answer is 18 dollars, i.e. 3 * 6")
            token = numbers[0] if scope is not text else numbers[-1]
            value = parse_number(token)
            if value is not None:
                return format_number(value)
    return None


def option_letter(text: str, options: list[str] | None = None) -> str | None:
    """'(B)', 'B.', 'answer is B' or an option's exact text -> 'B'."""
    letters = string.ascii_uppercase[: len(options)] if options else "ABCDEFGHIJ"
    cue = _after_cue(text)
    pattern = re.compile(rf"\(([{letters}])\)|\b([{letters}])\b(?=[\s.):,]|$)")
    for scope in (cue, text):
        if not scope:
            continue
        hits = pattern.findall(scope)
        if hits:
            first_or_last = hits[0] if scope is cue else hits[-1]
            return first_or_last[0] or first_or_last[1]
    if options:
        lowered = (cue or text).lower()
        found = [(lowered.rfind(o.lower()), i) for i, o in enumerate(options) if o and o.lower() in lowered]
        if found:
            return string.ascii_uppercase[max(found)[1]]
    return None


def normalize_text(text: str, articles: bool = True) -> str:
    """Lower-case; drop punctuation, quotes and (unless `articles=False`) articles; collapse spaces."""
    text = text.lower().translate(str.maketrans("", "", string.punctuation + "“”‘’"))
    return " ".join((_ARTICLES.sub(" ", text) if articles else text).split())


def _answer_span(text: str) -> str:
    cue = _after_cue(text)
    if cue is not None:
        return cue
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else ""


def normalized_string(text: str) -> str | None:
    """The text after the answer cue (else the first line), normalised."""
    out = normalize_text(_answer_span(text))
    return out or None


def yes_no(text: str) -> str | None:
    """'yes' or 'no': the first after the answer cue, else the last in the text."""
    cue = _after_cue(text)
    for scope in (cue, text):
        if not scope:
            continue
        hits = re.findall(r"\b(yes|no)\b", scope.lower())
        if hits:
            return hits[0] if scope is cue else hits[-1]
    return None


def parse_list(text: str) -> list[str]:
    text = text.strip().strip("[]")
    parts = re.split(r",|;|\n", text)
    return [p for p in (normalize_text(x, articles=False) for x in parts) if p]  # 'a' can be an item


def list_answer(text: str) -> str | None:
    """A comma-, semicolon- or newline-separated list after the answer cue (else the first line)."""
    items = parse_list(_answer_span(text).strip().rstrip("."))
    return ", ".join(items) if items else None


def code_block(text: str) -> str | None:
    """The last fenced code block (```python ... ```), else the whole generation."""
    blocks = re.findall(r"```[ \t]*[\w+-]*[ \t]*\n(.*?)(?:```|$)", text, flags=re.DOTALL)
    blocks = [b for b in blocks if b.strip()]
    if blocks:
        return blocks[-1].rstrip() + "\n"
    return text if text.strip() else None


def math_answer(text: str) -> str | None:
    """\\boxed{} content, else the text after the answer cue, else the last number."""
    boxed = boxed_content(text)
    if boxed is not None:
        return boxed.strip()
    cue = _after_cue(text)
    if cue and cue.strip():
        return cue.strip().rstrip(".").strip("$ ")
    return last_number(text)


EXTRACTORS: dict[str, Callable[..., str | None]] = {
    "last_number": last_number,
    "option_letter": option_letter,
    "normalized_string": normalized_string,
    "yes_no": yes_no,
    "list": list_answer,
    "code_block": code_block,
    "math_answer": math_answer,
}


def extract(name: str, text: str, options: list[str] | None = None) -> str | None:
    func = EXTRACTORS[name]
    return func(text, options) if name == "option_letter" else func(text)
