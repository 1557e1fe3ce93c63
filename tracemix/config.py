"""Config files shared by every verb: read a YAML mapping, phrase validation errors, suggest close keys.

Every message names the file (and the line or key path) so the user knows what to fix.
"""

from __future__ import annotations

import difflib
import json
import types
import typing
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from tracemix.errors import RecipeError


def read_yaml_mapping(path: str | Path, what: str, *, keys: str = "", hint: str = "") -> dict[str, Any]:
    """The mapping in YAML file `path`; a RecipeError naming the file when it is missing, invalid or not a mapping.

    `what` names the file in messages ("recipe file", "training config"); `keys` lists the top-level keys
    it should have and `hint` follows the not-found message (e.g. where to find examples).
    """
    path = Path(path)
    if not path.is_file():
        raise RecipeError(f"{path}: {what} not found{hint}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
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


def format_validation_error(err: ValidationError, source: str, model: type[BaseModel] | None = None) -> str:
    """One line per problem: "SOURCE: `key.path`: message".

    With `model` (the validated class), an unknown key reads "SOURCE: unknown key `key.path`; did you mean
    `x`?" (or lists the valid keys). List indexes are left out of key paths.
    """
    lines = []
    for e in err.errors():
        loc = tuple(p for p in e["loc"] if not isinstance(p, int))
        key = ".".join(str(p) for p in loc) or "(top level)"
        if model is not None and e["type"] == "extra_forbidden" and loc:
            lines.append(f"{source}: unknown key `{key}`{key_hint(str(loc[-1]), model_keys(model, e['loc'][:-1]))}")
        else:
            lines.append(f"{source}: `{key}`: {e['msg']}")
    return "\n".join(dict.fromkeys(lines))


def _override_value(text: str) -> Any:
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if isinstance(value, str):
        try:  # YAML 1.1 reads `1e-3` as a string; JSON reads it as the number it is meant to be
            number = json.loads(text)
        except ValueError:
            return value
        return number if isinstance(number, int | float) else value
    return value


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
