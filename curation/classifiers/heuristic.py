"""`heuristic-v2`: a fast, explainable domain classifier (string methods, a few regexes, compiled scans).

Features (`domain_features(text)`, all floats; "share" = fraction of non-empty lines outside fences):

| feature            | meaning                                                                               |
|--------------------|---------------------------------------------------------------------------------------|
| `n_lines`          | non-empty lines                                                                       |
| `code_share`       | lines that look like source code: a statement keyword at the start (`def`, `import`,  |
|                    | `#include`, `function`, `let`, `fn`, `echo` ...), a block keyword ending in `:`/`{`,  |
|                    | a line ending in `;` `{` `}` `):`, an assignment to a named target, a bare call        |
| `fenced_share`     | lines inside Markdown fences (``` or ~~~), counted against all non-empty lines         |
| `n_fences`         | number of fenced blocks                                                               |
| `doc_code_share`   | reStructuredText literal blocks (after `::`, `.. code-block::`; not `.. math::`),      |
|                    | doctest lines (`>>>`, `...`) and code lines of Markdown indented blocks (4+ spaces    |
|                    | after a blank line that follows a paragraph line)                                     |
| `indented_share`   | lines indented by 4+ spaces or a tab                                                  |
| `comment_share`    | comment lines (`# `, `//`, `-- `, `/* ... */` blocks, `* `) and Perl POD blocks        |
| `prose_share`      | lines of running text: 6+ words, 80% of them plain words, not code by the rules above |
| `parses_python`    | 1.0 if the whole document parses with `ast` and defines, imports or assigns something  |
| `shebang`          | 1.0 if the document starts with `#!`                                                  |
| `brace_share`      | lines ending in `;`, `{` or `}` (C, JavaScript, Java, Rust, Go, shell; not LaTeX)     |
| `latex_density`    | LaTeX per 100 words: `$...$` spans, `\\frac`-like commands, `\\[`, `.. math::`, `:math:` |
| `symbol_density`   | arithmetic per 100 words: `3 + 4`, `12 = x`, `x^2`, unicode math symbols (`≤ ∑ π ...`) |
| `equation_share`   | lines holding a relation (`=`, `≤`, `≥`, `\\le` ...) that are not code by the rules    |
| `math_words`       | math vocabulary per 100 words (theorem, proof, solve, integer, derivative, how many ...) |
| `code_words`       | programming vocabulary per 100 words (function, install, variable, API, pip ...)       |
| `word_problem`     | 1.0 if the text asks for a quantity ("how many", "what is the total", "solve for" ...) |
|                    | in a sentence ending in "?" and holds 3+ numbers: it needs neither LaTeX nor equations |
| `number_density`   | numbers per 100 words (0 without math vocabulary, the one thing it qualifies): math    |
|                    | vocabulary weighs only with LaTeX, arithmetic, equations, a word problem or dense      |
|                    | numbers beside it ("answer", "total" are everyday prose too)                           |

Scoring (`_scores`): features are saturated to [0, 1] (for example `latex = min(1, latex_density / 3)`)
and each domain gets a hand-set linear score; `predict` returns their softmax, so the four probabilities
sum to 1 and the arg-max is the label. The weights were set by reading feature values on the generated
demo corpus and on the development split of a real sample (`benchmarks/accuracy_tag.py`); the real
test split is only reported, never tuned on. Throughput: the per-line and per-word work (`line_stats`,
`word_stats`), the fenced blocks and the character counts run in C (`_scan.c`, twins of the `reference_*`
Python functions, which stay the definition and the fallback without a compiler; tests check them
equal), plus a few regexes that scan at C speed; documents longer than `_SAMPLE_CHARS` are judged on evenly
spaced windows, and `ast` parses at most a `_PARSE_WINDOW` prefix cut before a top-level statement. The
parse runs only when it can change the label (`_predict`): it only ever raises pure_code.

Text is untrusted: every pattern here is linear in its input. Where a line could be split into words or
a target two ways, quantifiers are possessive (`*+`, `++`, `{5,}+`) so a failing match never backtracks
(an optional opening quote before a word class that also held quotes made one-line dialogue exponential).
"""

