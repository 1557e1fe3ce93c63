from eval.report import render_markdown, summarize

INFO = {"a": {"domain": "symbolic", "metric": "exact_match", "version": 1},
        "b": {"domain": "symbolic", "metric": "exact_match", "version": 2},
        "c": {"domain": "logical", "metric": "exact_match", "version": 1}}


def sample(task, correct, extracted="x"):
    return {"task": task, "correct": correct, "extracted": {"rules": extracted}, "correct_by": {"rules": correct}}


def test_summary_numbers_are_exact():
    samples = [sample("a", True), sample("a", False), sample("b", True), sample("b", True),
               sample("c", False, extracted=None), sample("c", False), sample("c", False), sample("c", True)]
    s = summarize(samples, INFO, "rules")
    assert s["tasks"]["a"]["accuracy"] == 0.5 and s["tasks"]["b"]["accuracy"] == 1.0
    assert s["tasks"]["c"] | {"accuracy": 0.25, "n": 4, "n_correct": 1, "n_no_answer": 1} == s["tasks"]["c"]
    assert s["domains"] == {"symbolic": {"accuracy": 0.75, "tasks": ["a", "b"]},
                            "logical": {"accuracy": 0.25, "tasks": ["c"]}}
    assert list(s["domains"]) == ["symbolic", "logical"]
    assert s["overall"]["accuracy"] == (0.5 + 1.0 + 0.25) / 3
    assert s["overall"]["micro_accuracy"] == 4 / 8 and s["overall"]["n"] == 8


def test_markdown_has_a_row_per_task():
    s = summarize([sample("a", True)], {"a": INFO["a"]}, "rules")
    md = render_markdown({"model": "m", "backend": {"backend": "hf"}, "extractor": "rules", **s, "manifest": {}})
    assert "| symbolic | a | 1 | 1 | 100.0% |" in md
