"""Replay: untrusted text cannot stall tagging, and nothing is lost on the way.

A one-line prose paragraph full of quoted words once made a heuristic regex backtrack exponentially (a
6 kB paragraph hung `tracemix tag`). Here 4 MB of such lines, and of every other long-line shape the
classifier's patterns look at, must tag in under a minute with every document written.
"""

import json
import random
import time

import pyarrow.parquet as pq

from curation.tagging.tag import run_tag

WORDS = ("the", "said", "value", "x", "then", "proof", "def", "return", "a1", "étude", "naïve", "42")
QUOTES = ('"', "'", "“", "”", "`", "*", "(", ")", "’")


def _quoted_paragraph(rng: random.Random, n_bytes: int) -> str:
    """Dialogue-like prose on ONE line: quoted words, then a character no prose rule accepts."""
    parts, size = ["He"], 2
    while size < n_bytes:
        word = rng.choice(WORDS)
        parts.append(f"{rng.choice(QUOTES)}{word}{rng.choice(QUOTES)}," if rng.random() < 0.6 else word)
        size += len(parts[-1]) + 1
    return " ".join(parts) + " <"


def _adversarial(rng: random.Random, n_bytes: int) -> str:
    """One long line (or a few) of a shape that a backtracking pattern would choke on."""
    kind = rng.randrange(12)
    n = n_bytes
    if kind == 0:
        return _quoted_paragraph(rng, n)
    if kind == 1:  # a long dotted target that never reaches its `=`
        return "a." * (n // 2) + " b"
    if kind == 2:  # dollar signs: LaTeX spans that never close properly
        return " ".join(f"$ x{i} " for i in range(n // 6))
    if kind == 3:  # arithmetic-looking runs of digits and long blanks
        return ("1" + " " * 50 + "2 ") * (n // 53)
    if kind == 4:  # a fence that never closes, with long lines inside
        return "```python\n" + ("x = (" * (n // 10)) + "\n" + "y" * (n // 2)
    if kind == 5:  # reStructuredText literal markers and blank lines
        return ("Example::\n\n\n   " + "w " * 40 + "\n") * (n // 100)
    if kind == 6:  # relations everywhere, no line ever closes a chain cleanly
        return ("= < > ≤ \\le \\ " * (n // 14)) + "\n" + "=" * (n // 2)
    if kind == 7:  # a call-shaped line whose parentheses never balance
        return "f" * (n // 3) + "(" + ")" * (n // 3) + "("
    if kind == 8:  # step markers and derivation starts on every short line
        return "\n".join(f"Step {i}. = so then hence thus" for i in range(n // 30))
    if kind == 9:  # indentation runs of spaces and tabs
        return "\n".join(" \t" * rng.randrange(1, 400) + "x" for _ in range(n // 400))
    if kind == 10:  # a C-looking line with a brace only at the very end, then Python
        return "int f(" + "a, " * (n // 3) + ")  {\n" + "def g():\n    return 1\n"
    return "# " + "'''" * (n // 6) + '"""' * (n // 6)  # unbalanced triple quotes for the Python parse


def _corpus(path, target_bytes: int = 4 * 2**20, seed: int = 0) -> int:
    rng = random.Random(seed)
    written = n = 0
    with open(path, "w", encoding="utf-8") as f:
        while written < target_bytes:
            size = rng.choice((2_000, 6_000, 6_000, 20_000, 60_000))
            text = _adversarial(rng, size)
            if n % 50 == 0:  # some huge one-line documents: judged on windows, still kept
                text = _quoted_paragraph(rng, 400_000)
            line = json.dumps({"id": f"adv-{n}", "text": text}, ensure_ascii=False) + "\n"
            f.write(line)
            written += len(line.encode())
            n += 1
    return n


def test_four_megabytes_of_adversarial_long_lines_tag_in_under_a_minute(tmp_path):
    src = tmp_path / "in" / "adversarial.jsonl"
    src.parent.mkdir()
    n_docs = _corpus(src)
    start = time.perf_counter()
    stats = run_tag(str(src), tmp_path / "out", progress=False, quiet=True)
    elapsed = time.perf_counter() - start
    assert elapsed < 60, f"tagging 4 MB of adversarial text took {elapsed:.1f} s"
    rows = sum(pq.read_metadata(p).num_rows for p in (tmp_path / "out").glob("*.parquet"))
    assert rows == n_docs == stats["documents"]  # nothing lost: every document tagged and written
    step_stats = json.loads((tmp_path / "out" / "logs" / "stats.json").read_text())
    tagger = next(s for s in step_stats if "domain tagger" in s["name"])
    assert not any(k.startswith("tag_fallback/") for k in tagger["stats"])  # no document needed the guard
