"""Real text from packages the project can install: fiction, news, encyclopedia, quotes and notebooks, plus
source code in more languages found on the machine. Used by `real_sample.py`.

    python benchmarks/real_corpora.py [--cache DIR]     # fetch (once) and list what each source yields

`fetch(cache)` downloads with the ordinary clients, without installing anything:
  pip download --no-deps --no-binary :all: gensim nbsphinx     (PyPI sdists)
  apt-get download r-cran-janeaustenr fortunes                  (Debian packages)
and unpacks only the files read below into `cache`. Nothing here is redistributed: the sample is rebuilt
from the packages on each machine; `benchmarks/results/accuracy_tag.json` keeps only the numbers.

Sources and their clear-cut labels:
- general / fiction-austen: Jane Austen's six novels (Debian r-cran-janeaustenr, public domain), passages of
  consecutive paragraphs, each paragraph on ONE line as web text has it (with its quoted dialogue).
- general / news-lee: the Lee corpus of ABC news articles (gensim's test data), one article a line.
- general / encyclopedia: early Wikipedia articles (gensim's test data), markup stripped; redirects and
  articles with <math>, <code>/<source> blocks or about mathematics (mathemat*, algebra, theorem, equation)
  are left out, so none is math_text or code_text.
- general / quotes-dialogue: Debian fortunes (quotes, jokes, dialogue), consecutive cookies of one file
  grouped into a page; files about computing, science or ASCII art are left out.
- math_text / worked-solution: the worked solutions that lm-eval ships as few-shot examples (GSM8K
  chain-of-thought, Minerva MATH, BIG-Bench Hard multi-step arithmetic and object counting), each question
  with its solution; these are short, so the minimum size is 150 bytes here.
- code_text / notebook: nbsphinx's documentation notebooks, flattened to Markdown with ```python fences
  around code cells; kept when they hold a code cell of 2+ lines and 3+ lines of prose.
- pure_code / cpp-header (/usr/include/c++), cmake (CMake modules), tcl (Tk library), sql (PostgreSQL
  extension scripts), awk and m4 files.
"""

from __future__ import annotations

import argparse
import bz2
import json
import random
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

DEFAULT_CACHE = Path.home() / ".cache" / "tracemix" / "real-corpora"
SDISTS = ("gensim", "nbsphinx", "lm-eval")
DEBS = ("r-cran-janeaustenr", "fortunes")
_WANTED = ("lee_background.cor", "enwiki-latest-pages-articles1", "doc/", "Rdata.rd", "games/fortunes/",
           "tasks/gsm8k/gsm8k-cot.yaml", "tasks/minerva_math/utils.py", "cot_fewshot/multistep_arithmetic_two.yaml",
           "cot_fewshot/object_counting.yaml")
MIN_BYTES, MAX_BYTES = 300, 64_000


def fetch(cache: Path = DEFAULT_CACHE) -> Path:
    """Download and unpack the packages once; returns `cache`. Raises with the failing command's output."""
    done = cache / ".complete"
    if done.exists():
        return cache
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tracemix-real-") as tmp:
        for cmd in ([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                     "--no-build-isolation", "-d", tmp, *SDISTS], ["apt-get", "download", *DEBS]):
            proc = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True)
            if proc.returncode != 0:
                raise RuntimeError(f"`{' '.join(cmd)}` failed:\n{proc.stderr[-2000:]}")
        for path in Path(tmp).iterdir():
            if path.name.endswith(".tar.gz"):
                with tarfile.open(path) as tar:
                    members = [m for m in tar.getmembers() if m.isfile() and any(w in m.name for w in _WANTED)
                               and (not m.name.split("/", 2)[-1].startswith("doc/") or m.name.endswith(".ipynb"))]
                    tar.extractall(cache / "sdist", members=members, filter="data")
            elif path.suffix == ".deb":
                subprocess.run(["dpkg-deb", "-x", str(path), str(cache / "deb")], check=True)
    done.write_text("ok\n")
    return cache


def _size_ok(text: str) -> bool:
    return MIN_BYTES <= len(text.encode()) <= MAX_BYTES


# --- general ----------------------------------------------------------------------------------------------

