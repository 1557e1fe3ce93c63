from eval.scoring import is_correct, math_equal
from eval.task import parse_task


def task(answer_type, **extra):
    return parse_task({"name": "t", "domain": "math", "source": "generator:coin_flip", "prompt": "{story}",
                       "answer_type": answer_type, **extra}, "t.yaml")


def test_numbers_compare_by_value():
    t = task("number")
    assert is_correct(t, "18", "18.0")[0]
    assert is_correct(t, "0.75", "3/4")[0]
    assert not is_correct(t, "19", "18")[0]
    assert not is_correct(t, None, "18")[0]


def test_choice_list_string_and_accepted_alternatives():
    assert is_correct(task("choice"), "b", "B")[0]
    assert is_correct(task("list"), "c, b, a", "C,B,A")[0]
    assert not is_correct(task("list"), "a, b, c", "c, b, a")[0]
    assert is_correct(task("string"), "the granddaughter", ["grand son", "Granddaughter"])[0]


def test_math_verify_equivalence():
    assert math_equal("\\frac{1}{2}", "0.5")
    assert math_equal("\\sqrt{2}/2", "\\frac{\\sqrt{2}}{2}")
    assert not math_equal("3", "\\frac{1}{2}")
    assert is_correct(task("string", metric="math_verify", extractor="math_answer"), "1/2", "\\frac12")[0]


def test_code_is_scored_by_execution():
    t = task("code", metric="pass@1")
    gold = {"prefix": "", "tests": "assert add(2, 3) == 5\n", "entry_point": None}
    ok, details = is_correct(t, "def add(a, b):\n    return a + b\n", gold)
    assert ok and details["sandbox"] == "passed"
    ok, details = is_correct(t, "def add(a, b):\n    return a - b\n", gold)
    assert not ok and "AssertionError" in details["stderr"]


def test_math_verify_equivalence_from_a_worker_thread():
    # eval scores in worker threads, where math-verify's SIGALRM time limit cannot be set
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(math_equal, "\\frac{1}{2}", "0.5").result()
        assert not pool.submit(math_equal, "3", "\\frac{1}{2}").result()
    assert not math_equal("1" * 5000, "1" * 5000)  # too long to parse: not equal, and fast


def test_code_that_exits_with_status_zero_fails():
    t = task("code", metric="pass@1")
    gold = {"prefix": "", "tests": "assert add(2, 3) == 5\n", "entry_point": "add"}
    for fake in ("import sys\nsys.exit(0)\n", "def add(a, b):\n    import os\n    os._exit(0)\n"):
        ok, details = is_correct(t, fake, gold)
        assert not ok and details["sandbox"] == "failed"
