"""Accuracy with its standard error, and pass@k (Chen et al., 2021) for code."""

from __future__ import annotations

import math
from collections.abc import Sequence


def accuracy(correct: Sequence[bool]) -> float:
    return sum(correct) / len(correct) if correct else 0.0


def standard_error(correct: Sequence[bool]) -> float:
    """Standard error of the mean of 0/1 outcomes, sqrt(p(1-p)/(n-1)) (sample variance, as lm-eval)."""
    n = len(correct)
    if n < 2:
        return 0.0
    p = accuracy(correct)
    return math.sqrt(p * (1 - p) / (n - 1))


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from n samples of which c pass: 1 - C(n-c, k) / C(n, k)."""
    if k > n:
        raise ValueError(f"pass@{k} needs at least {k} samples per problem, got {n}")
    if n - c < k:
        return 1.0
    return 1.0 - math.prod(1.0 - k / i for i in range(n - c + 1, n + 1))


def pass_at_1(correct: Sequence[bool]) -> float:
    """pass@1 with one greedy sample per problem: the share of problems whose program passes."""
    return accuracy(correct)
