"""Offline, deterministic symbolic tasks from the chain-of-thought literature.

Last-letter concatenation and coin flip follow Wei et al. (2022) and Kojima et al. (2022): names are
drawn from common first and last names, 2-4 words per question, 2-4 people per coin. Same seed, same
examples, on every machine.
"""

from __future__ import annotations

import random
from collections.abc import Callable


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST_NAMES = _words(
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan "
    "Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy Matthew Betty Anthony Margaret "
    "Mark Sandra Donald Ashley Steven Kimberly Paul Emily Andrew Donna Joshua Michelle Kenneth Carol Kevin "
    "Amanda Brian Dorothy George Melissa Timothy Deborah Ronald Stephanie Edward Rebecca Jason Sharon "
    "Jeffrey Laura Ryan Cynthia Jacob Kathleen Gary Amy Nicholas Angela Eric Shirley Jonathan Anna Larry "
    "Brenda Justin Pamela Scott Emma Brandon Nicole Benjamin Helen Samuel Samantha Gregory Katherine Alexander "
    "Christine Frank Debra Raymond Rachel Patrick Carolyn Jack Janet Dennis Catherine Jerry Maria Tyler Heather"
)
LAST_NAMES = _words(
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez "
    "Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez "
    "Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker "
    "Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins"
)
OBJECTS = _words(
    "cigar umbrella key gum alarm apple book candle drum envelope feather glove hammer ink jar kite lamp "
    "mirror needle orange pencil quilt ribbon spoon ticket vase wallet yarn zipper anchor bottle compass "
    "dice eraser flute globe helmet island jacket kettle ladder magnet notebook oven pillow radio saddle"
)


def _full_names(rng: random.Random, k: int) -> list[str]:
    words: list[str] = []
    while len(words) < k:
        words.append(rng.choice(FIRST_NAMES))
        if len(words) < k:
            words.append(rng.choice(LAST_NAMES))
    return words


def last_letter_concat(n: int, seed: int = 0, min_words: int = 2, max_words: int = 4) -> list[dict]:
    rng = random.Random(f"last_letter_concat/{seed}")
    out = []
    for i in range(n):
        words = _full_names(rng, rng.randint(min_words, max_words))
        out.append({"id": f"last_letter_concat/{i}", "words": " ".join(words),
                    "answer": "".join(w[-1] for w in words)})
    return out


def first_letter_concat(n: int, seed: int = 0, min_words: int = 2, max_words: int = 4) -> list[dict]:
    rng = random.Random(f"first_letter_concat/{seed}")
    out = []
    for i in range(n):
        words = _full_names(rng, rng.randint(min_words, max_words))
        out.append({"id": f"first_letter_concat/{i}", "words": " ".join(words),
                    "answer": "".join(w[0] for w in words)})
    return out


def reverse_list(n: int, seed: int = 0, min_items: int = 3, max_items: int = 6) -> list[dict]:
    rng = random.Random(f"reverse_list/{seed}")
    out = []
    for i in range(n):
        items = rng.sample(OBJECTS, rng.randint(min_items, max_items))
        out.append({"id": f"reverse_list/{i}", "items": ", ".join(items),
                    "answer": ", ".join(reversed(items))})
    return out


def coin_flip(n: int, seed: int = 0, min_people: int = 2, max_people: int = 4) -> list[dict]:
    rng = random.Random(f"coin_flip/{seed}")
    out = []
    for i in range(n):
        people = rng.sample(FIRST_NAMES, rng.randint(min_people, max_people))
        flips = [rng.random() < 0.5 for _ in people]
        story = " ".join(f"{p} flips the coin." if f else f"{p} does not flip the coin."
                         for p, f in zip(people, flips, strict=True))
        # heads up iff the number of flips is even
        out.append({"id": f"coin_flip/{i}", "story": f"A coin is heads up. {story}",
                    "answer": "no" if sum(flips) % 2 else "yes"})
    return out


GENERATORS: dict[str, Callable[..., list[dict]]] = {
    "last_letter_concat": last_letter_concat,
    "first_letter_concat": first_letter_concat,
    "reverse_list": reverse_list,
    "coin_flip": coin_flip,
}
