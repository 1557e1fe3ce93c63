"""The task registry: one YAML file per task in eval/tasks/, suites in eval/tasks/suites.yaml.

Names are read from file names, so listing tasks parses nothing; a task file is parsed when used.
A task spec may also be a path to a task YAML file or `bigbench:PATH/task.json`.
"""

from __future__ import annotations

import difflib
import functools
from pathlib import Path

from eval.task import AnswerType, SourceKind, TaskConfig, load_task_file, parse_task
from tracemix.config import read_yaml_mapping
from tracemix.errors import RecipeError

TASK_DIR = Path(__file__).parent / "tasks"
SUITES_FILE = "suites.yaml"


@functools.cache
def task_files() -> dict[str, Path]:
    return {p.stem: p for p in sorted(TASK_DIR.glob("*.yaml")) if p.name != SUITES_FILE}


@functools.cache
def suites() -> dict[str, list[str]]:
    data = read_yaml_mapping(TASK_DIR / SUITES_FILE, "suites file", keys="suite: [task, ...]")
    for suite, names in data.items():
        missing = [n for n in names if n not in task_files()]
        if missing:
            raise RecipeError(f"{TASK_DIR / SUITES_FILE}: suite `{suite}` names unknown task(s) {missing}")
    return data


def _unknown(name: str) -> RecipeError:
    known = [*task_files(), *suites()]
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return RecipeError(f"unknown task or suite '{name}'.{hint} See `tracemix eval --list`; a task may also be "
                       "a path to a task .yaml file or bigbench:PATH/task.json")


# BIG-bench keywords -> our domains (first match wins)
_BIGBENCH_DOMAINS = (("arithmetic", "arithmetic"), ("mathematics", "math"), ("logical reasoning", "logical"),
                     ("deductive reasoning", "logical"), ("programming", "code"), ("computer code", "code"))


def bigbench_task(path: str) -> TaskConfig:
    """A zero-shot task over a BIG-bench task.json: multiple choice when it has target_scores."""
    from eval.sources import read_bigbench_json

    file = Path(path) / "task.json" if Path(path).is_dir() else Path(path)
    meta = read_bigbench_json(file)
    if not isinstance(meta, dict):
        raise RecipeError(f"{file}: a BIG-bench task.json holds an object with `examples`")
    examples = meta.get("examples") or [{}]
    choice = "target_scores" in examples[0]
    keywords = " ".join(meta.get("keywords", [])).lower()
    domain = next((d for k, d in _BIGBENCH_DOMAINS if k in keywords), "knowledge")
    prompt = ("{input}\n{options}\nEnd your reply with \"The answer is (X).\" where X is the option letter.\nA:"
              if choice else "{input}\nEnd your reply with \"The answer is X.\"\nA:")
    return parse_task({"name": f"bigbench_{meta.get('name') or file.parent.name}", "domain": domain,
                       "source": {"kind": SourceKind.BIGBENCH, "path": str(file)}, "prompt": prompt,
                       "answer_type": AnswerType.CHOICE if choice else AnswerType.STRING,
                       "description": meta.get("description", "")}, str(file))


def get_task(name: str) -> TaskConfig:
    if name.startswith("bigbench:"):
        return bigbench_task(name.split(":", 1)[1])
    if name.endswith((".yaml", ".yml")):
        return load_task_file(name)  # a missing file is a RecipeError naming it
    if name not in task_files():
        raise _unknown(name)
    return load_task_file(task_files()[name])


def resolve(spec: str | list[str]) -> list[TaskConfig]:
    """'gsm8k,coin_flip' | 'reasoning12' | ['symbolic', 'my_task.yaml'] -> task configs, in order, once each."""
    names = [s.strip() for s in spec.split(",")] if isinstance(spec, str) else list(spec)
    names = [n for n in names if n]
    if not names:
        raise RecipeError("no tasks given; pass --tasks NAME[,NAME...] or a suite such as `symbolic`")
    expanded: list[str] = []
    for name in names:
        expanded += suites().get(name, [name])
    tasks: dict[str, TaskConfig] = {}
    for name in dict.fromkeys(expanded):
        task = get_task(name)
        if task.name in tasks:
            raise RecipeError(f"two tasks are named '{task.name}' ({tasks[task.name].path}, {task.path})")
        tasks[task.name] = task
    return list(tasks.values())
