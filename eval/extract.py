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
# U+2212 is the typographic minus; thousands may be grouped by commas or by normal, no-break or thin spaces
_MINUS = "-\u2212"
_GROUP_SPACES = " \u00a0\u2009\u202f"
_NUM = (rf"[{_MINUS}]?(?:\d{{1,3}}(?:[{_GROUP_SPACES}]\d{{3}})+(?!\d)|\d[\d,]*)(?:\.\d+)?"
        rf"(?:\s*/\s*\d+)?|[{_MINUS}]?\.\d+")
_NUMBER = re.compile(_NUM)
# after an answer cue, "10 - 3 = 7": an arithmetic chain from the first number whose result follows "="
_CHAIN = re.compile(rf"(?:\s*(?:[-+*/=\u2212\u00d7\u00f7]|\\times|\\cdot|\\div)\s*(?:{_NUM}))+")
_NUMBER_NOISE = str.maketrans({c: None for c in ",$%" + _GROUP_SPACES} | {"\u2212": "-"})
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
    """'1,234.5' -> 1234.5, '1 000' -> 1000.0, '3/4' -> 0.75, '$12' -> 12.0, '\u22125' -> -5.0; None if
    not a number."""
    token = token.strip().translate(_NUMBER_NOISE).rstrip(".")
    try:
        return float(Fraction(token)) if "/" in token else float(token)
    except (ValueError, ZeroDivisionError):
        return None


def format_number(value: float) -> str:
    return str(int(value)) if value.is_integer() else f"{value:.6g}"


def last_number(text: str) -> str | None:
    """The number after the answer cue, else the last number in the text; units, commas, $ and % dropped."""
    for scope in (boxed_content(text), _after_cue(text), text):
        if not scope:
            continue
        token = _cued_number(scope) if scope is not text else _last_token(scope)
        value = parse_number(token) if token else None
        if value is not None:
            return format_number(value)
    return None


def _last_token(text: str) -> str | None:
    numbers = _NUMBER.findall(text)
    return numbers[-1] if numbers else None


def _cued_number(scope: str) -> str | None:
    """After a cue the first number is the answer ("The answer is 18 dollars, i.e. 3 * 6"), unless it
    starts a chain that ends in a result ("the answer is 10 - 3 = 7")."""
    first = _NUMBER.search(scope)
    if first is None:
        return None
    chain = _CHAIN.match(scope, first.end())
    if chain and "=" in chain.group():
        return _last_token(chain.group().rsplit("=", 1)[1])
    return first.group()


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


_FENCE = re.compile(r"```[ \t]*[\w+-]*[ \t]*\n(.*?)(?:```|$)", re.DOTALL)
_TOP_LEVEL_DEF = re.compile(r"^(?:async\s+)?(?:def|class)\s+(\w+)", re.MULTILINE)


def code_block(text: str, entry_point: str | None = None) -> str | None:
    """The fenced code block that defines `entry_point` (the last such), else the last block defining any
    top-level function or class, else the last block, else the whole generation. A reply that shows its
    solution and then a usage example is scored on the solution."""
    blocks = [b for b in _FENCE.findall(text) if b.strip()]
    if not blocks:
        return text if text.strip() else None
    defined = [set(_TOP_LEVEL_DEF.findall(b)) for b in blocks]
    chosen = next((b for b, names in zip(reversed(blocks), reversed(defined), strict=True)
                   if entry_point and entry_point in names), None)
    chosen = chosen or next((b for b, names in zip(reversed(blocks), reversed(defined), strict=True) if names),
                            blocks[-1])
    return chosen.rstrip() + "\n"


# formula delimiters: $...$, $$...$$, \\(...\\), \\[...\\]
_DELIMITER = re.compile(r"\$\$|\$|\\\(|\\\)|\\\[|\\\]")
_CLOSER = {"$$": "$$", "$": "$", "\\(": "\\)", "\\[": "\\]"}


def _math_spans(text: str) -> list[str]:
    """Contents of the closed formula spans, left to right, in one pass (an unclosed opener costs nothing)."""
    spans, opener, begin = [], None, 0
    for m in _DELIMITER.finditer(text):
        if opener is None:
            if m.group() in _CLOSER:
                opener, begin = m.group(), m.end()
        elif m.group() == _CLOSER[opener]:
            if text[begin:m.start()].strip():
                spans.append(text[begin:m.start()])
            opener = None
    return spans


