"""Assemble a labelled REAL sample from text already on this machine that the project did not write.

Labels come from the kind of source, chosen so each is clear-cut (rules in `RULES`):

- pure_code: standard-library `.py` modules that parse, C headers under /usr/include, `.c` sources,
  Perl modules (`.pm`, with their embedded POD documentation), `.pyi` type stubs, `#!` scripts in
  /usr/bin and /usr/sbin, non-minified `.js` files shipped in site-packages.
- code_text: package long descriptions (`*.dist-info/METADATA` bodies) and `.md`/`.rst` docs from
  site-packages and /usr/share/doc that hold BOTH a code block (fenced block of 2+ lines, `.. code-block::`
  or `::` literal block, or 2+ `>>>` lines) AND 5+ lines of running prose.
- math_text: docstrings of sympy, mpmath, numpy and networkx (the part before an "Examples" heading)
  with 6+ LaTeX spans (`$...$`, `:math:`, `.. math::`, `\\frac`-like commands), no `>>>` doctest,
  300+ characters and 3+ prose lines.
- general: licence texts (/usr/share/common-licenses, LICENSE/COPYING files of installed packages,
  Debian `copyright` files) and codes of conduct, with 5+ prose lines and no code block.

More sources, from packages the project downloads (fiction, news, encyclopedia, quotes and dialogue,
notebooks) and code in more languages (C++, CMake, Tcl, SQL, awk/m4), come from `real_corpora.py`; their
rules are in its docstring.

Documents over 64 KB or under 300 bytes are skipped; duplicates (same whitespace-normalised text) are
dropped. Each document falls in the `dev` or `test` split by a hash of its path, so the split is stable.
"""

from __future__ import annotations

import ast
import gzip
import hashlib
import random
import re
import sysconfig
from collections.abc import Iterator
from pathlib import Path

RULES = __doc__
MIN_BYTES, MAX_BYTES = 300, 64_000
MATH_PACKAGES = ("sympy", "mpmath", "numpy", "networkx")

_PROSE = re.compile(r"(?m)^[ \t]*[A-Za-z(\"'][A-Za-z'’,;:()\"-]*(?:[ \t]+[A-Za-z(\"'][\w'’,;:()\"./-]*){7,}[ \t]*$")
_FENCE_BLOCK = re.compile(r"(?ms)^[ \t]*(```|~~~)[^\n]*\n(?:[^\n]*\S[^\n]*\n){2,}?.*?^[ \t]*\1")
_RST_BLOCK = re.compile(r"(?m)(?:^\.\.\s+(?:code-block|code|sourcecode)::.*|::[ \t]*)\n[ \t]*\n(?:(?: {2,}|\t)\S.*\n){2,}")
_DOCTEST = re.compile(r"(?m)^[ \t]*>>> ")
_LATEX = re.compile(r"\$[^$\n]{1,200}\$|:math:`|\.\. math ?::|\\(?:frac|sum|int|sqrt|cdot|le|ge|leq|geq|alpha"
                    r"|beta|gamma|pi|infty|left|right|binom|mathrm|prod|lim|partial|omega|theta|lambda)\b")
_EXAMPLES = re.compile(r"(?m)^[ \t]*(?:\*\*)?Examples?(?:\*\*)?:?[ \t]*\n")


def _read(path: Path) -> str | None:
    try:
        raw = path.read_bytes()
        if path.suffix == ".gz":
            raw = gzip.decompress(raw)
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError, EOFError, gzip.BadGzipFile):
        return None
    if not MIN_BYTES <= len(text.encode()) <= MAX_BYTES or "\x00" in text:
        return None
    return text


def _has_code_block(text: str) -> bool:
    return bool(_FENCE_BLOCK.search(text) or _RST_BLOCK.search(text) or len(_DOCTEST.findall(text)) >= 2)


def _prose_lines(text: str) -> int:
    return len(_PROSE.findall(text))


def _paths() -> dict[str, Path]:
    paths = sysconfig.get_paths()
    return {"stdlib": Path(paths["stdlib"]), "site": Path(paths["purelib"])}


# --- pure_code -------------------------------------------------------------------------------------------

def _stdlib_modules() -> Iterator[tuple[str, str]]:
    root = _paths()["stdlib"]
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).parts
        if rel[0] in ("site-packages", "test", "lib2to3") or "tests" in rel:
            continue
        text = _read(path)
        if text is None:
            continue
        try:
            ast.parse(text)
        except (SyntaxError, ValueError):
            continue
        yield str(path), text


def _c_headers() -> Iterator[tuple[str, str]]:
    for path in sorted(Path("/usr/include").rglob("*.h")):
        if (text := _read(path)) is not None:
            yield str(path), text


def _scripts() -> Iterator[tuple[str, str]]:
    for folder in (Path("/usr/bin"), Path("/usr/sbin")):
        for path in sorted(folder.glob("*")) if folder.is_dir() else ():
            if not path.is_file() or path.is_symlink():
                continue
            text = _read(path)
            if text and re.match(r"#!\s*/\S*(?:sh|bash|dash|perl|python3?)\b", text):
                yield str(path), text


def _by_suffix(roots: tuple[Path, ...], suffix: str) -> Iterator[tuple[str, str]]:
    for root in roots:
        for path in sorted(root.rglob(f"*{suffix}")) if root.is_dir() else ():
            if path.is_file() and (text := _read(path)) is not None:
                yield str(path), text


def _c_sources() -> Iterator[tuple[str, str]]:
    yield from _by_suffix((Path("/usr/share"), Path("/usr/lib"), Path("/usr/src"), _paths()["site"]), ".c")


