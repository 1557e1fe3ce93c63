"""`heuristic-v1`: a fast, explainable domain classifier (pure Python + regex, no model).

Features (`domain_features(text)`, all floats; "share" = fraction of non-empty lines):

| feature            | meaning                                                                            |
|--------------------|------------------------------------------------------------------------------------|
| `n_lines`          | non-empty lines                                                                    |
| `code_share`       | lines that look like source code outside fenced blocks: keywords that open          |
|                    | statements (def, class, import, return, #include, function, let, fn, echo ...),    |
|                    | lines ending in `;` `{` `}` `):`, calls/assignments with no prose around them       |
| `fenced_share`     | lines inside Markdown fences (``` or ~~~)                                          |
| `n_fences`         | number of fenced blocks                                                            |
| `doc_code_share`   | reStructuredText / doctest code: `>>>` lines, `::` literal blocks, `.. code-block` |
| `indented_share`   | lines indented by 4+ spaces or a tab                                               |
| `comment_share`    | comment lines (`#`, `//`, `/*`, ` * `)                                              |
| `prose_share`      | lines of running text: 6+ words of letters, no code punctuation at the end           |
| `parses_python`    | 1.0 if the whole document parses with `ast` and holds a def/class/import/assignment |
| `shebang`          | 1.0 if the document starts with `#!`                                               |
| `brace_share`      | lines ending in `;`, `{` or `}` (C, JavaScript, Java, Rust, Go, shell)             |
| `latex_density`    | LaTeX math per 100 words: `$...$`, `\\frac`-like commands, `\\[`, `.. math::`      |
| `symbol_density`   | arithmetic per 100 words: `3 + 4`, `x^2`, `= 12`, unicode math symbols             |
| `equation_share`   | lines holding a relation (`=`, `≤`, `\\le`) and no code keyword or code punctuation |
| `math_words`       | math vocabulary per 100 words (theorem, proof, solve, integer, derivative ...)     |
| `code_words`       | programming vocabulary per 100 words (function, install, variable, API ...)        |

Scoring: each domain gets a hand-set linear score of the features (`_scores`); `predict` returns their
softmax (temperature 1), so the four probabilities sum to 1 and the arg-max is the label. The weights
were set by reading feature values on the generated demo corpus and on a development split of real
text (see `benchmarks/accuracy_tag.py`); the real test split is only reported, never tuned on.
"""

from __future__ import annotations

import ast
import math
import re

from tracemix.domains import DOMAINS

NAME = "heuristic-v1"
_PARSE_LIMIT = 200_000  # larger documents are judged by line features only (ast cost grows with size)

_FENCE = re.compile(r"(?ms)^[ \t]*(```|~~~)[^\n]*\n.*?(?:^[ \t]*\1[ \t]*$|\Z)")
_NONEMPTY = re.compile(r"(?m)^[ \t]*\S")
_CODE_LINE = re.compile(
    r"(?m)^[ \t]*(?:"
    r"(?:async\s+)?def\s+\w+\s*\(|class\s+\w+[\s:(<{]|import\s+[\w.]+|from\s+[\w.]+\s+import\b"
    r"|return\b|yield\b|raise\b|elif\b|else\s*:|try\s*:|except\b|finally\s*:|with\s+.+:\s*$"
    r"|if\s+.+:\s*$|for\s+.+\s+in\s+.+:\s*$|while\s+.+:\s*$|@\w[\w.]*|pass\s*$|break\s*$|continue\s*$"
    r"|#\s*(?:include|define|ifn?def|endif|pragma)\b|#!/|(?:export\s+)?(?:const|let|var)\s+\w+\s*="
    r"|(?:export\s+)?(?:async\s+)?function\b|(?:public|private|protected|static)\s+\w"
    r"|(?:pub\s+)?fn\s+\w+|(?:pub\s+)?struct\s+\w+|impl\b|package\s+\w+;?\s*$|func\s+\w+"
    r"|(?:unsigned\s+|signed\s+)?(?:int|void|char|float|double|long|size_t|bool)\s+\**\w+\s*[(=;\[]"
    r"|echo\s|fi\s*$|done\s*$|esac\s*$|then\s*$|do\s*$|local\s+\w+="
    r"|self\.\w+|[\w.\[\]'\"]+\s*(?:[+\-*/%|&]|//)?=\s*[\w\"'(\[{.-][^\n]*[)\]}\"'\w]\s*;?\s*$"
    r"|[\w.]+\([^\n]*\)\s*;?\s*$"
    r"|[^\n]*[;{]\s*$|\}[^\n]*$|\)\s*:\s*$"
    r")"
)
_DOC_CODE = re.compile(r"(?m)^[ \t]*(?:>>>|\.\.\.\s|\$\s+\w|\.\.\s+(?:code-block|code|sourcecode)::)|::[ \t]*$")
_INDENTED = re.compile(r"(?m)^(?: {4}|\t)[ \t]*\S")
_COMMENT = re.compile(r"(?m)^[ \t]*(?:#(?![#!])\s|//|/\*|\*\s|\*/)")
_PROSE = re.compile(r"(?m)^[ \t]*[\"'(*-]?[A-Za-z][A-Za-z'’,;:()\"-]*(?:[ \t]+[\"'(]?[A-Za-z][\w'’,;:()\"-]*){5,}"
                    r"[^\n]*[A-Za-z0-9.!?:,)\"'’][ \t]*$")
