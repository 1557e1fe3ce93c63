"""Typed task configuration, parsed from one small YAML file per task and validated before any work.

Task files load through the shared config loader: unknown keys, wrong types and impossible combinations
are errors naming the file and the key.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from tracemix.config import ConfigModel, load_config, read_yaml_mapping
from tracemix.errors import RecipeError


class AnswerType(StrEnum):
    NUMBER = "number"
    CHOICE = "choice"
    STRING = "string"
    LIST = "list"
    CODE = "code"


class EvalDomain(StrEnum):
    SYMBOLIC = "symbolic"
    LOGICAL = "logical"
    ARITHMETIC = "arithmetic"
    MATH = "math"
    CODE = "code"
    KNOWLEDGE = "knowledge"


class Metric(StrEnum):
    EXACT_MATCH = "exact_match"  # compare the extracted answer with the gold one, per answer type
    MATH_VERIFY = "math_verify"  # symbolic equivalence (MATH-500)
    PASS_AT_1 = "pass@1"  # run the extracted program against the task's tests in the sandbox


# answer type -> the rule extractor used when the task names none
DEFAULT_EXTRACTOR = {
    AnswerType.NUMBER: "last_number",
    AnswerType.CHOICE: "option_letter",
    AnswerType.STRING: "normalized_string",
    AnswerType.LIST: "list",
    AnswerType.CODE: "code_block",
}


class SourceKind(StrEnum):
    HF = "hf"  # a Hugging Face dataset: hub id, config `name`, `split`
    JSONL = "jsonl"  # a local JSONL file (`.gz` too)
    BIGBENCH = "bigbench"  # a BIG-bench task.json
    GENERATOR = "generator"  # a built-in generator in eval.generators, `n` examples from `seed`


class GoldTransform(StrEnum):
    """How the gold answer is read from a row (implemented in `eval.sources.GOLD_TRANSFORMS`)."""

    AFTER_HASHES = "after_hashes"  # GSM8K: "... #### 72"
    LEADING_NUMBER = "leading_number"  # ASDiv: "9 (apples)"
    INDEX_TO_LETTER = "index_to_letter"  # 2 -> "C"
    PARENTHESISED_LETTER = "parenthesised_letter"  # BBH: "(A)"
    NUMBER = "number"  # 12.0 -> "12"
    HUMANEVAL = "humaneval"  # prompt + test + entry point
    MBPP = "mbpp"  # asserts (+ setup code or imports)


class Source(ConfigModel):
    """Where examples come from; a file may write it short as `KIND:PATH`."""

    kind: SourceKind
    path: str  # hub id, JSONL file, task.json file, or generator name
    name: str | None = None  # hub config
    split: str = "test"
    filter: dict[str, Any] = Field(default_factory=dict)  # keep rows whose columns equal these values
    n: int = Field(500, ge=1)  # generator: number of examples
    seed: int = 0  # generator: seed
    options: dict[str, Any] = Field(default_factory=dict)  # generator keyword arguments

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        if isinstance(value, str):
            kind, sep, rest = value.partition(":")
            if not sep or kind not in set(SourceKind):
                raise ValueError(f"'{value}' must look like KIND:PATH with KIND one of "
                                 f"{', '.join(SourceKind)}")
            return {"kind": kind, "path": rest}
        return value

    @field_validator("path")
    @classmethod
    def _path_given(cls, value: str) -> str:
        if not value:
            raise ValueError("empty; give a hub id, file path or generator name")
        return value


class TaskConfig(ConfigModel):
    """One zero-shot task: where the examples come from, how to prompt, extract and score."""

    name: str
    domain: EvalDomain
    source: Source
    prompt: str  # str.format template over the example's fields (plus `options` for choice tasks)
    answer_type: AnswerType
    gold: str = "answer"  # field holding the gold answer
    gold_transform: GoldTransform | None = None
    id_field: str | None = None
    choices: str | None = None  # field holding the option texts (choice tasks)
    cot: str | None = None  # chain-of-thought trigger appended after the prompt
    extractor: str | None = Field(None, validate_default=True)  # default: the answer type's rule extractor
    metric: Metric = Field(Metric.EXACT_MATCH, validate_default=True)
    max_new_tokens: int | None = Field(None, gt=0)
    version: int = Field(1, ge=1)
    description: str = ""

    _path: str = PrivateAttr(default="")

    @property
    def path(self) -> str:
        """The file the task came from ("" for one built in code)."""
        return self._path

    @field_validator("prompt")
    @classmethod
    def _prompt_has_a_field(cls, value: str) -> str:
        if "{" not in value:
            raise ValueError("no {field} placeholder; it would ask the same question every time")
        return value

    @field_validator("extractor")
    @classmethod
    def _extractor_known(cls, value: str | None, info: ValidationInfo) -> str | None:
        from eval.extract import EXTRACTORS

        if value is None and "answer_type" in info.data:
            value = DEFAULT_EXTRACTOR[info.data["answer_type"]]
        if value is not None and value not in EXTRACTORS:
            raise ValueError(f"'{value}' is unknown; use one of {', '.join(sorted(EXTRACTORS))}")
        return value

    @field_validator("metric")
    @classmethod
    def _metric_fits_the_answer(cls, value: Metric, info: ValidationInfo) -> Metric:
        answer_type = info.data.get("answer_type")
        if answer_type == AnswerType.CODE and value != Metric.PASS_AT_1:
            raise ValueError("code tasks are scored by execution; set `metric: pass@1`")
        if value == Metric.PASS_AT_1 and answer_type is not None and answer_type != AnswerType.CODE:
            raise ValueError("`metric: pass@1` needs `answer_type: code`")
        return value

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


TASK_KEYS = "name, domain, source, prompt, answer_type, ..."


def parse_task(data: Any, where: str) -> TaskConfig:
    """Build and validate a TaskConfig from parsed YAML (or a saved `to_dict()`); errors name `where` and the key."""
    if not isinstance(data, dict):
        raise RecipeError(f"{where}: a task file is a mapping of keys ({TASK_KEYS})")
    task = load_config(data, TaskConfig, what="task file", name=where)
    task._path = where
    return task


def load_task_file(path: str | Path) -> TaskConfig:
    data = read_yaml_mapping(path, "task file", keys=TASK_KEYS)
    return parse_task(data, str(path))
