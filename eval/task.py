"""Typed task configuration, parsed from one small YAML file per task and validated before any work."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from tracemix.config import read_yaml_mapping
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
SOURCE_KINDS = ("hf", "jsonl", "bigbench", "generator")


@dataclass
class Source:
    """Where examples come from. `kind` is hf | jsonl | bigbench | generator."""

    kind: str
    path: str = ""  # hub id, JSONL file, task.json file, or generator name
    name: str | None = None  # hub config
    split: str = "test"
    filter: dict[str, Any] = field(default_factory=dict)  # keep rows whose columns equal these values
    n: int = 500  # generator: number of examples
    seed: int = 0  # generator: seed
    options: dict[str, Any] = field(default_factory=dict)  # generator keyword arguments

    @classmethod
    def parse(cls, spec: Any, where: str) -> Source:
        """Accept a mapping, or the short strings `bigbench:PATH`, `jsonl:PATH`, `generator:NAME`, `hf:ID`."""
        if isinstance(spec, str):
            kind, sep, rest = spec.partition(":")
            if not sep or kind not in SOURCE_KINDS:
                raise RecipeError(f"{where}: source '{spec}' must look like KIND:PATH with KIND one of "
                                  f"{', '.join(SOURCE_KINDS)}")
            spec = {"kind": kind, "path": rest}
        if not isinstance(spec, dict):
            raise RecipeError(f"{where}: `source` must be a mapping or a KIND:PATH string")
        unknown = set(spec) - {f for f in cls.__dataclass_fields__}
        if unknown:
            raise RecipeError(f"{where}: unknown key(s) in `source`: {', '.join(sorted(unknown))}")
        src = cls(**spec)
        if src.kind not in SOURCE_KINDS:
            raise RecipeError(f"{where}: `source.kind` is '{src.kind}'; use one of {', '.join(SOURCE_KINDS)}")
        if not src.path:
            raise RecipeError(f"{where}: `source.path` is empty (hub id, file path or generator name)")
        if src.n < 1:
            raise RecipeError(f"{where}: `source.n` must be at least 1")
        return src


@dataclass
class TaskConfig:
    """One zero-shot task: where the examples come from, how to prompt, extract and score."""

    name: str
    domain: EvalDomain
    source: Source
    prompt: str  # str.format template over the example's fields (plus `options` for choice tasks)
    answer_type: AnswerType
    gold: str = "answer"  # field holding the gold answer
    gold_transform: str | None = None  # named transform in eval.sources.GOLD_TRANSFORMS
    id_field: str | None = None
    choices: str | None = None  # field holding the option texts (choice tasks)
    cot: str | None = None  # chain-of-thought trigger appended after the prompt
    extractor: str | None = None
    metric: Metric = Metric.EXACT_MATCH
    max_new_tokens: int | None = None
    version: int = 1
    description: str = ""
    path: str = ""  # the YAML file it came from

    def validate(self) -> TaskConfig:
        from eval.extract import EXTRACTORS

        where = self.path or self.name
        if self.extractor is None:
            self.extractor = DEFAULT_EXTRACTOR[self.answer_type]
        if self.extractor not in EXTRACTORS:
            raise RecipeError(f"{where}: `extractor` '{self.extractor}' is unknown; use one of "
                              f"{', '.join(sorted(EXTRACTORS))}")
        if self.answer_type == AnswerType.CODE and self.metric != Metric.PASS_AT_1:
            raise RecipeError(f"{where}: code tasks are scored by execution; set `metric: pass@1`")
        if self.metric == Metric.PASS_AT_1 and self.answer_type != AnswerType.CODE:
            raise RecipeError(f"{where}: `metric: pass@1` needs `answer_type: code`")
        if self.gold_transform is not None:
            from eval.sources import GOLD_TRANSFORMS

            if self.gold_transform not in GOLD_TRANSFORMS:
                raise RecipeError(f"{where}: `gold_transform` '{self.gold_transform}' is unknown; use one of "
                                  f"{', '.join(sorted(GOLD_TRANSFORMS))}")
        if "{" not in self.prompt:
            raise RecipeError(f"{where}: `prompt` has no {{field}} placeholder; it would ask the same question "
                              "every time")
        if self.version < 1:
            raise RecipeError(f"{where}: `version` must be a positive integer")
        return self

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("path")
        return {k: (str(v) if isinstance(v, StrEnum) else v) for k, v in out.items()}


def _enum(enum: type[StrEnum], value: Any, key: str, where: str) -> StrEnum:
    try:
        return enum(value)
    except ValueError:
        raise RecipeError(f"{where}: `{key}` is '{value}'; use one of "
                          f"{', '.join(e.value for e in enum)}") from None


def parse_task(data: Any, where: str) -> TaskConfig:
    """Build and validate a TaskConfig from parsed YAML; errors name the file and key."""
    if not isinstance(data, dict):
        raise RecipeError(f"{where}: a task file must be a mapping of keys")
    known = {f for f in TaskConfig.__dataclass_fields__} - {"path"}
    unknown = set(data) - known
    if unknown:
        raise RecipeError(f"{where}: unknown key(s): {', '.join(sorted(unknown))}; known keys are "
                          f"{', '.join(sorted(known))}")
    for key in ("name", "domain", "source", "prompt", "answer_type"):
        if key not in data:
            raise RecipeError(f"{where}: missing required key `{key}`")
    data = dict(data)
    data["domain"] = _enum(EvalDomain, data["domain"], "domain", where)
    data["answer_type"] = _enum(AnswerType, data["answer_type"], "answer_type", where)
    data["metric"] = _enum(Metric, data.get("metric", "exact_match"), "metric", where)
    data["source"] = Source.parse(data["source"], where)
    return TaskConfig(**data, path=where).validate()


def load_task_file(path: str | Path) -> TaskConfig:
    data = read_yaml_mapping(path, "task file", keys="name, domain, source, prompt, answer_type, ...")
    return parse_task(data, str(path))