_PROSE_BAD_END = re.compile(r"(?m)[;{}][ \t]*$")
_SHEBANG = re.compile(r"\A\s*#!")
_BRACE = re.compile(r"(?m)[;{}][ \t]*$")
_LATEX = re.compile(
    r"\$\$|\\\[|\\\(|\$(?!\s)[^$\n]{1,80}?(?<!\s)\$|\.\. math::|:math:`"
    r"|\\(?:frac|dfrac|sum|prod|int|iint|oint|lim|sqrt|cdot|times|le|ge|leq|geq|neq|approx|equiv|infty"
    r"|alpha|beta|gamma|delta|epsilon|varepsilon|theta|lambda|mu|sigma|pi|phi|omega|Gamma|Delta|Omega"
    r"|partial|nabla|mathbb|mathrm|mathcal|binom|begin|end|left|right|quad|pmod|mod|log|ln|sin|cos"
    r"|exp|in|subset|cup|cap|forall|exists|Rightarrow|implies|to|mapsto|ldots|cdots|text|overline|hat)\b"
)
_SYMBOL = re.compile(
    r"\d\s*[+\-*/×÷^]\s*[\d(a-z]|[a-z)]\s*\^\s*[\d{(a-z]|=\s*-?\d|[≤≥≈±×÷√∑∫∂π∞∈∀∃⇒→≠]"
)
_RELATION = re.compile(r"(?m)^[^\n]*(?:[^=!<>+\-*/%&|:]=[^=>]|[≤≥≈≠]|\\(?:le|ge|leq|geq|approx|neq)\b)[^\n]*$")
_CODEY = re.compile(r"[;{}\"']|\b(?:def|return|import|self|var|let|const|print|function|lambda|None|True)\b"
                    r"|\w\.\w+\(|==|!=|\+=|-=|->")
_WORD = re.compile(r"[A-Za-z]{2,}")
_MATH_WORDS = re.compile(
    r"\b(?:theorem|lemma|proof|proves?|corollary|proposition|equations?|solve[sd]?|solution|integers?"
    r"|primes?|derivative|integral|polynomials?|probability|fractions?|denominator|numerator|divisible"
    r"|remainder|sum|product|square|roots?|triangle|angles?|radius|perimeter|area|circle|factor"
    r"|multiply|divide[sd]?|subtract|total|answer|calculate|compute|evaluate|simplify|hence|therefore"
    r"|thus|suppose|let|real|rational|matrix|vector|eigenvalues?|converges?|series|limit|function of"
    r"|inequality|hypotenuse|cubic|quadratic|coefficients?|variance|expected|modulo|gcd|lcm|digits?)\b",
    re.IGNORECASE,
)
_CODE_WORDS = re.compile(
    r"\b(?:code|function|functions|method|class|variable|install|pip|import|module|package|library"
    r"|api|python|javascript|java|rust|bash|shell|command|script|compile[rd]?|runtime|syntax|debug"
    r"|error|exception|argument|parameter|returns?|string|integer type|array|list|dict|object|instance"
    r"|loop|repository|github|npm|cli|terminal|output|snippet|example|usage|run|runs|call|calls)\b",
    re.IGNORECASE,
)