_OPERATORS = "{}^_()+*/=.,!\u2212\u00d7\u00f7\u00b7-"
_MATH_TOKEN = re.compile(r"\\[A-Za-z]+|\d+(?:,\d{3})*(?:\.\d+)?|\s+|[A-Za-z]+|.", re.DOTALL)
_CONSTANTS = ("\\pi", "\\infty", "\\sqrt", "\\frac", "\\dfrac", "\\tfrac")


def _last_bare_formula(text: str) -> str | None:
    """The last run of formula tokens in prose ("so x = \\dfrac{1}{2}." -> "= \\dfrac{1}{2}"): numbers,
    LaTeX commands, braces and operators; words and other signs break a run outside braces. One pass."""
    runs, current, depth = [], [], 0
    for tok in _MATH_TOKEN.findall(text):
        if tok.isspace():
            if current:
                current.append(tok)
            continue
        formula_token = tok[0] == "\\" and len(tok) > 1 or tok.isdigit() or tok in _OPERATORS
        if not formula_token and depth == 0:
            if current:
                runs.append("".join(current))
            current = []
            continue
        depth = max(0, depth + (tok == "{") - (tok == "}"))
        current.append(tok)
    if current:
        runs.append("".join(current))
    for run in reversed(runs):
        run = run.rstrip(" \t\n.,!([{+*/^_=\u2212-").lstrip(" \t\n)]},.")  # no dangling signs
        if any(c.isdigit() for c in run) or any(k in run for k in _CONSTANTS):
            return run
    return None


def _cue_formula(cue: str) -> str:
    """The answer after a cue without its trailing prose ("5 dollars, since 2 + 3 = 5" -> "5"): cut at a
    comma or semicolon or a word of two or more letters outside brackets; the whole text when that leaves
    nothing ("Monday")."""
    kept, depth = [], 0
    for tok in _MATH_TOKEN.findall(cue):
        if depth == 0 and (tok in ",;" or len(tok) > 1 and tok.isalpha()):
            break
        depth = max(0, depth + (tok in "([{") - (tok in ")]}"))
        kept.append(tok)
    head = "".join(kept).strip().rstrip(".")
    return head if any(c.isalnum() for c in head) else cue.strip().rstrip(".")


def _formula_value(formula: str) -> str | None:
    """The right-hand side of the last top-level '=' ("x = 5" -> "5"), trimmed; None when empty."""
    depth, cut = 0, -1
    for i, ch in enumerate(formula):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if ch == "=" and depth == 0:
            cut = i
    value = formula[cut + 1:].strip().rstrip(".,;").strip()
    return value or None


def _plain(value: str) -> str:
    """Typographic minus and digit-group spaces in the form math-verify parses ("\u22121 000" -> "-1000")."""
    return re.sub(r"(?<=\d)[ \u00a0\u2009\u202f](?=\d{3}(?!\d))", "", value.replace("\u2212", "-"))


def math_answer(text: str) -> str | None:
    """\\boxed{} content, else the answer after the cue (its formula when it has one), else the last formula
    ($...$ or bare LaTeX such as \\dfrac{1}{2}, 10^6, 3\\pi), else the last number. An escaped \\$ is a
    currency sign, never a formula delimiter."""
    boxed = boxed_content(text)
    if boxed is not None:
        return _plain(boxed.strip())
    answer = _math_answer(text.replace("\\$", ""))
    return _plain(answer) if answer is not None else None


def _math_answer(text: str) -> str | None:
    cue = _after_cue(text)
    if cue and cue.strip():
        spans = _math_spans(cue)
        formula = spans[0] if spans else _cue_formula(cue.strip().strip("$ "))
        return _formula_value(formula) or formula.strip()
    spans = _math_spans(text)
    if spans:
        value = _formula_value(spans[-1])
        if value:
            return value
    bare = _last_bare_formula(text)
    if bare:
        value = _formula_value(bare)
        if value:
            return value
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


def extract(name: str, text: str, options: list[str] | None = None, entry_point: str | None = None) -> str | None:
    """Apply extractor `name`; `options` feed option_letter, `entry_point` (the function a code task tests)
    feeds code_block."""
    func = EXTRACTORS[name]
    if name == "option_letter":
        return func(text, options)
    return func(text, entry_point) if name == "code_block" else func(text)
