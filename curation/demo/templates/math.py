"""`math_text` generators: word problems, worked solutions, proofs and LaTeX lecture notes.

The scaffold variant writes explicit steps, equation chains and derivations; the plain variant states
the same mathematics in running prose with the answer, so a scaffold score can tell them apart.
"""

from __future__ import annotations

import random

from curation.demo.templates import math_more
from curation.demo.templates.vocab import OBJECTS, PEOPLE, UNITS, pick


def word_problem(rng: random.Random, scaffold: bool) -> str:
    who, obj = pick(rng, PEOPLE), pick(rng, OBJECTS)
    a, b, c = rng.randint(3, 40), rng.randint(2, 9), rng.randint(1, 20)
    total = a * b - c
    q = (f"{who} buys {b} boxes of {obj} with {a} {obj} in each box, then gives {c} {obj} to a friend. "
         f"How many {obj} does {who} have left?")
    if scaffold:
        sol = (f"Step 1: Find the total number of {obj}: {b} × {a} = {a * b}.\n"
               f"Step 2: Subtract the {obj} given away: {a * b} - {c} = {total}.\n"
               f"Therefore, {who} has {total} {obj} left.\nThe answer is {total}.")
    else:
        sol = f"{who} ends up with {total} {obj}, since the boxes hold {a * b} in all and {c} were given away."
    return f"Problem: {q}\n\nSolution: {sol}\n"


def rate_problem(rng: random.Random, scaffold: bool) -> str:
    unit = pick(rng, UNITS)
    rate, hours, extra = rng.randint(2, 30), rng.randint(2, 12), rng.randint(1, 50)
    total = rate * hours + extra
    q = (f"A machine produces {rate} {unit} per hour. After running for {hours} hours, {extra} more {unit} "
         f"are added by hand. What is the total?")
    if scaffold:
        sol = (f"First, compute the machine output:\n  {rate} * {hours} = {rate * hours}\n"
               f"Next, add the extra amount:\n  {rate * hours} + {extra} = {total}\n"
               f"Hence the total is {total} {unit}.")
    else:
        sol = f"The total is {total} {unit}."
    return f"{q}\n\n{sol}\n"


def equation_solution(rng: random.Random, scaffold: bool) -> str:
    a, x, b = rng.randint(2, 12), rng.randint(-9, 15), rng.randint(1, 40)
    c = a * x + b
    head = f"Solve for $x$: ${a}x + {b} = {c}$."
    if scaffold:
        body = (f"We isolate $x$ step by step.\n\n$$\n\\begin{{aligned}}\n{a}x + {b} &= {c} \\\\\n"
                f"{a}x &= {c} - {b} \\\\\n{a}x &= {c - b} \\\\\nx &= \\frac{{{c - b}}}{{{a}}} = {x}\n"
                f"\\end{{aligned}}\n$$\n\nCheck: ${a} \\cdot {x} + {b} = {c}$. Therefore $x = {x}$.")
    else:
        body = f"Subtracting and dividing gives $x = {x}$, which satisfies the equation."
    return f"{head}\n\n{body}\n"


def quadratic(rng: random.Random, scaffold: bool) -> str:
    r1, r2 = rng.randint(-8, 8), rng.randint(-8, 8)
    b, c = -(r1 + r2), r1 * r2
    poly = f"x^2 {'+' if b >= 0 else '-'} {abs(b)}x {'+' if c >= 0 else '-'} {abs(c)}"
    if scaffold:
        body = (f"Consider the quadratic equation ${poly} = 0$.\n\n1. The sum of the roots is ${-b}$ and the "
                f"product is ${c}$.\n2. Two numbers with sum ${-b}$ and product ${c}$ are ${r1}$ and ${r2}$.\n"
                f"3. So we factor: ${poly} = (x - ({r1}))(x - ({r2}))$.\n"
                f"4. Setting each factor to zero gives $x = {r1}$ or $x = {r2}$.\n\n"
                f"Hence the solution set is $\\{{{min(r1, r2)}, {max(r1, r2)}\\}}$.")
    else:
        body = (f"The polynomial ${poly}$ factors with integer roots; its zeros are ${r1}$ and ${r2}$, as one "
                f"can verify by Vieta's formulas.")
    return body + "\n"