def _parses_python(text: str) -> float:
    if len(text) > _PARSE_LIMIT:
        return 0.0
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return 0.0
    # a lone string, expression or name list parses too; real modules define or assign something
    real = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom, ast.Assign,
            ast.For, ast.While, ast.If, ast.With, ast.Try, ast.AugAssign, ast.AnnAssign)
    return 1.0 if any(isinstance(node, real) for node in tree.body) else 0.0


def domain_features(text: str) -> dict[str, float]:
    """The explainable features of `text` (see the module docstring)."""
    n_lines = len(_NONEMPTY.findall(text))
    denom = max(1, n_lines)
    fences = _FENCE.findall(text)
    fenced_lines = 0
    outside = text
    if fences:
        fenced_lines = sum(len(_NONEMPTY.findall(m.group(0))) for m in _FENCE.finditer(text))
        outside = _FENCE.sub("\n", text)
    words = max(1, len(_WORD.findall(text)))
    code_lines = len(_CODE_LINE.findall(outside))
    prose_lines = len(_PROSE.findall(outside)) - len(_PROSE_BAD_END.findall(outside)) * 0
    relations = _RELATION.findall(outside)
    equation_lines = sum(1 for ln in relations if not _CODEY.search(ln))
    code_share = code_lines / denom
    return {
        "n_lines": float(n_lines),
        "code_share": code_share,
        "fenced_share": fenced_lines / denom,
        "n_fences": float(len(fences)),
        "doc_code_share": len(_DOC_CODE.findall(outside)) / denom,
        "indented_share": len(_INDENTED.findall(outside)) / denom,
        "comment_share": len(_COMMENT.findall(outside)) / denom,
        "prose_share": prose_lines / denom,
        "parses_python": _parses_python(text) if code_share >= 0.2 and not fences else 0.0,
        "shebang": 1.0 if _SHEBANG.match(text) else 0.0,
        "brace_share": len(_BRACE.findall(outside)) / denom,
        "latex_density": 100.0 * len(_LATEX.findall(text)) / words,
        "symbol_density": 100.0 * len(_SYMBOL.findall(text)) / words,
        "equation_share": equation_lines / denom,
        "math_words": 100.0 * len(_MATH_WORDS.findall(text)) / words,
        "code_words": 100.0 * len(_CODE_WORDS.findall(text)) / words,
    }


def _scores(f: dict[str, float]) -> dict[str, float]:
    """Hand-set linear scores per domain; larger means more likely."""
    code = min(1.0, f["code_share"] + 0.5 * f["brace_share"])
    blocks = min(1.0, f["fenced_share"] + f["doc_code_share"] * 2.0)
    prose = f["prose_share"]
    latex = min(1.0, f["latex_density"] / 8.0)
    symbols = min(1.0, f["symbol_density"] / 8.0)
    equations = min(1.0, f["equation_share"] * 3.0)
    mathw = min(1.0, f["math_words"] / 6.0)
    codew = min(1.0, f["code_words"] / 6.0)
    has_blocks = 1.0 if f["n_fences"] > 0 or f["doc_code_share"] > 0.02 else 0.0
    pure = (6.0 * code + 3.0 * f["parses_python"] + 2.0 * f["shebang"] + 1.0 * f["indented_share"]
            - 6.0 * prose - 4.0 * min(1.0, f["fenced_share"] * 2) - 1.0)
    code_text = (3.0 * has_blocks + 3.0 * blocks + 4.0 * min(code + blocks, prose) + 2.0 * codew
                 - 2.0 * f["parses_python"] - 1.5)
    math_text = (4.0 * latex + 3.0 * symbols + 3.0 * equations + 3.0 * mathw - 2.0 * code
                 - 2.0 * has_blocks - 2.0 * f["parses_python"] - 1.5)
    general = 3.0 * prose - 3.0 * code - 1.0 * latex - 1.0 * symbols - 1.5 * has_blocks
    return {"pure_code": pure, "code_text": code_text, "math_text": math_text, "general": general}


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
        return _softmax(_scores(domain_features(text)))

    def label(self, text: str) -> str:
        probs = self.predict(text)
        return max(probs, key=probs.__getitem__)

    def explain(self, text: str) -> dict[str, dict[str, float]]:
        """Features and per-domain linear scores, for debugging a label."""
        feats = domain_features(text)
        return {"features": feats, "scores": _scores(feats)}