def _austen_novels(cache: Path) -> dict[str, list[str]]:
    """{novel: its lines} from the R package's lazy-load database (zlib-compressed R serialisations)."""
    import gzip
    import struct
    import warnings
    import zlib

    import rdata
    from rdata.parser import parse_data

    base = next((cache / "deb").rglob("janeaustenr/data/Rdata.rdx"), None)
    if base is None:
        return {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Unknown file type: assumed RDS": it is one
        index = rdata.conversion.convert(parse_data(gzip.decompress(base.read_bytes())))
        blob = base.with_suffix(".rdb").read_bytes()
        novels = {}
        for name, (offset, length) in index["variables"].items():
            chunk = blob[int(offset):int(offset) + int(length)]
            assert struct.unpack(">i", chunk[:4])[0] > 0
            novels[str(name)] = [str(x) for x in rdata.conversion.convert(parse_data(zlib.decompress(chunk[4:])))]
    return novels


def austen_passages(cache: Path, per_novel: int = 40, seed: int = 0) -> Iterator[tuple[str, str]]:
    rng = random.Random(seed)
    for name, lines in sorted(_austen_novels(cache).items()):
        paragraphs = [" ".join(p.split()) for p in "\n".join(lines).split("\n\n") if p.strip()]
        starts = sorted(rng.sample(range(len(paragraphs)), min(per_novel, len(paragraphs))))
        for start in starts:
            passage, i = [], start
            while i < len(paragraphs) and sum(map(len, passage)) < rng.randint(1_500, 5_000):
                passage.append(paragraphs[i])
                i += 1
            text = "\n\n".join(passage) + "\n"
            if _size_ok(text) and not passage[0].isupper():  # not a chapter heading alone
                yield f"janeaustenr:{name}:{start}", text


def lee_news(cache: Path) -> Iterator[tuple[str, str]]:
    for path in (cache / "sdist").rglob("lee_background.cor"):
        for i, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines()):
            if _size_ok(line):
                yield f"gensim:lee_background.cor:{i}", line + "\n"


_PAGE = re.compile(r"<page>.*?<title>([^<]*)</title>.*?<text[^>]*>([^<]*)</text>", re.S)
_TEMPLATE = re.compile(r"\{\{[^{}]*\}\}")
_FILE_LINK = re.compile(r"\[\[(?:File|Image|Category):[^\[\]]*\]\]", re.I)
_LINK = re.compile(r"\[\[(?:[^\[\]|]*\|)?([^\[\]]*)\]\]")
_EXTERNAL = re.compile(r"\[https?://\S+ ?([^\]]*)\]")
_TAG = re.compile(r"<ref[^>/]*/>|<ref[^>]*>.*?</ref>|<[^>]+>", re.S)
_TABLE_ROW = re.compile(r"(?m)^[ \t]*(?:\{\||\|\}|\|-|\||!)[^\n]*\n?")
_MATHY = re.compile(r"mathemat|algebra|theorem|equation", re.I)