_THEOREMS = (
    # (statement, scaffold proof, plain remark); {k} is a random integer
    (r"For every integer $n \ge 1$, $\sum_{{i=1}}^{{n}} {k}i = \frac{{{k} n(n+1)}}{{2}}$.",
     "Step 1 (base case): for $n = 1$ both sides equal ${k}$.\n\n"
     "Step 2 (inductive step): assume the claim for $n$. Then\n"
     r"$$\sum_{{i=1}}^{{n+1}} {k}i = \frac{{{k} n(n+1)}}{{2}} + {k}(n+1) = \frac{{{k}(n+1)(n+2)}}{{2}}.$$" "\n\n"
     "Therefore the claim holds for $n+1$, and by induction for all $n$.",
     "This is Gauss's formula scaled by {k}, a standard exercise in induction."),
    (r"The sum of the first $n$ odd numbers is $n^2$; for example the first {k} give ${k2}$.",
     "Step 1: for $n = 1$, $1 = 1^2$.\n\nStep 2: assume $1 + 3 + \\dots + (2n-1) = n^2$. Adding the next odd "
     "number,\n$$n^2 + (2n + 1) = (n + 1)^2.$$\n\nHence the statement holds for every $n$; with $n = {k}$ the "
     "sum is ${k2}$.",
     "Arranging dots in growing squares makes this picture proof visible at a glance, e.g. {k2} dots for {k}."),
    (r"For every integer $n$, the number $n^3 - n$ is divisible by $6$ (e.g. $n = {k}$ gives ${k3}$).",
     "First, factor: $n^3 - n = (n - 1) n (n + 1)$.\n\nSecond, among three consecutive integers one is even "
     "and one is a multiple of $3$.\n\nThus $2 \\mid n^3 - n$ and $3 \\mid n^3 - n$, so $6 \\mid n^3 - n$. "
     r"For $n = {k}$: ${k3} = 6 \cdot {k3d6}$.",
     "The product of three consecutive integers always contains the factors two and three, so for {k} the "
     "value {k3} is a multiple of six."),
    (r"For positive reals $a, b$ we have $\frac{{a + b}}{{2}} \ge \sqrt{{ab}}$ (check: $a = {k}, b = {k2}$).",
     "Step 1: $(\\sqrt{{a}} - \\sqrt{{b}})^2 \\ge 0$.\n\nStep 2: expanding, $a - 2\\sqrt{{ab}} + b \\ge 0$.\n\n"
     r"Step 3: rearranging, $a + b \ge 2\sqrt{{ab}}$, hence the claim, with equality iff $a = b$.",
     "The arithmetic mean of two positive numbers such as {k} and {k2} never falls below their geometric mean."),
    ("There are infinitely many primes; in particular there is a prime larger than ${k}$.",
     "Suppose the primes were $p_1, \\dots, p_m$.\n\n1. Let $N = p_1 p_2 \\cdots p_m + 1$.\n"
     "2. No $p_i$ divides $N$, since the remainder is $1$.\n3. So any prime factor of $N$ is new, a "
     "contradiction. Therefore the primes never run out.",
     "Euclid's argument shows that a list of primes can always be extended, so one exceeds {k}."),
)


