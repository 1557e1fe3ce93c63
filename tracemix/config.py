"""Config files shared by every verb: one strict base model, one loader, one error style.

`load_config(path_or_dict, Model, overrides=...)` reads a YAML mapping, applies dotted `--set` overrides,
and validates it against a `ConfigModel`. Every problem is one line naming the file and the key path,
`recipes/x.yaml: budget.total: expected an integer, got a boolean (true)`, so the user knows what to fix.

Files validate strictly: a boolean or a quoted string where a number belongs is an error (YAML `true` must
not mean 1), as is a key written twice in one mapping. Objects built in code stay convenient (`backend="hf"`).
"""

from __future__ import annotations

import copy
import difflib
import json
import re
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from tracemix.errors import RecipeError


class ConfigModel(BaseModel):
    """Base of every config file's model (recipes, training configs, task files, sweeps, stage settings):
    unknown keys are errors; `load_config` reports them with a did-you-mean."""

    model_config = ConfigDict(extra="forbid")


M = TypeVar("M", bound=BaseModel)


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, plus: a repeated key is an error, and `1e-3` is a number (YAML 1.2), not a string."""

    def construct_mapping(self, node, deep=False):
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if isinstance(key, typing.Hashable) and key in seen:
                raise _DuplicateKey(key, seen[key], line)
            if isinstance(key, typing.Hashable):
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"))


class _DuplicateKey(yaml.YAMLError):
    def __init__(self, key: Any, first: int, line: int):
        super().__init__(f"key '{key}' appears twice (lines {first} and {line}); keep one")
        self.line = line


def parse_yaml(text: str) -> Any:
    """YAML text -> Python data with the rules of every tracemix config file (see `_Loader`)."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader


def read_yaml_mapping(path: str | Path, what: str, *, keys: str = "", hint: str = "") -> dict[str, Any]:
    """The mapping in YAML file `path`; a RecipeError naming the file when it is missing, invalid or not a mapping.

    `what` names the file in messages ("recipe file", "training config"); `keys` lists the top-level keys
    it should have and `hint` follows the not-found message (e.g. where to find examples).
    """
    path = Path(path)
    if not path.is_file():
        raise RecipeError(f"{path}: {what} not found{hint}")
    try:
        data = parse_yaml(path.read_text(encoding="utf-8"))
    except _DuplicateKey as err:
        raise RecipeError(f"{path}: line {err.line}: {err}") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise RecipeError(f"{path}: {where}invalid YAML: {getattr(err, 'problem', None) or err}") from None
    if not isinstance(data, dict):
        kind = {"str": "string", "int": "number", "float": "number", "bool": "boolean"}.get(
            type(data).__name__, type(data).__name__)
        found = "an empty file" if data is None else f"a {kind}"
        raise RecipeError(f"{path}: a {what} is a YAML mapping{f' ({keys})' if keys else ''}, found {found}")
    return data


