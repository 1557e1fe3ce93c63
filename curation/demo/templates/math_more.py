"""More `math_text` generators: percentages, linear systems, sequences, counting, unit conversion, limits."""

from __future__ import annotations

import math
import random

from curation.demo.templates.vocab import OBJECTS, PEOPLE, pick


def percentage(rng: random.Random, scaffold: bool) -> str:
    price, pct = rng.randint(20, 400), pick(rng, (10, 15, 20, 25, 30, 40))
    off = price * pct / 100
    q = f"A jacket costs ${price}. It is on sale for {pct}% off. What is the sale price?"
    if scaffold:
        return (f"{q}\n\nStep 1: The discount is {pct}% of {price}: {pct}/100 × {price} = {off:g}.\n"
                f"Step 2: Subtract it from the original price: {price} - {off:g} = {price - off:g}.\n"
                f"Therefore the sale price is ${price - off:g}.\n")
    return f"{q}\n\nWith {pct} percent off, the jacket costs ${price - off:g}.\n"


def linear_system(rng: random.Random, scaffold: bool) -> str:
    x, y = rng.randint(-6, 9), rng.randint(-6, 9)
    a, b = rng.randint(1, 5), rng.randint(1, 5)
    s1, s2 = x + y, a * x - b * y
    head = f"Solve the system $x + y = {s1}$ and ${a}x - {b}y = {s2}$."
    if scaffold:
        return (f"{head}\n\nFrom the first equation, $y = {s1} - x$. Substituting into the second:\n"
                f"$$\\begin{{aligned}}\n{a}x - {b}({s1} - x) &= {s2} \\\\\n{a + b}x {'-' if b * s1 >= 0 else '+'} "
                f"{abs(b * s1)} &= {s2} \\\\\n"
                f"{a + b}x &= {s2 + b * s1} \\\\\nx &= {x}\n\\end{{aligned}}$$\n"
                f"Then $y = {s1} - ({x}) = {y}$. Hence $(x, y) = ({x}, {y})$.\n")
    return f"{head}\n\nElimination gives the unique solution $x = {x}$, $y = {y}$.\n"


def sequence(rng: random.Random, scaffold: bool) -> str:
    a, d, n = rng.randint(1, 20), rng.randint(2, 9), rng.randint(10, 60)
    last = a + (n - 1) * d
    total = n * (a + last) // 2
    q = f"Find the sum of the first {n} terms of the arithmetic sequence {a}, {a + d}, {a + 2 * d}, ..."
    if scaffold:
        return (f"{q}\n\nSolution.\n1. The common difference is d = {d}.\n"
                f"2. The last term is a_{n} = {a} + ({n} - 1) · {d} = {last}.\n"
                f"3. The sum is S = n(a_1 + a_n)/2 = {n} · ({a} + {last}) / 2 = {total}.\n"
                f"So the sum is {total}.\n")
    return f"{q}\n\nPairing the first and last terms, the {n} terms add up to {total}.\n"


def counting(rng: random.Random, scaffold: bool) -> str:
    n, k = rng.randint(5, 12), rng.randint(2, 4)
    who = pick(rng, PEOPLE)
    ways = math.comb(n, k)
    q = f"{who} wants to choose {k} of {n} different {pick(rng, OBJECTS)}. How many different choices are there?"
    if scaffold:
        num = " · ".join(str(n - i) for i in range(k))
        return (f"{q}\n\nThe order does not matter, so we count combinations:\n"
                f"  C({n}, {k}) = {n}! / ({k}! · {n - k}!)\n  = ({num}) / {math.factorial(k)}\n  = {ways}\n"
                f"Thus there are {ways} choices.\n")
    return f"{q}\n\nThere are {ways} ways, the binomial coefficient of {n} and {k}.\n"


def unit_conversion(rng: random.Random, scaffold: bool) -> str:
    km, minutes = rng.randint(3, 42), rng.randint(15, 240)
    speed = km / (minutes / 60)
    q = f"A runner covers {km} km in {minutes} minutes. What is the average speed in km/h?"
    if scaffold:
        return (f"{q}\n\nFirst, convert the time to hours: {minutes} / 60 = {minutes / 60:.3g} h.\n"
                f"Then divide distance by time: {km} / {minutes / 60:.3g} = {speed:.2f} km/h.\n"
                f"The average speed is about {speed:.2f} km/h.\n")
    return f"{q}\n\nThe runner averages roughly {speed:.1f} kilometres per hour.\n"


def limit_notes(rng: random.Random, scaffold: bool) -> str:
    a = rng.randint(2, 15)
    if rng.random() < 0.5:
        head = f"Example. Compute $\\lim_{{x \\to {a}}} \\frac{{x^2 - {a * a}}}{{x - {a}}}$."
        work = (f"$$\\frac{{x^2 - {a * a}}}{{x - {a}}} = \\frac{{(x - {a})(x + {a})}}{{x - {a}}} = x + {a}"
                f"\\quad (x \\ne {a}).$$\nHence the limit equals ${a} + {a} = {2 * a}$.")
        value = 2 * a
    else:
        head = f"Example. Compute $\\lim_{{x \\to {a}}} \\frac{{x^3 - {a ** 3}}}{{x - {a}}}$."
        work = (f"$$\\frac{{x^3 - {a ** 3}}}{{x - {a}}} = x^2 + {a}x + {a * a} \\quad (x \\ne {a}).$$\n"
                f"Hence the limit equals ${a * a} + {a * a} + {a * a} = {3 * a * a}$.")
        value = 3 * a * a
    if scaffold:
        return f"{head}\n\nDirect substitution gives $0/0$, so we simplify first:\n{work}\n"
    return f"{head}\n\nCancelling the common factor, the limit is ${value}$.\n"


GENERATORS = (percentage, linear_system, sequence, counting, unit_conversion, limit_notes)