def proof(rng: random.Random, scaffold: bool) -> str:
    statement, scaffold_proof, remark = pick(rng, _THEOREMS)
    k = rng.randint(2, 99)
    values = {"k": k, "k2": k * k, "k3": k ** 3 - k, "k3d6": (k ** 3 - k) // 6}
    head = pick(rng, ("Theorem.", "Claim.", "Proposition.", f"Lemma {rng.randint(1, 9)}."))
    if scaffold:
        return f"{head} {statement.format(**values)}\n\nProof. {scaffold_proof.format(**values)} $\\blacksquare$\n"
    return f"{head} {statement.format(**values)} {remark.format(**values)}\n"


def geometry(rng: random.Random, scaffold: bool) -> str:
    a, b = rng.randint(2, 40), rng.randint(2, 40)
    shape = pick(rng, ("garden", "field", "room", "poster", "table top"))
    area, perimeter = a * b, 2 * (a + b)
    q = f"A rectangular {shape} measures {a} m by {b} m. What are its area and its perimeter?"
    if scaffold:
        return (f"{q}\n\nStep 1: Area = length × width = {a} × {b} = {area} m².\n"
                f"Step 2: Perimeter = 2 × (length + width)\n    = 2 × ({a} + {b})\n    = 2 × {a + b}\n"
                f"    = {perimeter} m.\nSo the area is {area} m² and the perimeter is {perimeter} m.\n")
    return f"{q}\n\nIts area is {area} square metres and the fence around it would be {perimeter} metres long.\n"


def probability(rng: random.Random, scaffold: bool) -> str:
    red, blue = rng.randint(1, 15), rng.randint(1, 15)
    n = red + blue
    q = (f"A bag contains {red} red and {blue} blue marbles. Two marbles are drawn without replacement. "
         f"What is the probability that both are red?")
    num, den = red * (red - 1), n * (n - 1)
    if scaffold:
        return (f"{q}\n\nSolution.\n1. P(first red) = {red}/{n}.\n2. P(second red | first red) = {red - 1}/{n - 1}.\n"
                f"3. Multiply: P = {red}/{n} · {red - 1}/{n - 1} = {num}/{den}.\n"
                f"Therefore the probability is {num}/{den} ≈ {num / den:.3f}.\n")
    return f"{q}\n\nThe chance works out to about {num / den:.3f}, i.e. {num} out of {den} ordered pairs.\n"


def average_problem(rng: random.Random, scaffold: bool) -> str:
    scores = [rng.randint(40, 100) for _ in range(rng.randint(3, 6))]
    who = pick(rng, PEOPLE)
    total = sum(scores)
    q = f"{who} scored {', '.join(map(str, scores))} on the tests this term. What is the mean score?"
    if scaffold:
        return (f"{q}\n\nFirst, add the scores: {' + '.join(map(str, scores))} = {total}.\n"
                f"Then divide by the number of tests: {total} / {len(scores)} = {total / len(scores):.2f}.\n"
                f"Thus the mean is {total / len(scores):.2f}.\n")
    return f"{q}\n\n{who}'s average over the term is {total / len(scores):.2f} points.\n"


def lecture_notes(rng: random.Random, scaffold: bool) -> str:
    topic = pick(rng, ("derivatives", "geometric series", "expected value", "integration by parts"))
    a, r = rng.randint(1, 9), pick(rng, ("1/2", "1/3", "2/3", "1/4"))
    num, den = (int(t) for t in r.split("/"))
    lines = [f"\\section*{{Lecture {rng.randint(1, 24)}: {topic}}}", "",
             f"Recall that the {topic} play a central role in analysis. We start from a definition and "
             f"then work an example."]
    if topic == "derivatives":
        lines += ["\\begin{definition}", "$f'(x) = \\lim_{h \\to 0} \\frac{f(x+h) - f(x)}{h}$.", "\\end{definition}"]
        if scaffold:
            lines += [f"Example. Let $f(x) = {a}x^2$. Then", "\\begin{align*}",
                      f"f(x+h) - f(x) &= {a}(x+h)^2 - {a}x^2 \\\\", f"&= {2 * a}xh + {a}h^2 \\\\",
                      f"\\frac{{f(x+h) - f(x)}}{{h}} &= {2 * a}x + {a}h \\\\",
                      f"f'(x) &= {2 * a}x.", "\\end{align*}"]
        else:
            lines += [f"For instance, the derivative of ${a}x^2$ is ${2 * a}x$."]
    elif topic == "geometric series":
        lines += ["For $|r| < 1$ we have $\\sum_{k=0}^{\\infty} a r^k = \\frac{a}{1 - r}$."]
        if scaffold:
            lines += [f"Example with $a = {a}$, $r = {r}$:", f"  S = {a} + {a}·{r} + {a}·({r})^2 + ...",
                      f"  S = {a} / (1 - {r})", f"  S = {a} / ({den - num}/{den})",
                      f"  S = {a * den}/{den - num}"]
        else:
            lines += [f"With $a = {a}$ and $r = {r}$ the sum equals ${a * den}/{den - num}$."]
    else:
        lines += ["The key identity is $E[X] = \\sum_x x \\, P(X = x)$, and it is linear: "
                  "$E[aX + b] = a E[X] + b$."]
        if scaffold:
            lines += ["Example. A die gives $E[X] = 3.5$, so", f"  E[{a}X + 1] = {a} · 3.5 + 1",
                      f"           = {a * 3.5 + 1}"]
    return "\n".join(lines) + "\n"


def fraction_problem(rng: random.Random, scaffold: bool) -> str:
    d = rng.randint(3, 12)
    n1, n2 = rng.randint(1, d - 1), rng.randint(1, d - 1)
    total = rng.randint(2, 10) * d
    part = total * (n1 + n2) // d
    q = (f"A class of {total} students voted. {n1}/{d} chose chess and {n2}/{d} chose football. How many "
         f"students chose one of these two?")
    if scaffold:
        return (f"{q}\n\nSolution:\n1) Add the fractions: {n1}/{d} + {n2}/{d} = {n1 + n2}/{d}.\n"
                f"2) Multiply by the class size: {total} × {n1 + n2}/{d} = {part}.\n"
                f"So {part} students chose chess or football. Answer: {part}\n")
    return f"{q}\n\nAdding the two shares and taking that part of the class gives {part} students.\n"


GENERATORS = (word_problem, rate_problem, equation_solution, quadratic, proof, proof, lecture_notes,
              fraction_problem, geometry, probability, average_problem, *math_more.GENERATORS)


def generate(rng: random.Random, scaffold: bool) -> str:
    return pick(rng, GENERATORS)(rng, scaffold)
