"""`general` generators: news, fiction, encyclopedia entries, chit-chat and how-to lists.

The scaffold variant is structured prose (numbered instructions, "first ... then ... finally").
"""

from __future__ import annotations

import random

from curation.demo.templates import general_more
from curation.demo.templates.vocab import ADJECTIVES, NOUNS, PLACES, TOPICS, VERBS_PAST, person, pick


def _news_sentence(rng: random.Random) -> str:
    return pick(rng, (
        f"The {pick(rng, ADJECTIVES)} {pick(rng, NOUNS)} in {pick(rng, PLACES)} was {pick(rng, VERBS_PAST)} "
        f"on {pick(rng, ('Monday', 'Tuesday', 'Friday', 'Sunday'))} after months of debate.",
        f"Officials said the plan would affect {pick(rng, TOPICS)} and {pick(rng, TOPICS)} across the region.",
        f"\"We did not expect so many people,\" said {person(rng)}, who has lived nearby for {rng.randint(3, 40)} years.",
        f"Residents {pick(rng, VERBS_PAST)} the decision, although some worried about the cost.",
        f"Local groups have {pick(rng, VERBS_PAST)} a petition asking the council to reconsider.",
        f"The project is expected to finish before the {pick(rng, ('summer', 'winter', 'spring'))} season.",
        f"Critics argue that {pick(rng, TOPICS)} deserves more attention than the {pick(rng, NOUNS)}.",
    ))


def news(rng: random.Random, scaffold: bool) -> str:
    place = pick(rng, PLACES)
    title = f"{place} {pick(rng, NOUNS)} {pick(rng, VERBS_PAST)} amid {pick(rng, TOPICS)} concerns"
    paras = [" ".join(_news_sentence(rng) for _ in range(rng.randint(2, 4))) for _ in range(rng.randint(2, 4))]
    return title + "\n\n" + "\n\n".join(paras) + "\n"


def fiction(rng: random.Random, scaffold: bool) -> str:
    a, b = person(rng).split()[0], person(rng).split()[0]
    sents = [
        f"{a} walked down to the {pick(rng, NOUNS)} as the light began to fade.",
        f"The air smelled of rain and {pick(rng, ('salt', 'woodsmoke', 'cut grass', 'bread'))}.",
        f"\"You came back,\" {b} said, without looking up from the {pick(rng, ('book', 'fire', 'map', 'window'))}.",
        f"{a} had not planned to stay long, but the {pick(rng, ADJECTIVES)} house made leaving feel impossible.",
        f"Somewhere beyond the {pick(rng, NOUNS)}, a dog barked twice and then fell silent.",
        f"They talked about {pick(rng, PLACES)}, about the summer they had both tried to forget.",
        f"When the clock struck {pick(rng, ('nine', 'ten', 'eleven', 'midnight'))}, {b} finally smiled.",
    ]
    rng.shuffle(sents)
    n = rng.randint(4, len(sents))
    return " ".join(sents[:n // 2]) + "\n\n" + " ".join(sents[n // 2:n]) + "\n"


def encyclopedia(rng: random.Random, scaffold: bool) -> str:
    place, noun = pick(rng, PLACES), pick(rng, NOUNS)
    year = rng.randint(1620, 1990)
    text = (f"The {place} {noun.capitalize()} is a {pick(rng, ADJECTIVES)} {noun} located in the "
            f"{pick(rng, ('north', 'centre', 'east', 'west'))} of {place}. It was built in {year} and "
            f"{pick(rng, VERBS_PAST)} in {year + rng.randint(10, 30)}. The {noun} is known for its "
            f"{pick(rng, ('stone facade', 'gardens', 'collection of maps', 'annual fair'))} and attracts "
            f"visitors interested in {pick(rng, TOPICS)}.\n\nHistory\n\nDuring the {year // 100 + 1}th century "
            f"the {noun} served as a centre for {pick(rng, TOPICS)}. It was later managed by the city council, "
            f"which {pick(rng, VERBS_PAST)} several renovation projects.\n")
    if scaffold:
        text += ("\nTimeline\n\n1. Construction begins.\n2. The building opens to the public.\n"
                 "3. A new wing is added.\n4. The site is listed as a heritage monument.\n")
    return text


def chit_chat(rng: random.Random, scaffold: bool) -> str:
    a, b = person(rng).split()[0], person(rng).split()[0]
    turns = [
        f"{a}: hey, are you coming to the {pick(rng, NOUNS)} tomorrow?",
        f"{b}: maybe! depends on the weather tbh",
        f"{a}: it's supposed to be sunny, {pick(rng, ('finally', 'for once', 'apparently'))}",
        f"{b}: ok then I'm in. should I bring anything?",
        f"{a}: just snacks, {pick(rng, ('Lena', 'Omar', 'Priya'))} is bringing drinks",
        f"{b}: perfect, see you at {rng.randint(1, 11)}",
        f"{a}: see you! don't be late this time haha",
    ]
    return "\n".join(turns[: rng.randint(4, len(turns))]) + "\n"


def how_to(rng: random.Random, scaffold: bool) -> str:
    task = pick(rng, ("bake sourdough bread", "plant tomatoes", "plan a cycling trip", "repot a cactus",
                      "clean a bicycle chain", "write a cover letter"))
    steps = [
        "Gather everything you need before you start.", "Set aside enough time so you are not rushed.",
        "Work slowly at first and check the result as you go.", "Ask a friend for a second opinion.",
        "Clean up and note what you would change next time.", "Let it rest overnight if you can.",
    ]
    rng.shuffle(steps)
    if scaffold:
        body = "\n".join(f"Step {i + 1}: {s}" for i, s in enumerate(steps[: rng.randint(3, 6)]))
        return f"How to {task}\n\n{body}\n\nFinally, enjoy the result and share it with others.\n"
    return (f"Learning to {task} is easier than it looks. " + " ".join(steps[:3]) +
            " Most people get it right on the second try.\n")


def review(rng: random.Random, scaffold: bool) -> str:
    thing = pick(rng, ("café", "novel", "hiking trail", "museum", "film", "concert"))
    return (f"I visited this {thing} in {pick(rng, PLACES)} last {pick(rng, ('week', 'month', 'summer'))} and "
            f"honestly it was {pick(rng, ('wonderful', 'a bit disappointing', 'better than expected'))}. "
            f"The staff were {pick(rng, ('friendly', 'busy but kind', 'distracted'))} and the "
            f"{pick(rng, NOUNS)} nearby is worth a detour. I would give it {rng.randint(2, 5)} out of five stars "
            f"and I will probably go back with my family.\n")


GENERATORS = (news, news, fiction, encyclopedia, chit_chat, how_to, review, *general_more.GENERATORS)


def generate(rng: random.Random, scaffold: bool) -> str:
    return pick(rng, GENERATORS)(rng, scaffold)
