"""Line rules of the heuristic classifier: what a line of code, comment, prose or equation looks like.

`line_stats(text)` makes one pass over the lines and counts each kind (the shares of `heuristic-v2`'s
features); `is_code(line)` is the rule for one stripped line. `reference_line_stats` is the definition;
`line_stats` is its compiled twin (`_scan.c`, given the lists below by `configure_lines`), about 5x faster
and checked equal by tests, or the reference itself where no C compiler built it. Every pattern here is
linear in its input: where a line could be split into words or a target two ways, quantifiers are
possessive, so a failing match never backtracks.
"""

from __future__ import annotations

import re

from curation.classifiers.compiled import _scan

_CODE_PREFIXES = (
    "def ", "class ", "import ", "#include", "#define", "#if", "#endif", "#else", "#pragma", "#undef", "#!",
    "@", "elif ", "else:", "try:", "except", "finally:", "return ", "return;", "yield ", "raise ", "const ",
    "let ", "var ", "function ", "function(", "export ", "public ", "private ", "protected ", "static ",
    "fn ", "pub ", "struct ", "impl ", "package ", "func ", "typedef ", "self.", "this.", "echo ", "local ",
    "await ", "async ", "assert ", "namespace ", "template<", "using ", "extern ", "enum ", "module.exports",
    "require(", "print(", "printf(", "console.", "set -", "sub ", "my $", "foreach ", "unless ", "use ",
    "if (", "for (", "while (", "switch (", "} ", "}", "{", "nonlocal ", "global ", "del ", "lambda ",
    "SELECT ", "FROM ", "WHERE ", "CREATE ", "INSERT ", "UPDATE ", "DELETE ", "GROUP BY", "ORDER BY", "WITH ",
    "JOIN ", "LEFT JOIN", "INNER JOIN", "ALTER ", "DROP ", "VALUES", "LIMIT ", "HAVING ",
)
# the prefixes by their first character: one `startswith` tries a handful instead of all of them
_CODE_PREFIXES_BY_CHAR = {c: tuple(p for p in _CODE_PREFIXES if p[0] == c) for c in {p[0] for p in _CODE_PREFIXES}}
_BLOCK_KEYWORDS = ("if ", "for ", "while ", "with ", "else", "try", "match ", "case ", "do", "then")
_SHELL_WORDS = frozenset({"fi", "done", "esac", "then", "do", "else", "pass", "break", "continue", "return",
                          "};", "});", "end", "})", "]", "],", ")"})
_SHELL_WORD_LEN = max(map(len, _SHELL_WORDS))
_POD_START = ("=pod", "=head", "=over", "=item", "=begin", "=for ", "=encoding", "=cut")
_LIST_MARKERS = ("- ", "* ", "+ ", "|")
# "* " only inside /* ... */ (tracked by the line loop): elsewhere it opens a Markdown or wiki list item
_COMMENT_PREFIXES = ("# ", "#\t", "//", "/*", "*/", "<!--", "-- ")
# running text: 6+ words, the first starting with a letter, the rest plain words (digits allowed after).
# Possessive quantifiers and disjoint word/space classes: one way to read a line, so matching is linear
# (an optional opening quote before a class that also holds quotes made quoted prose exponential).
_PROSE = re.compile(r"(?:- |[\x22'(“*`])?+[A-Za-z][A-Za-z'’,.;:!?)\x22”`*-]*+(?: ++“?+[\w'’,.;:!?()\x22”/%`*-]++){5,}+$")
# an assignment target (a maximal run of name characters), then `=` or an augmented operator (linear)
_TARGET = re.compile(r"[\w.\[\]'\"]++")
_ASSIGN_OP = re.compile(r"\s*+(?:[-+*/%|&^]|//|<<|>>)?=(?!=)\s*+\S")
_LETTER = re.compile(r"[A-Za-z_]")
_CALL = re.compile(r"[\w.]++\(")  # a bare call: `name(` ... `)` (the caller checks the closing paren)
_LATEX_CMD = re.compile(r"\\[A-Za-z]")
_RELATION_CHARS = ("=", "≤", "≥", "≈", "≠", "\\le", "\\ge", "\\approx")
_CODE_MARKS = ("==", "!=", "+=", "-=", "->", "=>", "(self", "def ", "return", "import ", "print(", "\"", "'",
               ";", "{", "}", "()")