def closest(word: str, options: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The option most like `word` (difflib ratio >= cutoff), or None."""
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=cutoff)
    return close[0] if close else None


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """" (did you mean 'x'?)" for the option closest to `word`, or "" when none is close."""
    match = closest(word, options)
    return f" (did you mean '{match}'?)" if match else ""


def key_hint(word: str, options: Iterable[str], *, list_valid: bool = True) -> str:
    """"; did you mean `x`?" for the option closest to `word`; else "; valid keys: a, b" (or "")."""
    options = list(options)
    match = closest(word, options)
    if match:
        return f"; did you mean `{match}`?"
    return f"; valid keys: {', '.join(sorted(options))}" if list_valid and options else ""


def _nested_model(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The pydantic model inside `annotation` (M, M | None, dict[str, M], list[M]) and whether a
    mapping key or list index stands between the field and that model in an error location."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (dict, list, tuple, set) and args:
        model, _ = _nested_model(args[-1])
        return model, model is not None
    if origin in (typing.Union, types.UnionType):
        for arg in args:
            model, keyed = _nested_model(arg)
            if model is not None:
                return model, keyed
    return None, False


def model_keys(model: type[BaseModel], loc: Sequence[str | int]) -> list[str]:
    """Field names of the model found at error location `loc` inside `model`; [] when `loc` is no model."""
    current, parts, i = model, list(loc), 0
    while i < len(parts):
        part = parts[i]
        if part == current.__name__:  # pydantic tags union members with their class name
            i += 1
            continue
        field = current.model_fields.get(str(part))
        nested, keyed = _nested_model(field.annotation) if field is not None else (None, False)
        if nested is None:
            return []
        current, i = nested, i + (2 if keyed else 1)
    return list(current.model_fields)


_KINDS = {bool: "a boolean", str: "a string", int: "an integer", float: "a number", list: "a list",
          dict: "a mapping", type(None): "nothing (null)"}
_WANTS = {"int_type": "an integer", "int_from_float": "an integer", "float_type": "a number",
          "string_type": "a string", "bool_type": "true or false", "list_type": "a list", "dict_type": "a mapping",
          "model_type": "a mapping", "model_attributes_type": "a mapping"}


def _shown(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _message(e: dict[str, Any], model: type[BaseModel] | None) -> str:
    kind, value, loc = e["type"], e.get("input"), e["loc"]
    if kind == "extra_forbidden":
        known = model_keys(model, loc[:-1]) if model is not None else []
        return f"unknown key{key_hint(str(loc[-1]), known)}"
    if kind == "missing":
        return "required key missing"
    if kind in _WANTS:
        got = _KINDS.get(type(value), type(value).__name__)
        hint = "; write the number without quotes" if kind in ("int_type", "float_type") and isinstance(value, str) \
            else ""
        return f"expected {_WANTS[kind]}, got {got} ({_shown(value)}){hint}"
    if kind in ("enum", "literal_error"):
        options = re.findall(r"'([^']*)'", str(e.get("ctx", {}).get("expected", "")))
        return f"'{value}' is not one of {', '.join(options)}{did_you_mean(str(value), options)}"
    message = e["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind == "value_error" or isinstance(value, dict | list):
        return message
    return f"{message} (got {_shown(value)})"


def format_validation_error(err: ValidationError, source: str, model: type[BaseModel] | None = None) -> str:
    """One line per problem: "SOURCE: key.path: message" (list indexes are left out of key paths).

    With `model` (the validated class), an unknown key reads "SOURCE: key.path: unknown key; did you mean
    `x`?" (or lists the valid keys).
    """
    lines = []
    for e in err.errors():
        loc = tuple(p for p in e["loc"] if not isinstance(p, int))
        if model is not None and loc and loc[0] == model.__name__:
            loc = loc[1:]
        key = ".".join(str(p) for p in loc)  # none for a rule across keys; its message names them
        lines.append(f"{source}: {key}: {_message(e, model)}" if key else f"{source}: {_message(e, model)}")
    return "\n".join(dict.fromkeys(lines))


def _override_value(text: str) -> Any:
    try:
        return parse_yaml(text)
    except yaml.YAMLError:
        return text


def parse_set_overrides(items: Sequence[str]) -> dict[str, Any]:
    """`--set KEY=VALUE` arguments -> {dotted key: value}; values are YAML (`0.25`, `true`, `[a, b]`, `1e-3`).

    A value that is not valid YAML is kept as the plain string.
    """
    overrides: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise RecipeError(f"--set {item}: expected KEY=VALUE (a dotted config key, `=`, a YAML value)")
        overrides[key.strip()] = _override_value(value)
    return overrides


def _merge(base: Any, value: Any) -> Any:
    """`value` over `base`: mappings merge key by key, anything else replaces."""
    if isinstance(base, dict) and isinstance(value, Mapping):
        out = dict(base)
        for key, item in value.items():
            out[key] = _merge(out.get(key), item)
        return out
    return copy.deepcopy(value)


def apply_overrides(raw: Mapping[str, Any], overrides: Mapping[str, Any], source: str) -> dict[str, Any]:
    """A copy of `raw` with `overrides` applied: dotted keys (`budget.total`, `sources.0`) set one value,
    creating missing sections; a mapping value merges into the section it names."""
    out = copy.deepcopy(dict(raw))
    for dotted, value in overrides.items():
        *parents, leaf = str(dotted).split(".")
        node: Any = out
        for i, part in enumerate(parents):
            if isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            elif isinstance(node, dict):
                if not isinstance(node.get(part, {}), dict | list):
                    raise RecipeError(f"{source}: {dotted}: cannot override inside `{'.'.join(parents[:i + 1])}`, "
                                      "which is a single value, not a section")
                node = node.setdefault(part, {})
            else:
                raise RecipeError(f"{source}: {dotted}: `{'.'.join(parents[:i])}` is a list; index it by "
                                  f"position (0 to {len(node) - 1})")
        if isinstance(node, list):
            if not (leaf.isdigit() and int(leaf) < len(node)):
                raise RecipeError(f"{source}: {dotted}: `{'.'.join(parents)}` is a list; index it by position "
                                  f"(0 to {len(node) - 1})")
            node[int(leaf)] = _merge(node[int(leaf)], value)
        else:
            node[leaf] = _merge(node.get(leaf), value)
    return out


def load_config(source: str | Path | Mapping[str, Any] | BaseModel, model: type[M], *,
                overrides: Mapping[str, Any] | None = None, what: str = "config file", keys: str = "",
                hint: str = "", name: str | None = None) -> M:
    """Read, override and validate one config: the only way a config file becomes a typed object.

    `source` is a YAML path, a mapping already read, or a model to re-validate with `overrides`. `what`
    names the file in messages ("recipe file"), `keys` the top-level keys it should have, `hint` follows a
    not-found message; `name` stands for the file in messages when `source` is no path. Raises one
    RecipeError with a line per problem, each naming the file and the key path.
    """
    if isinstance(source, BaseModel):
        raw, file = source.model_dump(mode="json"), name or f"<{what}>"
    elif isinstance(source, Mapping):
        raw, file = dict(source), name or f"<{what}>"
    else:
        raw, file = read_yaml_mapping(source, what, keys=keys, hint=hint), name or str(source)
    if overrides:
        raw = apply_overrides(raw, overrides, file)
    try:
        # strict JSON-mode validation: numbers must be numbers, choices may still be written as strings
        return model.model_validate_json(json.dumps(raw, default=str), strict=True)
    except ValidationError as err:
        raise RecipeError(format_validation_error(err, file, model)) from None


def settings_from_args(model: type[M], args: Any, **given: Any) -> M:
    """A verb's settings object from its parsed argparse flags (`--seq-len` fills `seq_len`) and `given`
    values; every field the namespace lacks keeps its default. Errors read "command line: KEY: message"."""
    values = {k: getattr(args, k) for k in model.model_fields if k in vars(args)}
    return load_config({**values, **given}, model, name="command line")
