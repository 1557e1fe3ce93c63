"""`code_text` generators: tutorials, Q&A answers, notebooks and READMEs that mix prose and code."""

from __future__ import annotations

import random

from curation.demo.templates.code import SNIPPETS
from curation.demo.templates.vocab import IDENT_NOUNS, LIBRARIES, ident, person, pick

_INTROS = (
    "In this tutorial we walk through how to {verb} {noun} records with {lib}.",
    "A common question is how to {verb} a list of {noun}s without loading everything into memory.",
    "This guide shows a small, practical way to {verb} {noun} data using {lib}.",
    "If you have ever needed to {verb} {noun}s in a hurry, this post is for you.",
    "Below is a short walkthrough for anyone who wants to {verb} {noun} objects in a real project.",
)
_EXPLAIN = (
    "The function above takes the input, skips empty entries and returns the cleaned result.",
    "Notice that we never modify the input in place; a new list is returned instead.",
    "Here the loop keeps a running total, which makes the whole pass linear in the number of items.",
    "The important part is the early return, which avoids a lot of nested conditions later on.",
    "You can run this from the command line and the output will be printed to the terminal.",
    "If the call raises an error, check that the path exists and that you have read permission.",
    "This keeps the example short, but in production you would add logging and proper error handling.",
)
_QUESTIONS = (
    "How do I {verb} a {noun} list in {lang} without a loop?",
    "Why does my {lang} code fail when I try to {verb} the {noun}s?",
    "What is the idiomatic way to {verb} {noun} values in {lang}?",
    "Is there a faster way to {verb} a large {noun} file in {lang}?",
)


def _fill(rng: random.Random, template: str, lang: str = "python") -> str:
    return template.format(verb=pick(rng, ("parse", "filter", "sort", "merge", "validate", "load", "cache")),
                           noun=pick(rng, IDENT_NOUNS), lib=pick(rng, LIBRARIES), lang=lang)


def _block(rng: random.Random, lang: str, scaffold: bool) -> str:
    body = SNIPPETS[lang](rng, scaffold).strip("\n")
    lines = body.splitlines()
    if len(lines) > 18 and rng.random() < 0.6:  # tutorials usually quote an excerpt, not a whole file
        start = rng.randrange(0, len(lines) - 12)
        lines = lines[start:start + rng.randint(6, 14)]
    return "\n".join(lines)


def _fenced(rng: random.Random, lang: str, scaffold: bool) -> str:
    return f"```{lang}\n{_block(rng, lang, scaffold)}\n```"


def tutorial(rng: random.Random, scaffold: bool) -> str:
    lang = pick(rng, ("python", "python", "javascript", "typescript", "bash", "go", "rust", "c", "java", "sql"))
    lib = pick(rng, LIBRARIES)
    parts = [f"# {pick(rng, ('Getting started with', 'A gentle guide to', 'Working with'))} {lib}",
             _fill(rng, pick(rng, _INTROS), lang) + " " + pick(rng, _EXPLAIN)]
    parts.append(f"First install the package:\n\n```bash\npip install {lib}\n```")
    for i in range(rng.randint(1, 3)):
        head = f"## Step {i + 1}: {pick(rng, ('set up', 'write the core', 'add tests', 'run it'))}" if scaffold \
            else f"## {pick(rng, ('The idea', 'Writing the code', 'A closer look', 'Running it'))}"
        parts += [head, pick(rng, _EXPLAIN), _fenced(rng, lang, scaffold), pick(rng, _EXPLAIN)]
    parts.append(pick(rng, ("That's it! ", "Happy hacking. ", "")) + pick(rng, _EXPLAIN))
    return "\n\n".join(parts) + "\n"


def qa_answer(rng: random.Random, scaffold: bool) -> str:
    lang = pick(rng, ("python", "javascript", "bash", "c"))
    q = _fill(rng, pick(rng, _QUESTIONS), lang)
    parts = [f"Question: {q}", f"I tried the following but it {pick(rng, ('is slow', 'raises an error', 'returns None'))}:",
             _fenced(rng, lang, False), f"Answer ({person(rng)}):"]
    if scaffold:
        parts.append("There are three things to change:\n\n1. Validate the input first.\n"
                     "2. Build the result in a single pass.\n3. Return early when there is nothing to do.")
    else:
        parts.append(f"You are close. {pick(rng, _EXPLAIN)} Try this instead:")
    parts += [_fenced(rng, lang, scaffold), pick(rng, _EXPLAIN)]
    return "\n\n".join(parts) + "\n"