def is_code(ln: str) -> bool:
    """`ln` is stripped and non-empty."""
    last = ln[-1]
    if ln.startswith(_CODE_PREFIXES_BY_CHAR.get(ln[0], ())) or (len(ln) <= _SHELL_WORD_LEN and ln in _SHELL_WORDS):
        return not (ln[0] in "{}" and _LATEX_CMD.search(ln))
    if last in ";{}":
        return "\\" not in ln or last == ";"  # `\frac{a}{b}` ends in a brace but is LaTeX
    # the rules below that look at the line's end, by its last character
    if last == ":":
        if ln.endswith("):") or ln.startswith(_BLOCK_KEYWORDS):
            return True
    elif last == "n" or last == "o":
        if ln.endswith("; then") or ln.endswith("; do"):
            return True
    elif last == "," and ln[0] in "'\"0123456789[({-":  # a line of a data literal
        return True
    if ln.startswith("from ") and " import " in ln:
        return True
    if "  #" in ln or " // " in ln or "/*" in ln:  # code followed by an inline comment
        return True
    if "=" in ln and is_assignment(ln) and not _LATEX_CMD.search(ln):
        return True
    return last == ")" and "(" in ln and " " not in ln.split("(", 1)[0] and _CALL.match(ln) is not None


def is_assignment(ln: str) -> bool:
    """`target = value` or `target += value`: a name run holding a letter before its last character."""
    target = _TARGET.match(ln)
    if target is None or target.end() < 2 or not _LETTER.search(ln, 0, target.end() - 1):
        return False
    return _ASSIGN_OP.match(ln, target.end()) is not None


def reference_line_stats(text: str) -> dict[str, int]:
    """The counts of each kind of line in `text` (the reference: `line_stats` is its compiled twin)."""
    n = code = prose = comment = brace = indented = equation = md_block = 0
    in_block_comment = in_pod = False  # inside /* ... */ or POD, where prose lines are still comments
    # Markdown indented code block: 4+ spaces after a blank line that follows a paragraph line; it counts
    # only when most of its lines are code (licences indent quoted prose the same way)
    after_paragraph = saw_blank = in_md_block = False
    block_lines = block_code = 0
    prose_match = _PROSE.match  # hot loop: bound once
    for raw in text.split("\n"):
        ln = raw.strip()
        if not ln:
            saw_blank = True
            continue
        n += 1
        deep = raw[0] in " \t" and (raw.startswith("    ") or raw[0] == "\t")
        indented += deep
        in_md_block = deep and (in_md_block or (saw_blank and after_paragraph))
        if not in_md_block and block_lines:
            md_block += block_lines if 2 * block_code >= block_lines else 0
            block_lines = block_code = 0
        saw_blank = False
        if in_pod or (ln[0] == "=" and ln.startswith(_POD_START) and not deep):
            in_pod = not ln.startswith("=cut")  # Perl's embedded documentation, up to `=cut`
            comment += 1
            continue
        if in_block_comment or ln.startswith(_COMMENT_PREFIXES):
            comment += 1
            if ln.startswith("/*") or in_block_comment:
                in_block_comment = "*/" not in ln
            after_paragraph = False
            continue
        if ln[-1] in ";{}" and (ln[-1] == ";" or "\\" not in ln):
            brace += 1
        code_line = is_code(ln)
        if code_line:
            code += 1
        elif prose_match(ln) is not None:
            prose += 1
        if in_md_block:
            block_lines += 1
            block_code += code_line
        # a paragraph line: not indented, not code, not a list item
        after_paragraph = not (deep or code_line or ln.startswith(_LIST_MARKERS) or ln[0].isdigit())
        if ("=" in ln or not ln.isascii() or "\\" in ln) and any(map(ln.__contains__, _RELATION_CHARS)) \
                and not any(map(ln.__contains__, _CODE_MARKS)):
            equation += 1
    md_block += block_lines if block_lines and 2 * block_code >= block_lines else 0
    return {"n": n, "code": code, "prose": prose, "comment": comment, "brace": brace, "indented": indented,
            "equation": equation, "md_block": md_block}


# the compiled twin of `reference_line_stats` (`compiled.py`), given the lists above once
if _scan is not None:
    _scan.configure_lines(
        code_prefixes=_CODE_PREFIXES, shell_words=sorted(_SHELL_WORDS), block_keywords=_BLOCK_KEYWORDS,
        pod_start=_POD_START, comment_prefixes=_COMMENT_PREFIXES, list_markers=_LIST_MARKERS,
        relation_chars=_RELATION_CHARS, code_marks=_CODE_MARKS,
    )
line_stats = _scan.line_stats if _scan is not None else reference_line_stats