def _unwiki(markup: str) -> str:
    import html

    text = html.unescape(markup)
    for _ in range(4):  # nested templates, innermost first (each pass is linear)
        text = _TEMPLATE.sub("", text)
    text = _FILE_LINK.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _EXTERNAL.sub(r"\1", text)
    text = _TAG.sub("", text).replace("'''", "").replace("''", "")
    text = _TABLE_ROW.sub("", text)  # tables: extracted web text keeps no markup rows
    text = re.sub(r"(?m)^=+\s*(.*?)\s*=+\s*$", r"\1", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def encyclopedia(cache: Path) -> Iterator[tuple[str, str]]:
    for path in (cache / "sdist").rglob("enwiki-latest-pages-articles1*.bz2"):
        xml = bz2.decompress(path.read_bytes()).decode("utf-8", errors="replace")
        for title, markup in _PAGE.findall(xml):
            import html

            raw = html.unescape(markup)
            if raw.lstrip().upper().startswith("#REDIRECT") or any(t in raw for t in ("<math", "<code", "<source",
                                                                                      "<pre", "<syntaxhighlight")):
                continue
            text = _unwiki(markup)
            if _MATHY.search(title + " " + text) is None and _size_ok(text):
                yield f"enwiki:{title}", text


_FORTUNE_SKIP = {"computers", "linux", "linuxcookie", "perl", "debian", "ascii-art", "art", "science", "goedel",
                 "translate-me", "knghtbrd"}


def fortunes(cache: Path, page_bytes: int = 900) -> Iterator[tuple[str, str]]:
    for path in sorted((cache / "deb").rglob("games/fortunes/*")):
        if path.suffix or path.name in _FORTUNE_SKIP or not path.is_file():
            continue
        cookies = [c.strip("\n") for c in path.read_text(encoding="utf-8", errors="replace").split("\n%\n")]
        page: list[str] = []
        for i, cookie in enumerate(cookies):
            page.append(cookie)
            if sum(map(len, page)) >= page_bytes:
                text = "\n\n".join(page) + "\n"
                if _size_ok(text):
                    yield f"fortunes:{path.name}:{i}", text
                page = []


# --- math_text --------------------------------------------------------------------------------------------

def worked_solutions(cache: Path) -> Iterator[tuple[str, str]]:
    import ast

    import yaml

    for path in sorted((cache / "sdist").rglob("*.yaml")):
        samples = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("fewshot_config", {}).get("samples", [])
        for i, s in enumerate(samples):
            question, solution = s.get("question") or s.get("input"), s.get("target")
            if question and solution:
                text = f"Question: {question}\nAnswer: {solution}\n"
                if 150 <= len(text.encode()) <= MAX_BYTES:
                    yield f"lm-eval:{path.name}:{i}", text
    for path in sorted((cache / "sdist").rglob("minerva_math/utils.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and node.name == "list_fewshot_samples":
                returned = next(n.value for n in ast.walk(node) if isinstance(n, ast.Return))
                for i, s in enumerate(ast.literal_eval(returned)):
                    yield f"lm-eval:minerva_math:{i}", f"Problem:\n{s['problem']}\n\nSolution:\n{s['solution']}\n"


# --- code_text --------------------------------------------------------------------------------------------

def flatten_notebook(nb: dict) -> str:
    """Markdown cells as they are, code cells in ```LANG fences: the notebook as one Markdown document."""
    lang = (nb.get("metadata", {}).get("kernelspec") or {}).get("language", "python")
    parts = []
    for cell in nb.get("cells", []):
        source = "".join(cell.get("source", "")) if isinstance(cell.get("source"), list) else cell.get("source", "")
        if not source.strip():
            continue
        if cell.get("cell_type") == "code":
            parts.append(f"```{lang}\n{source.rstrip()}\n```")
        elif cell.get("cell_type") == "markdown":
            parts.append(source.strip())
    return "\n\n".join(parts) + "\n"


def notebooks(cache: Path) -> Iterator[tuple[str, str]]:
    for path in sorted((cache / "sdist").rglob("*.ipynb")):
        try:
            nb = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        code_cells = [c for c in nb.get("cells", []) if c.get("cell_type") == "code"
                      and len("".join(c.get("source", "")).strip().splitlines()) >= 2]
        text = flatten_notebook(nb)
        prose = sum(1 for ln in text.splitlines() if len(ln.split()) >= 6 and not ln.startswith(("    ", "```")))
        if code_cells and prose >= 3 and _size_ok(text):
            yield f"{path.parent.parent.name}:{path.name}", text


# --- pure_code --------------------------------------------------------------------------------------------

def _files(roots: tuple[str, ...], pattern: str, no_suffix: bool = False) -> Iterator[tuple[str, str]]:
    for root in map(Path, roots):
        for path in sorted(root.rglob(pattern)) if root.is_dir() else ():
            if not path.is_file() or (no_suffix and path.suffix):
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            if _size_ok(text) and "\x00" not in text:
                yield str(path), text


def cpp_headers() -> Iterator[tuple[str, str]]:
    yield from _files(("/usr/include/c++",), "*", no_suffix=True)  # <vector>, <algorithm>: no extension


def cmake_modules() -> Iterator[tuple[str, str]]:
    yield from _files(tuple(str(p) for p in Path("/usr/share").glob("cmake*")), "*.cmake")


def tcl_files() -> Iterator[tuple[str, str]]:
    yield from _files(("/usr/share/tcltk",), "*.tcl")


def sql_files() -> Iterator[tuple[str, str]]:
    yield from _files(("/usr/share/postgresql",), "*.sql")


def awk_m4_files() -> Iterator[tuple[str, str]]:
    yield from _files(("/usr/share", "/usr/lib"), "*.awk")
    yield from _files(("/usr/share/aclocal", "/usr/share/autoconf"), "*.m4")


def package_sources(cache: Path | None) -> dict[str, dict]:
    """{label: {kind: zero-argument source}} for `real_sample.SOURCES`; package ones only with a cache."""
    out: dict[str, dict] = {
        "pure_code": {"cpp-header": cpp_headers, "cmake": cmake_modules, "tcl": tcl_files, "sql": sql_files,
                      "awk-m4": awk_m4_files},
    }
    if cache is not None:
        out["general"] = {"fiction-austen": lambda: austen_passages(cache), "news-lee": lambda: lee_news(cache),
                          "encyclopedia": lambda: encyclopedia(cache), "quotes-dialogue": lambda: fortunes(cache)}
        out["code_text"] = {"notebook": lambda: notebooks(cache)}
        out["math_text"] = {"worked-solution": lambda: worked_solutions(cache)}
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help=f"where packages unpack (default {DEFAULT_CACHE})")
    p.add_argument("--refetch", action="store_true", help="delete the cache first")
    args = p.parse_args(argv)
    if args.refetch and args.cache.exists():
        shutil.rmtree(args.cache)
    cache = fetch(args.cache)
    for label, kinds in package_sources(cache).items():
        for kind, source in kinds.items():
            n = sum(1 for _ in source())
            print(f"{label:10s} {kind:16s} {n:6d} documents")
    return 0


if __name__ == "__main__":
    sys.exit(main())
