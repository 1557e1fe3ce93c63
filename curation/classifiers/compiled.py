"""The heuristic tagger's compiled scans, built by setup.py: `_scan.c` and `_scaffold_lines.c`.

Each function in them is the twin of a Python reference that sits beside the rules it serves
(`line_rules.reference_line_stats`, `heuristic.reference_*`, `scaffold.reference_math_chars`,
`scaffold._line_counts`, the `reference_count_*` below), and tests check each pair equal. The extensions
are optional: without a C compiler at install time they are `None` here, the references run instead, tags
are the same, only about 2x slower, and `tracemix tag` warns.
"""

from __future__ import annotations

import os

# TRACEMIX_PURE_PYTHON=1 runs the references even where the extensions are built (to compare the two)
PURE_PYTHON = os.environ.get("TRACEMIX_PURE_PYTHON", "") not in ("", "0")
try:
    from curation.classifiers import _scan
except ImportError:
    _scan = None
try:
    from curation.classifiers import _scaffold_lines
except ImportError:
    _scaffold_lines = None
if PURE_PYTHON:
    _scan = _scaffold_lines = None

COMPILED = _scan is not None and _scaffold_lines is not None


def reference_count_all(text: str, patterns: tuple[str, ...]) -> int:
    """Occurrences of all `patterns` in `text`, each counted as `str.count` does."""
    return sum(map(text.count, patterns))


def reference_count_each(text: str, patterns: tuple[str, ...]) -> tuple[int, ...]:
    """Occurrences of each of `patterns` in `text`, as `str.count` counts them."""
    return tuple(map(text.count, patterns))


# one scan for all patterns instead of one per pattern
count_all = _scan.count_all if _scan is not None else reference_count_all
count_each = _scan.count_each if _scan is not None else reference_count_each