def _perl_modules() -> Iterator[tuple[str, str]]:
    yield from _by_suffix((Path("/usr/share/perl"), Path("/usr/share/perl5"), Path("/usr/lib/x86_64-linux-gnu/perl"),
                           Path("/usr/lib/x86_64-linux-gnu/perl-base")), ".pm")


def _type_stubs() -> Iterator[tuple[str, str]]:
    yield from _by_suffix((_paths()["site"],), ".pyi")


def _javascript() -> Iterator[tuple[str, str]]:
    for path in sorted(_paths()["site"].rglob("*.js")):
        text = _read(path)
        if text and max(map(len, text.splitlines()), default=0) < 300:  # minified bundles are not "modules"
            yield str(path), text


# --- code_text --------------------------------------------------------------------------------------------

def _metadata_bodies() -> Iterator[tuple[str, str]]:
    for path in sorted(_paths()["site"].glob("*.dist-info/METADATA")):
        text = _read(path)
        if text and "\n\n" in text:
            yield str(path), text.split("\n\n", 1)[1]  # the long description follows the header block


def _doc_files() -> Iterator[tuple[str, str]]:
    roots = [_paths()["site"], Path("/usr/share/doc")]
    for root in roots:
        if not root.is_dir():
            continue
        for pattern in ("*.md", "*.rst", "*.md.gz", "README*"):
            for path in sorted(root.rglob(pattern)):
                if path.is_file() and (text := _read(path)) is not None:
                    yield str(path), text


def _code_text_docs() -> Iterator[tuple[str, str]]:
    seen: set[str] = set()
    for where, text in [*_metadata_bodies(), *_doc_files()]:
        if where in seen:
            continue
        seen.add(where)
        if _has_code_block(text) and _prose_lines(text) >= 5:
            yield where, text


# --- math_text --------------------------------------------------------------------------------------------

def _math_docstrings() -> Iterator[tuple[str, str]]:
    site = _paths()["site"]
    for pkg in MATH_PACKAGES:
        for path in sorted((site / pkg).rglob("*.py")) if (site / pkg).is_dir() else ():
            if "tests" in path.parts or "test" in path.parts:
                continue
            try:
                tree = ast.parse(path.read_text(encoding="utf-8"))
            except (SyntaxError, ValueError, UnicodeDecodeError, OSError):
                continue
            for node in ast.walk(tree):
                if not isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                doc = ast.get_docstring(node)
                if not doc:
                    continue
                doc = _EXAMPLES.split(doc, 1)[0].rstrip() + "\n"
                if (len(doc) >= MIN_BYTES and not _DOCTEST.search(doc) and len(_LATEX.findall(doc)) >= 6
                        and _prose_lines(doc) >= 3):
                    yield f"{path}:{getattr(node, 'name', '<module>')}:{getattr(node, 'lineno', 0)}", doc


# --- general ----------------------------------------------------------------------------------------------

def _licences() -> Iterator[tuple[str, str]]:
    candidates = sorted(Path("/usr/share/common-licenses").glob("*")) if Path("/usr/share/common-licenses").is_dir() else []
    site = _paths()["site"]
    for pattern in ("*.dist-info/LICENSE*", "*.dist-info/COPYING*", "*.dist-info/licenses/**/*"):
        candidates += sorted(site.glob(pattern))
    candidates += sorted(Path("/usr/share/doc").glob("*/copyright")) if Path("/usr/share/doc").is_dir() else []
    for root in (site, Path("/usr/share/doc")):
        candidates += sorted(root.rglob("CODE_OF_CONDUCT*")) if root.is_dir() else []
    for path in candidates:
        if not path.is_file():
            continue
        text = _read(path)
        if text and not _has_code_block(text) and _prose_lines(text) >= 5:
            yield str(path), text


SOURCES = {
    "pure_code": {"stdlib-py": _stdlib_modules, "c-header": _c_headers, "c-source": _c_sources,
                  "perl-module": _perl_modules, "pyi-stub": _type_stubs, "script": _scripts, "js": _javascript},
    "code_text": {"readme-or-doc": _code_text_docs},
    "math_text": {"math-docstring": _math_docstrings},
    "general": {"licence-or-conduct": _licences},
}


def split_of(key: str) -> str:
    return "dev" if hashlib.sha256(key.encode()).digest()[0] < 128 else "test"


def build_real_sample(per_class: int = 200, seed: int = 0, cache: Path | None = None) -> list[dict]:
    """Up to `per_class` documents per domain, sources mixed evenly within a class, deduplicated. With
    `cache` (a folder filled by `real_corpora.fetch`), the package sources join the machine's own."""
    from real_corpora import package_sources

    rng = random.Random(seed)
    out: list[dict] = []
    seen: set[str] = set()
    sources = {label: dict(kinds) for label, kinds in SOURCES.items()}
    for label, kinds in package_sources(cache).items():
        sources[label].update(kinds)
    for label, kinds in sources.items():
        pools = {}
        for kind, source in kinds.items():
            items = list(source())
            rng.shuffle(items)
            pools[kind] = items
        taken = 0
        while taken < per_class and any(pools.values()):
            for kind, pool in pools.items():  # round-robin so no single source dominates a class
                while pool and taken < per_class:
                    where, text = pool.pop()
                    norm = hashlib.sha256(" ".join(text.split()).encode()).hexdigest()
                    if norm in seen:
                        continue
                    seen.add(norm)
                    out.append({"id": where, "text": text, "label": label, "kind": kind, "split": split_of(where)})
                    taken += 1
                    break
    return out
