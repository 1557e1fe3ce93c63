"""More `general` generators: recipes, letters, biographies, product pages, forum posts, poems."""

from __future__ import annotations

import random

from curation.demo.templates.vocab import ADJECTIVES, NOUNS, PLACES, TOPICS, person, pick

_INGREDIENTS = ("flour", "butter", "onions", "garlic", "lentils", "rice", "tomatoes", "spinach", "lemon",
                "honey", "yoghurt", "mushrooms", "carrots", "chickpeas", "olive oil", "fresh basil")


def recipe(rng: random.Random, scaffold: bool) -> str:
    items = rng.sample(_INGREDIENTS, rng.randint(4, 7))
    dish = f"{pick(rng, ('Rustic', 'Quick', 'Smoky', 'Summer', 'Winter'))} {items[0]} {pick(rng, ('soup', 'stew', 'salad', 'tart', 'bake'))}"
    text = f"{dish}\n\nServes {rng.randint(2, 6)}. Ingredients: {', '.join(items)}, salt and pepper.\n\n"
    if scaffold:
        steps = [f"Chop the {items[1]} and the {items[2]}.", f"Warm the {items[3]} gently in a large pan.",
                 "Add everything else and simmer until soft.", "Season to taste and serve warm."]
        text += "\n".join(f"{i + 1}. {s}" for i, s in enumerate(steps)) + "\n"
    else:
        text += (f"Cook the {items[1]} slowly with the {items[2]}, then stir in the rest and let it simmer until "
                 f"everything is soft. It tastes even better the next day.\n")
    return text


def letter(rng: random.Random, scaffold: bool) -> str:
    sender, to = person(rng), person(rng).split()[0]
    return (f"Dear {to},\n\nThank you for your letter and for the photographs from {pick(rng, PLACES)}. "
            f"We were glad to hear that the {pick(rng, NOUNS)} finally {pick(rng, ('opened', 'reopened', 'was finished'))}"
            f" and that the weather was kind to you.\n\nHere everything is much the same. The {pick(rng, ADJECTIVES)} "
            f"{pick(rng, NOUNS)} near our house is busy again, and the children have started a club about "
            f"{pick(rng, TOPICS)}. Do let us know when you plan to visit; the spare room is ready.\n\n"
            f"With warm wishes,\n{sender}\n")


def biography(rng: random.Random, scaffold: bool) -> str:
    name, born = person(rng), rng.randint(1840, 1980)
    field = pick(rng, TOPICS)
    return (f"{name} (born {born} in {pick(rng, PLACES)}) is known for work on {field}. After studying in "
            f"{pick(rng, PLACES)}, {name.split()[0]} joined a small group that campaigned for better {field} and "
            f"later led the regional {pick(rng, NOUNS)} for {rng.randint(5, 30)} years.\n\n"
            f"Colleagues remember a patient teacher who preferred long walks to long meetings. "
            f"A collection of letters and notes is kept at the city archive.\n")


def product_page(rng: random.Random, scaffold: bool) -> str:
    thing = pick(rng, ("backpack", "kettle", "desk lamp", "rain jacket", "notebook", "bicycle bell"))
    colour = pick(rng, ("forest green", "charcoal", "sand", "ocean blue", "brick red"))
    text = (f"The {pick(rng, ADJECTIVES).capitalize()} {thing.title()} in {colour}\n\n"
            f"Designed for everyday use, this {thing} is light, sturdy and easy to care for. It comes with a "
            f"{rng.randint(1, 5)}-year guarantee and free returns within thirty days.\n")
    if scaffold:
        text += "\nWhy you will like it:\n- Made from recycled materials\n- Repairable parts\n- Ships in plastic-free packaging\n"
    return text


def forum_post(rng: random.Random, scaffold: bool) -> str:
    user = person(rng).split()[0].lower() + str(rng.randint(1, 99))
    place = pick(rng, PLACES)
    return (f"Posted by {user}\n\nHas anyone here taken the night train to {place} recently? I'm thinking of going "
            f"in {pick(rng, ('March', 'June', 'October', 'December'))} with two friends and we can't decide between "
            f"the train and renting a car. Any tips on where to stay or what to avoid would be great.\n\n"
            f"Reply from {person(rng).split()[0].lower()}\n\nWe did it last year and loved it. Book the sleeper early, "
            f"bring snacks, and don't miss the {pick(rng, NOUNS)} by the old {pick(rng, NOUNS)}.\n")


def poem(rng: random.Random, scaffold: bool) -> str:
    n1, n2, n3 = (pick(rng, NOUNS) for _ in range(3))
    adj = pick(rng, ADJECTIVES)
    return (f"{n1.capitalize()} at Dusk\n\nThe {adj} {n1} keeps the evening light,\n"
            f"a gull turns slowly over the {n2},\nand somewhere a window answers night\n"
            f"with the small gold promise of a {n3}.\n")


GENERATORS = (recipe, letter, biography, product_page, forum_post, poem)
