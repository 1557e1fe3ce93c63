"""Is an extracted answer correct? One comparison per answer type; code is scored by execution."""

from __future__ import annotations

import threading
from typing import Any

from eval.extract import normalize_text, parse_list, parse_number
from eval.task import AnswerType, Metric, TaskConfig


def _golds(gold: Any) -> list[str]:
    return [str(g) for g in gold] if isinstance(gold, list) else [str(gold)]


def _same_number(pred: str, gold: str) -> bool:
    a, b = parse_number(pred), parse_number(gold)
    return a is not None and b is not None and abs(a - b) <= 1e-6 * max(1.0, abs(b))


_MATH_CHARS = 1000  # longer extracted answers are not parsed: sympy time grows fast with length


def math_equal(pred: str, gold: str) -> bool:
    """Symbolic equivalence with math-verify (handles LaTeX, fractions, intervals, sets)."""
    from math_verify import parse, verify

    if len(pred) > _MATH_CHARS:
        return False
    # math-verify's time limits use SIGALRM, which only the main thread may set: elsewhere they would raise
    # and every answer would count as wrong, so worker threads rely on the length cap instead
    limit = 5 if threading.current_thread() is threading.main_thread() else None
    wrap = lambda s: s if "$" in s or "\\boxed" in s else f"${s}$"  # noqa: E731
    try:
        return bool(verify(parse(wrap(gold), parsing_timeout=limit), parse(wrap(pred), parsing_timeout=limit),
                           timeout_seconds=limit))
    except Exception:  # math-verify parses arbitrary model output; any failure means "not equal"
        return False


def is_correct(task: TaskConfig, pred: str | None, gold: Any, sandbox_kw: dict | None = None) -> tuple[bool, dict]:
    """(correct, details). Details hold the sandbox status for code tasks."""
    if pred is None:
        return False, {}
    if task.metric == Metric.PASS_AT_1:
        from eval.sandbox import check_program, run_python

        result = run_python(check_program(pred, gold), **(sandbox_kw or {}))
        details = {"sandbox": result.status, "stderr": result.stderr[-500:]}
        if not result.isolated:
            details["isolated"] = False
        return result.passed, details
    golds = _golds(gold)
    if task.metric == Metric.MATH_VERIFY:
        return any(math_equal(pred, g) for g in golds), {}
    if task.answer_type == AnswerType.NUMBER:
        return any(_same_number(pred, g) for g in golds), {}
    if task.answer_type == AnswerType.CHOICE:
        return any(pred.strip().upper() == g.strip().upper() for g in golds), {}
    if task.answer_type == AnswerType.LIST:
        return any(parse_list(pred) == parse_list(g) for g in golds), {}
    return any(normalize_text(pred) == normalize_text(g) for g in golds), {}
