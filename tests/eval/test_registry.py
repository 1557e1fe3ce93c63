import pytest

from eval.registry import resolve, suites
from tracemix.errors import RecipeError


def test_reasoning12_mirrors_the_study():
    tasks = resolve("reasoning12")
    assert len(tasks) == 12
    by_domain = {}
    for t in tasks:
        by_domain.setdefault(str(t.domain), []).append(t.name)
    assert {d: len(n) for d, n in by_domain.items()} == {"symbolic": 4, "logical": 4, "arithmetic": 4}
    assert {"clutrr", "babi_deductive", "babi_inductive", "gsm8k", "first_letter_concat",
            "reverse_list"} <= {t.name for t in tasks}


def test_symbolic_suite_is_fully_offline():
    assert {t.source.kind for t in resolve("symbolic")} == {"generator"}


def test_every_suite_resolves():
    for name in suites():
        assert resolve(name)


def test_mixed_spec_deduplicates_in_order():
    assert [t.name for t in resolve("coin_flip, symbolic")] == ["coin_flip", "first_letter_concat",
                                                                  "last_letter_concat", "reverse_list"]


def test_unknown_task_suggests_the_closest():
    with pytest.raises(RecipeError, match=r"unknown task or suite 'gsm8 k'\. Did you mean 'gsm8k'"):
        resolve("gsm8 k")
    with pytest.raises(RecipeError, match="Did you mean 'coin_flip'"):
        resolve("coinflip")


def test_empty_spec_and_missing_file():
    with pytest.raises(RecipeError, match="no tasks given"):
        resolve(" , ")
    with pytest.raises(RecipeError, match="task file not found"):
        resolve("nowhere/task.yaml")