from __future__ import annotations

import ast
import math
import re
import warnings

from curation.classifiers.compiled import _scan, count_all, count_each
from curation.classifiers.line_rules import line_stats
from curation.classifiers.scaffold import score_from_features
from curation.classifiers.scaffold import text_features as scaffold_text_features
from tracemix.domains import DOMAINS

NAME = "heuristic-v2"
_PARSE_WINDOW = 24_000  # `ast` parses at most this prefix, cut before a top-level statement
_SAMPLE_CHARS, _WINDOWS = 32_000, 4  # longer documents: 4 evenly spaced windows of 8,000 characters

# `f(x) {` ending a line with no `#` on it: outside a triple-quoted string, a syntax error in Python
_NOT_PYTHON = re.compile(r"(?m)^[^#\n]*\)[ \t]*\{[ \t]*$")
# CMake bracket comments `#[==[ ... ]==]` hold reStructuredText documentation; an unclosed one runs to the end
_BRACKET_COMMENT = re.compile(r"(?m)^#\[(=*)\[[^\n]*(?:\n(?!#?\]\1\])[^\n]*)*+(?:\n#?\]\1\][^\n]*)?")
_FENCE = re.compile(r"(?ms)^[ \t]*(```|~~~)[^\n]*\n.*?(?:^[ \t]*\1[ \t]*$|\Z)")
_NONEMPTY = re.compile(r"(?m)^[ \t]*\S")
_SHEBANG = re.compile(r"\s*+#!")  # `text.lstrip().startswith("#!")` without copying the text
_RST_BLOCK = re.compile(r"(?m)^(?!\.\. math)[^\n]*::[ \t]*(?:\w[\w+-]*)?[ \t]*\n(?:[ \t]*\n)+((?:(?:[ \t]+\S[^\n]*)?\n)+)")
_DOCTEST = re.compile(r"(?m)^[ \t]*(?:>>>|\.\.\.)[ \t]")
_LATEX = re.compile(
    r"\$\$|\\\[|\\\(|\$(?![\s({\x22])[^$\n\x22]{1,80}?(?<!\s)\$(?![\w{(])|\.\. math ?::|:math:`"
    r"|\\(?:frac|dfrac|sum|prod|int|iint|oint|lim|sqrt|cdot|times|le|ge|leq|geq|neq|approx|equiv|infty"
    r"|alpha|beta|gamma|delta|epsilon|varepsilon|theta|lambda|mu|sigma|pi|phi|omega|Gamma|Delta|Omega"
    r"|partial|nabla|mathbb|mathrm|mathcal|binom|begin|end|left|right|quad|pmod|mod|log|ln|sin|cos"
    r"|exp|in|subset|cup|cap|forall|exists|Rightarrow|implies|to|mapsto|ldots|cdots|text|overline|hat)\b"
)
# "-" only with spaces around it, so year ranges (1999-2004) and dates are not arithmetic
_ARITH = re.compile(r"\d[ \t]*[+*/×÷^=][ \t]*[-\d(a-z]|\d[ \t]+-[ \t]+[\d(a-z]")
_ARITH_HINTS = ("=", "+", "*", "/", "×", "÷", "^", " -", "\t-")  # what every `_ARITH` match holds
# what `_domain_features` asks of the whole text (is it there, how often), counted in one scan
_PROBES = ("```", "~~~", "#[", "::", ">>>", "\\", "$", "math:", *_ARITH_HINTS)
_MATH_SYMBOLS = tuple("≤≥≈±×÷√∑∫∂π∞∈∀∃⇒→≠")
# bytes -> lowercase ASCII letters, everything else a separator (one C call per document)
_TOKENS = bytes(c if 97 <= c <= 122 else c + 32 if 65 <= c <= 90 else 32 for c in range(256))
_MATH_VOCAB = frozenset(
    b"theorem lemma proof prove proves corollary proposition equation equations solve solves solved solution "
    b"solutions integer integers prime primes derivative derivatives integral integrals polynomial polynomials "
    b"probability fraction fractions denominator numerator divisible remainder sum roots triangle angle angles "
    b"radius perimeter factor factors factorise factorize multiply multiplied divide divides divided subtract "
    b"subtracted total answer calculate compute evaluate simplify hence therefore thus suppose rational "
    b"irrational matrix matrices vector vectors eigenvalue eigenvalues converges converge inequality hypotenuse "
    b"cubic quadratic coefficient coefficients variance modulo gcd lcm mean average median percent percentage "
    b"ratio formula identity infinite finite axiom induction convex differentiable continuous bounded".split()
)
_QUANTITY_QUESTIONS = ("how many", "how much", "how long", "how far", "what is the total", "what is the sum",
                       "what is the probability", "what is the mean", "what is the average", "find the value",
                       "calculate the", "compute the", "solve for")
