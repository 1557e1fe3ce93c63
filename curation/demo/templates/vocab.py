"""Shared vocabulary for the demo corpus generator: names, places, nouns, verbs, identifiers."""

from __future__ import annotations

import random

PEOPLE = ("Ada", "Bilal", "Chen", "Dana", "Emeka", "Farah", "Goran", "Hana", "Ines", "Jonas", "Kiri",
          "Lena", "Mateo", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tomoko", "Uma", "Viktor",
          "Wen", "Ximena", "Yusuf", "Zofia")
SURNAMES = ("Adeyemi", "Berg", "Castillo", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ito",
            "Jansen", "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrov", "Rossi", "Silva")
PLACES = ("Lisbon", "Nairobi", "Osaka", "Valparaíso", "Tromsø", "Cork", "Tbilisi", "Hanoi", "Quito",
          "Adelaide", "Kraków", "Marrakesh", "Winnipeg", "Bergen", "Cusco", "Ljubljana", "Dakar", "Perth")
NOUNS = ("river", "market", "bridge", "library", "harbour", "orchard", "festival", "museum", "railway",
         "council", "garden", "island", "forest", "theatre", "school", "clinic", "village", "stadium",
         "lighthouse", "bakery", "archive", "valley", "factory", "observatory", "ferry", "square")
ADJECTIVES = ("old", "quiet", "crowded", "new", "famous", "small", "remote", "busy", "ancient", "modern",
              "narrow", "bright", "windy", "historic", "local", "coastal", "northern", "southern")
VERBS_PAST = ("opened", "closed", "expanded", "announced", "celebrated", "rebuilt", "visited", "approved",
              "rejected", "delayed", "welcomed", "restored", "reported", "launched", "postponed")
TOPICS = ("climate", "tourism", "public transport", "housing", "education", "fishing", "farming",
          "music", "football", "elections", "healthcare", "archaeology", "architecture", "cycling")
OBJECTS = ("apples", "marbles", "books", "tickets", "pencils", "stamps", "coins", "cookies", "eggs",
           "shells", "cards", "balloons", "bottles", "seeds", "bricks", "oranges")
UNITS = ("metres", "kilograms", "litres", "hours", "minutes", "dollars", "euros", "kilometres")

IDENT_NOUNS = ("user", "order", "item", "record", "node", "token", "file", "path", "buffer", "config",
               "event", "task", "queue", "cache", "score", "count", "value", "result", "entry", "batch",
               "request", "response", "message", "matrix", "graph", "edge", "row", "column", "key")
IDENT_VERBS = ("load", "parse", "build", "compute", "update", "fetch", "merge", "split", "sort", "filter",
               "validate", "render", "encode", "decode", "normalize", "count", "find", "collect", "emit")
LIBRARIES = ("requests", "numpy", "pandas", "flask", "fastapi", "pytest", "click", "pydantic", "polars",
             "httpx", "rich", "sqlalchemy", "express", "react", "tokio", "serde", "lodash", "axios")


def pick(rng: random.Random, seq):
    return seq[rng.randrange(len(seq))]


def ident(rng: random.Random, style: str = "snake") -> str:
    """A plausible identifier: `load_user`, `parseOrder`, `UserCache` ..."""
    verb, noun = pick(rng, IDENT_VERBS), pick(rng, IDENT_NOUNS)
    if style == "camel":
        return verb + noun.capitalize()
    if style == "pascal":
        return noun.capitalize() + pick(rng, ("Store", "Manager", "Parser", "Builder", "Index", "Pool"))
    return f"{verb}_{noun}"


def person(rng: random.Random) -> str:
    return f"{pick(rng, PEOPLE)} {pick(rng, SURNAMES)}"


def sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]
