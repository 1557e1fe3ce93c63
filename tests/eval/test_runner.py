import json

import pytest

from eval import run_eval
from eval.task import parse_task
from tests.openai_server import FakeOpenAIServer
from tracemix.errors import DataError, RecipeError

PROBLEMS = [
    {"task_id": "T/0", "prompt": "def add(a, b):\n    \"\"\"Return a + b.\"\"\"\n", "entry_point": "add",
     "test": "def check(f):\n    assert f(2, 3) == 5\n", "solution": "    return a + b\n"},
    {"task_id": "T/1", "prompt": "def neg(x):\n    \"\"\"Return -x.\"\"\"\n", "entry_point": "neg",
     "test": "def check(f):\n    assert f(4) == -4\n", "solution": "def neg(x):\n    return -x\n"},
    {"task_id": "T/2", "prompt": "def spin():\n    \"\"\"Never returns.\"\"\"\n", "entry_point": "spin",
     "test": "def check(f):\n    f()\n", "solution": "    while True:\n        pass\n"},
]


def test_code_task_scored_by_execution_end_to_end(tmp_path):
    data = tmp_path / "mini_humaneval.jsonl"
    data.write_text("\n".join(json.dumps(p) for p in PROBLEMS))
    task = parse_task({"name": "mini_humaneval", "domain": "code", "source": f"jsonl:{data}",
                       "prompt": "Complete:\n{prompt}", "answer_type": "code", "gold_transform": "humaneval",
                       "metric": "pass@1", "id_field": "task_id"}, "mini_humaneval.yaml")
    solutions = {f"Complete:\n{p['prompt']}": f"```python\n{p['solution']}```" for p in PROBLEMS}
    with FakeOpenAIServer(lambda prompt, body: solutions[prompt]) as server:
        results = run_eval("m", [task], backend="openai", base_url=server.base_url, cache_dir=None,
                           output=tmp_path / "run", progress=False, sandbox_kw={"timeout": 1.0})
    assert results["tasks"]["mini_humaneval"]["accuracy"] == pytest.approx(2 / 3)
    samples = [json.loads(line) for line in (tmp_path / "run" / "samples.jsonl").read_text().splitlines()]
    assert [s["id"] for s in samples] == ["T/0", "T/1", "T/2"]
    assert [s["details"]["sandbox"] for s in samples] == ["passed", "passed", "timeout"]


def test_input_errors_come_before_any_model_is_loaded(tmp_path):
    with pytest.raises(RecipeError, match="Did you mean 'reverse_list'"):
        run_eval(str(tmp_path / "missing-model"), "revers_list", output=tmp_path)
    with pytest.raises(RecipeError, match="--extractor is 'gpt'"):
        run_eval("m", "coin_flip", extractor="gpt")
    with pytest.raises(DataError, match="does not exist"):
        run_eval(str(tmp_path / "missing-model"), "coin_flip", limit=1, progress=False)


def test_rerun_into_the_same_folder_reuses_generations(tmp_path):
    with FakeOpenAIServer(lambda prompt, body: "The answer is yes.") as server:
        kw = {"backend": "openai", "base_url": server.base_url, "cache_dir": None, "progress": False,
              "output": tmp_path / "run"}
        first = run_eval("m", "coin_flip", limit=4, **kw)
        assert len(server.requests) == 4
        again = run_eval("m", "coin_flip", limit=4, **kw)
        assert len(server.requests) == 4 and again["tasks"] == first["tasks"]
        run_eval("m", "coin_flip", limit=5, **kw)  # other prompts: generated anew
        assert len(server.requests) == 9