_QUESTION_WORDS = ("how", "what", "find", "calculate", "compute", "solve")  # a quantity question needs one
_NUMBER = re.compile(r"\d+(?:[.,/]\d+)?")
_MATH_PHRASES = ("how many", "how much", "square root", "expected value")
_HINT_WORDS = ("how", "square", "expected")  # the first words of `_MATH_PHRASES`
_CODE_VOCAB = frozenset(
    b"code function functions method methods class variable variables install pip import module modules "
    b"package library api python javascript java rust bash shell command commands script compile compiler "
    b"runtime syntax debug error exception argument arguments parameter parameters returns string array list "
    b"dict object instance loop repository github npm cli terminal output snippet example usage run runs call "
    b"calls".split()
)

_VOCAB_WEIGHT = dict.fromkeys(_MATH_VOCAB, 1) | dict.fromkeys(_CODE_VOCAB, 1 << 32)


def _python_prefix(text: str) -> str:
    """The text up to a top-level statement near `_PARSE_WINDOW`: parsing a prefix bounds the cost."""
    if len(text) <= _PARSE_WINDOW:
        return text
    cut = max(text.rfind(f"\n{kw}", 0, _PARSE_WINDOW) for kw in ("def ", "class ", "@", "import ", "from "))
    return text[:cut] if cut > 0 else text[:_PARSE_WINDOW]


def _parses_python(text: str) -> float:
    src = _python_prefix(text)
    if _NOT_PYTHON.search(src) and '"""' not in src and "'''" not in src:
        return 0.0  # C, Java, JavaScript, Go, Rust, shell functions: skip the parser's costly error path
    try:
        with warnings.catch_warnings():  # invalid escapes in the parsed text must not warn to the user
            warnings.simplefilter("ignore")
            tree = ast.parse(src)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return 0.0
    # a lone string, expression or name list parses too; real modules define or assign something
    real = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom, ast.Assign,
            ast.For, ast.While, ast.If, ast.With, ast.Try, ast.AugAssign, ast.AnnAssign)
    return 1.0 if any(isinstance(node, real) for node in tree.body) else 0.0


def _sample(text: str) -> str:
    """Long documents are judged on `_WINDOWS` evenly spaced windows of whole lines (bounded cost)."""
    if len(text) <= _SAMPLE_CHARS:
        return text
    size = _SAMPLE_CHARS // _WINDOWS
    step = (len(text) - size) // (_WINDOWS - 1)
    parts = []
    for i in range(_WINDOWS):
        start = i * step
        if start:
            start = text.find("\n", start) + 1 or start
        end = text.rfind("\n", start, start + size)
        parts.append(text[start:end if end > start else start + size])
    return "\n".join(parts)


