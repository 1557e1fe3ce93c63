"""`math_text` generators: word problems, worked solutions, proofs and LaTeX lecture notes.

The scaffold variant writes explicit steps, equation chains and derivations; the plain variant states
the same mathematics in running prose with the answer, so a scaffold score can tell them apart.
"""

from __future__ import annotations

import random

from curation.demo_templates.vocab import OBJECTS, PEOPLE, UNITS, pick


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


def proof(rng: random.Random, scaffold: bool) -> str:
    k = rng.randint(2, 7)
    if scaffold:
        return (f"Theorem. For every integer $n \\ge 1$, $\\sum_{{i=1}}^{{n}} {k}i = \\frac{{{k} n(n+1)}}{{2}}$.\n\n"
                f"Proof. We argue by induction on $n$.\n\nStep 1 (base case): for $n = 1$ the left side is "
                f"${k}$ and the right side is $\\frac{{{k} \\cdot 2}}{{2}} = {k}$.\n\n"
                f"Step 2 (inductive step): assume the claim for $n$. Then\n"
                f"$$\\sum_{{i=1}}^{{n+1}} {k}i = \\frac{{{k} n(n+1)}}{{2}} + {k}(n+1)$$\n"
                f"$$= \\frac{{{k}(n+1)(n+2)}}{{2}}.$$\n\n"
                f"Therefore the claim holds for $n+1$, and by induction for all $n$. $\\blacksquare$\n")
    p = pick(rng, (3, 5, 7, 11, 13))
    return (f"Proposition. The square root of {p} is irrational. Suppose it were a ratio of coprime integers; "
            f"squaring shows that {p} divides the numerator, hence it divides the denominator too, which "
            f"contradicts coprimality. This classical argument goes back to the Greeks.\n")


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


GENERATORS = (word_problem, rate_problem, equation_solution, quadratic, proof, lecture_notes, fraction_problem)


def generate(rng: random.Random, scaffold: bool) -> str:
    return pick(rng, GENERATORS)(rng, scaffold)
