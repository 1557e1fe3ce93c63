"""Chat generators (ShareGPT-like `messages`): coding, math and everyday conversations.

A coding chat is `code_text` (prose interleaved with code, as in the IFT study's coding split), a math
chat is `math_text`, anything else is `general`.
"""

from __future__ import annotations

import random

from curation.demo.templates import general, math
from curation.demo.templates.code import SNIPPETS
from curation.demo.templates.vocab import IDENT_NOUNS, PLACES, TOPICS, ident, pick

_SYSTEMS = ("You are a helpful assistant.", "You are a concise, friendly assistant.",
            "You are an expert programmer who explains clearly.", "")


def _coding(rng: random.Random, scaffold: bool) -> list[dict[str, str]]:
    lang = pick(rng, ("python", "javascript", "bash", "go", "rust", "c"))
    fn = ident(rng)
    msgs = [{"role": "user", "content": pick(rng, (
        f"Can you write a {lang} function called {fn} that handles a list of {pick(rng, IDENT_NOUNS)}s?",
        f"My {lang} script crashes when the input is empty. How do I fix it?",
        f"What's the cleanest way to {fn.replace('_', ' ')}s in {lang}?"))}]
    block = SNIPPETS[lang](rng, scaffold).strip()
    intro = ("Sure! Here is an approach in three steps:\n\n1. Validate the input.\n2. Process each item.\n"
             "3. Return the result.\n\n") if scaffold else "Sure, here is a version that works:\n\n"
    msgs.append({"role": "assistant", "content": f"{intro}```{lang}\n{block}\n```\n\n"
                 "The loop skips empty items, so an empty input simply returns an empty result."})
    if rng.random() < 0.5:
        msgs += [{"role": "user", "content": "Thanks! How would I test it?"},
                 {"role": "assistant", "content": "Write a small unit test with a known input and output:\n\n"
                  f"```python\nfrom mymodule import {fn}\n\n\ndef test_{fn}_empty():\n"
                  f"    assert {fn}([]) == []\n```\n\nRun it with `pytest -q`; an empty list is the "
                  "edge case that failed before."}]
    return msgs


def _math(rng: random.Random, scaffold: bool) -> list[dict[str, str]]:
    problem = pick(rng, (math.word_problem, math.rate_problem, math.fraction_problem, math.equation_solution))
    doc = problem(rng, scaffold)
    head, _, sol = doc.partition("\n\n")
    return [{"role": "user", "content": head.replace("Problem: ", "")},
            {"role": "assistant", "content": sol.replace("Solution: ", "").strip()}]


def _everyday(rng: random.Random, scaffold: bool) -> list[dict[str, str]]:
    place = pick(rng, PLACES)
    msgs = [{"role": "user", "content": pick(rng, (
        f"I'm visiting {place} next month. What should I see?",
        f"Can you tell me a bit about {pick(rng, TOPICS)} in {place}?",
        "Write a short story about a lighthouse keeper.", "How do I keep basil alive on a windowsill?"))}]
    reply = pick(rng, (general.encyclopedia, general.fiction, general.how_to, general.review))(rng, scaffold)
    msgs.append({"role": "assistant", "content": reply.strip()})
    if rng.random() < 0.4:
        msgs += [{"role": "user", "content": "That's great, thank you!"},
                 {"role": "assistant", "content": "You're welcome! Enjoy, and let me know if you need more ideas."}]
    return msgs


def generate(rng: random.Random, scaffold: bool) -> tuple[str, list[dict[str, str]]]:
    """One conversation and its gold domain label."""
    kind = rng.random()
    if kind < 0.45:
        label, msgs = "code_text", _coding(rng, scaffold)
    elif kind < 0.7:
        label, msgs = "math_text", _math(rng, scaffold)
    else:
        label, msgs = "general", _everyday(rng, scaffold)
    system = pick(rng, _SYSTEMS)
    if system:
        msgs.insert(0, {"role": "system", "content": system})
    return label, msgs