def _word_problem(text: str, question_word: bool, lower: str | None) -> float:
    """1.0 when the text asks for a quantity ("how many", "what is the total") and holds 3+ numbers;
    `question_word`: one of `_QUESTION_WORDS` is among its words."""
    if not question_word:
        return 0.0
    lower = text.lower() if lower is None else lower
    if "?" not in text or not any(map(lower.__contains__, _QUANTITY_QUESTIONS)):
        return 0.0
    asked = False  # the phrase must ask: a "?" ends its sentence ("how much it cost." is prose)
    for phrase in _QUANTITY_QUESTIONS:
        at = lower.find(phrase)
        if at >= 0:
            end = min((i for i in (lower.find(c, at) for c in ".?\n!") if i >= 0), default=-1)
            asked = asked or (end >= 0 and lower[end] == "?")
    if not asked:
        return 0.0
    return 1.0 if number_count(text, 20_000) >= 3 else 0.0


def reference_word_stats(text: str) -> tuple[int, int, int, bool, bool]:
    """(words, math words, code words, a `_HINT_WORDS` word seen, a `_QUESTION_WORDS` word seen), where the
    words are the maximal runs of ASCII letters, lower-cased. The reference: `word_stats` is its compiled
    twin (`_scan.c`)."""
    # letters only, space-padded: a word `w` occurs iff b" w " is a substring (one C scan, no Counter)
    letters = text.encode("utf-8", "replace").translate(_TOKENS)
    tokens = letters.split()
    padded = b" " + letters + b" "
    # one dictionary pass counts both vocabularies: math words add 1, code words 1 << 32 (they share none)
    both = sum(filter(None, map(_VOCAB_WEIGHT.get, tokens)))
    hint = any(map(padded.__contains__, _PADDED_HINTS))
    question = any(map(padded.__contains__, _PADDED_QUESTIONS))
    return len(tokens), both & 0xFFFFFFFF, both >> 32, hint, question


_PADDED_HINTS = tuple(f" {w} ".encode() for w in _HINT_WORDS)
_PADDED_QUESTIONS = tuple(f" {w} ".encode() for w in _QUESTION_WORDS)


def reference_fences(text: str) -> tuple[list[tuple[int, int]], int]:
    """The spans of the fenced blocks and how many non-empty lines they hold."""
    spans = [m.span() for m in _FENCE.finditer(text)]
    # blocks start at a line start, so joined by "\n" they hold the same non-empty lines
    return spans, len(_NONEMPTY.findall("\n".join(text[a:b] for a, b in spans))) if spans else 0


def reference_arith_count(text: str) -> int:
    return len(_ARITH.findall(text))


def reference_number_count(text: str, endpos: int = -1) -> int:
    return len(_NUMBER.findall(text, 0, len(text) if endpos < 0 else endpos))


# the compiled twins of the four `reference_*` scans above (`compiled.py`)
if _scan is not None:
    _scan.configure_words(
        math=sorted(w.decode() for w in _MATH_VOCAB), code=sorted(w.decode() for w in _CODE_VOCAB),
        hint=_HINT_WORDS, question=_QUESTION_WORDS,
    )
    word_stats, fences = _scan.word_stats, _scan.fences
    arith_count, number_count = _scan.arith_count, _scan.number_count
else:
    word_stats, fences = reference_word_stats, reference_fences
    arith_count, number_count = reference_arith_count, reference_number_count


def _word_stats(text: str, lower: str | None) -> tuple[int, int, int, bool]:
    """(words (at least 1), math vocabulary incl. phrases, code vocabulary, a question word seen)."""
    words, math_n, code_n, hint, question = word_stats(text)
    if hint:
        lower = text.lower() if lower is None else lower
        math_n += count_all(lower, _MATH_PHRASES)
    return max(1, words), math_n, code_n, question