def notebook(rng: random.Random, scaffold: bool) -> str:
    noun = pick(rng, IDENT_NOUNS)
    parts = [f"# Exploring the {noun} dataset", f"In this notebook we load the {noun} table and look at "
             f"a few summary statistics before building a model."]
    for i in range(rng.randint(2, 4)):
        parts.append(f"In [{i + 1}]:" if rng.random() < 0.5 else "")
        code = [f"import {pick(rng, ('pandas as pd', 'numpy as np', 'polars as pl'))}",
                f"df = pd.read_csv('{noun}s.csv')", f"df.{pick(rng, ('head()', 'describe()', 'info()'))}"]
        if scaffold:
            code += [f"df['{noun}_norm'] = (df['{noun}'] - df['{noun}'].mean()) / df['{noun}'].std()"]
        parts.append("```python\n" + "\n".join(code[: rng.randint(2, len(code))]) + "\n```")
        parts.append(f"The {pick(rng, ('mean', 'median', 'spread'))} of the {noun} column is "
                     f"{rng.uniform(1, 90):.2f}, which {pick(rng, ('looks reasonable', 'is higher than expected'))}."
                     f" Next we {pick(rng, ('plot the distribution', 'drop missing rows', 'group by category'))}.")
    return "\n\n".join(p for p in parts if p) + "\n"


def readme(rng: random.Random, scaffold: bool) -> str:
    name = ident(rng).replace("_", "-")
    lang = pick(rng, ("python", "javascript", "bash"))
    parts = [f"# {name}", f"`{name}` is a small library to {ident(rng).replace('_', ' ')}s quickly and safely. "
             f"It has no dependencies besides {pick(rng, LIBRARIES)} and works on Linux, macOS and Windows.",
             "## Installation", f"```bash\npip install {name}\n```", "## Usage",
             "Import the main function and call it with your data:", _fenced(rng, lang, scaffold)]
    if scaffold:
        parts += ["## How it works", "1. The input is validated.\n2. Records are grouped by key.\n"
                  "3. Each group is reduced and the results are merged."]
    parts += ["## License", pick(rng, ("MIT", "Apache-2.0", "BSD-3-Clause"))]
    return "\n\n".join(parts) + "\n"


def rst_doc(rng: random.Random, scaffold: bool) -> str:
    fn = ident(rng)
    noun = pick(rng, IDENT_NOUNS)
    body = "\n".join("    " + ln for ln in SNIPPETS["python"](rng, scaffold).strip().splitlines()[:10])
    return (f"{fn}\n{'=' * len(fn)}\n\nThe ``{fn}`` helper reads {noun}s from disk and returns them in a "
            f"normalised form. It is meant for scripts and notebooks alike.\n\nExample::\n\n{body}\n\n"
            f">>> {fn}([1, 2, 3])\n[1, 2, 3]\n\nThe function raises ``ValueError`` when the {noun} list is "
            f"empty, so wrap the call if your input may be missing.\n")


def error_report(rng: random.Random, scaffold: bool) -> str:
    fn, noun = ident(rng), pick(rng, IDENT_NOUNS)
    line = rng.randint(10, 400)
    parts = [f"# Fixing `KeyError: '{noun}'` in {fn}",
             "Yesterday our nightly job started failing with the traceback below. It took me a while to find the "
             "cause, so here is what happened and how we fixed it.",
             f"```\nTraceback (most recent call last):\n  File \"jobs/{fn}.py\", line {line}, in {fn}\n"
             f"    value = record['{noun}']\nKeyError: '{noun}'\n```",
             f"The {noun} field is optional in the upstream export, but our code assumed it was always there."]
    if scaffold:
        parts.append("The fix has three parts:\n\n1. Read the field with a default.\n2. Log the records that "
                     "lack it.\n3. Add a test with such a record.")
    parts += [f"```python\nvalue = record.get('{noun}')\nif value is None:\n    log.warning('missing {noun}: %s', "
              f"record['id'])\n    continue\n```", "After this change the job has run every night without errors."]
    return "\n\n".join(parts) + "\n"


def api_reference(rng: random.Random, scaffold: bool) -> str:
    fn, noun = ident(rng), pick(rng, IDENT_NOUNS)
    default = rng.randint(1, 64)
    text = (f"### `{fn}({noun}s, limit={default})`\n\nReturns the {noun}s that pass validation, at most `limit` "
            f"of them. The input is not modified, and the order of the kept items is preserved.\n\n"
            f"**Parameters**\n\n- `{noun}s` (list): the items to check.\n- `limit` (int, default {default}): "
            f"the maximum number of items returned.\n\n**Example**\n\n")
    if rng.random() < 0.5:  # Markdown's indented code block, no fence
        text += f"    from mylib import {fn}\n    kept = {fn}(load_all(), limit=10)\n    print(len(kept))\n"
    else:
        text += f"```python\nfrom mylib import {fn}\n\nkept = {fn}(load_all(), limit=10)\nprint(len(kept))\n```\n"
    if scaffold:
        text += ("\n**How it works**\n\n1. Every item is validated.\n2. Invalid items are skipped.\n"
                 "3. The first `limit` valid items are returned.\n")
    return text


GENERATORS = (tutorial, tutorial, qa_answer, qa_answer, notebook, readme, rst_doc, error_report, api_reference)


def generate(rng: random.Random, scaffold: bool) -> str:
    return pick(rng, GENERATORS)(rng, scaffold)
