"""Compiled twins of the heuristic tagger's line scanners (everything else is in pyproject.toml).

Each extension counts exactly what the Python reference next to it counts, in one C pass; tests check
them equal. They are optional: without a C compiler the install still works and the tagger runs the
Python reference, more slowly (`tracemix tag` says which one ran).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("curation.classifiers._scan", ["curation/classifiers/_scan.c"], optional=True),
        Extension("curation.classifiers._scaffold_lines", ["curation/classifiers/_scaffold_lines.c"],
                  optional=True),
    ]
)