def domain_features(text: str) -> dict[str, float]:
    """The explainable features of `text` (see the module docstring)."""
    return _domain_features(text, _sample(text), None)


def _domain_features(full: str, text: str, lower: str | None, lazy_parse: bool = False) -> dict[str, float]:
    """Features of `text`, the `_sample` of `full`; `lower`: `text.lower()` when the caller has it already
    (shared with the scaffold score). Only the Python parse looks at `full` (a bounded prefix); with
    `lazy_parse` it is left to `_predict` (`parses_python` is -1.0 where a parse would be tried)."""
    fenced_lines = n_fences = 0
    outside = text
    seen = dict(zip(_PROBES, count_each(text, _PROBES), strict=True))
    # `outside` is pieces of `text` joined by "\n": it can only hold a probe (no "\n" in it) `text` holds
    if seen["```"] or seen["~~~"]:
        # one scan: the blocks' spans give both their lines and the text outside them
        spans, fenced_lines = fences(text)
        if spans:
            n_fences, pieces, prev = len(spans), [], 0
            for start, end in spans:
                pieces.append(text[prev:start])
                prev = end
            pieces.append(text[prev:])
            outside = "\n".join(pieces)
    # CMake bracket comments: comment lines, not documentation with code blocks
    if seen["#["] and "#[" in outside:
        outside = _BRACKET_COMMENT.sub(lambda m: "\n".join("# " + ln for ln in m.group(0).split("\n")), outside)
    lines = line_stats(outside)
    denom = max(1, lines["n"] + fenced_lines)
    doc_code = lines["md_block"]
    if seen["::"] and "::" in outside:
        doc_code += sum(len(_NONEMPTY.findall(block)) for block in _RST_BLOCK.findall(outside))
    if seen[">>>"] and ">>>" in outside:
        doc_code += len(_DOCTEST.findall(outside))
    words, math_n, code_n, question_word = _word_stats(text, lower)
    latex = len(_LATEX.findall(text)) if (seen["\\"] or seen["$"] or seen["math:"]) else 0
    symbols = seen["^"]
    if any(map(seen.__getitem__, _ARITH_HINTS)):  # no operator, no arithmetic: skip the scan
        symbols += arith_count(text)
    if not text.isascii():
        symbols += count_all(text, _MATH_SYMBOLS)
    code_share = lines["code"] / denom
    return {
        "n_lines": float(lines["n"] + fenced_lines),
        "code_share": code_share,
        "fenced_share": fenced_lines / denom,
        "n_fences": float(n_fences),
        "doc_code_share": min(1.0, doc_code / denom),
        "indented_share": lines["indented"] / denom,
        "comment_share": lines["comment"] / denom,
        "prose_share": lines["prose"] / denom,
        "parses_python": (-1.0 if lazy_parse else _parses_python(full)) if code_share >= 0.2 and not n_fences
        else 0.0,
        "shebang": 1.0 if _SHEBANG.match(text) else 0.0,
        "brace_share": lines["brace"] / denom,
        "latex_density": 100.0 * latex / words,
        "symbol_density": 100.0 * symbols / words,
        "equation_share": lines["equation"] / denom,
        "math_words": 100.0 * math_n / words,
        "code_words": 100.0 * code_n / words,
        "word_problem": _word_problem(text, question_word, lower),
        # only math vocabulary reads it (`_scores`): counted where there is some, 0.0 elsewhere
        "number_density": 100.0 * number_count(text) / words if 100.0 * math_n / words > 0.5 else 0.0,
    }


def _clip(x: float) -> float:
    return 0.0 if x < 0.0 else 1.0 if x > 1.0 else x


def _scores(f: dict[str, float]) -> dict[str, float]:
    """Hand-set linear scores per domain over saturated features; larger means more likely."""
    code = _clip(f["code_share"] + 0.5 * f["brace_share"] + 0.5 * f["comment_share"])
    blocks = _clip(f["fenced_share"] + f["doc_code_share"])
    has_blocks = 1.0 if f["n_fences"] > 0 or f["doc_code_share"] > 0.03 else 0.0
    prose = f["prose_share"]
    latex = _clip(f["latex_density"] / 3.0)
    symbols = _clip(f["symbol_density"] / 6.0)
    equations = _clip(f["equation_share"] * 5.0)
    # math vocabulary ("answer", "total", "thus") is everyday prose too: it counts with symbols, LaTeX,
    # equations or a word problem beside it
    numbers = _clip((f["number_density"] - 4.0) / 8.0)  # quantities, beyond the dates and counts of prose
    mathw = _clip((f["math_words"] - 0.5) / 3.0) * _clip(0.4 + latex + symbols + equations + f["word_problem"]
                                                          + numbers)
    codew = _clip(f["code_words"] / 5.0)
    parses, shebang = f["parses_python"], f["shebang"]
    pure = 5.0 * code + 2.0 * parses + 2.0 * shebang - 5.0 * prose - 4.0 * blocks - 0.5
    code_text = (2.5 * has_blocks + 2.0 * blocks + 3.0 * min(code + blocks, 2.0 * prose)
                 + 1.0 * codew * _clip(3.0 * (code + blocks)) - 1.5 * parses - 1.0)
    problem = f["word_problem"]
    math_text = (3.0 * latex + 1.5 * symbols + 2.0 * equations + 3.0 * mathw + 2.0 * problem - 3.0 * code
                 - 1.5 * blocks - 2.0 * parses - 1.0)
    general = 3.0 * prose - 3.0 * code - 2.0 * latex - 2.0 * mathw - 1.0 * problem - 2.0 * has_blocks
    return {"pure_code": pure, "code_text": code_text, "math_text": math_text, "general": general}


def _predict(full: str, features: dict[str, float]) -> dict[str, float]:
    """Scores of lazily parsed features. The parse is the costliest feature and only ever raises pure_code
    (and lowers code_text and math_text), so it runs only when pure_code does not already win without it:
    where it is skipped the label is the same as with it, and `parses_python` stays 0."""
    if features["parses_python"] < 0:
        features["parses_python"] = 0.0
        scores = _scores(features)
        if max(scores, key=scores.__getitem__) == "pure_code":
            return scores
        features["parses_python"] = _parses_python(full)
    return _scores(features)


def _softmax(scores: dict[str, float]) -> dict[str, float]:
    top = max(scores.values())
    exp = {k: math.exp(v - top) for k, v in scores.items()}
    total = sum(exp.values())
    return {k: exp[k] / total for k in DOMAINS}


class HeuristicClassifier:
    """Explainable four-domain classifier: `predict(text)` -> probability per domain (sums to 1)."""

    name = NAME

    def predict(self, text: str) -> dict[str, float]:
        if not text or not text.strip():
            return {d: (1.0 if d == "general" else 0.0) for d in DOMAINS}
        return _softmax(_predict(text, _domain_features(text, _sample(text), None, lazy_parse=True)))

    def predict_with_scaffold(self, text: str) -> tuple[dict[str, float], float]:
        """`(predict(text), scaffold_score(text))` in one call that shares the work both need."""
        if not text or not text.strip():
            return self.predict(text), 0.0
        sample = _sample(text)  # a long document: both are judged on the same windows
        lower = sample.lower()
        probs = _softmax(_predict(text, _domain_features(text, sample, lower, lazy_parse=True)))
        return probs, score_from_features(scaffold_text_features(sample, lower))

    def label(self, text: str) -> str:
        probs = self.predict(text)
        return max(probs, key=probs.__getitem__)

    def explain(self, text: str) -> dict[str, dict[str, float]]:
        """Features and per-domain linear scores, for debugging a label."""
        feats = domain_features(text)
        return {"features": feats, "scores": _scores(feats)}
