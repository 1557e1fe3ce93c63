"""Mixture recipes: YAML parsed into typed, self-validating objects before any data is read.

Every error names the recipe file and the key path, e.g.
`recipes/x.yaml: mixture.math_txt: unknown domain or group 'math_txt' (did you mean 'math_text'?)`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, PrivateAttr, ValidationInfo, field_validator

from tracemix.config import ConfigModel, did_you_mean, load_config, read_yaml_mapping
from tracemix.domains import DOMAINS
from tracemix.errors import RecipeError

SHARE_TOLERANCE = 1e-6
RECIPE_KEYS = "name, sources, budget, mixture, ..."


class Unit(StrEnum):
    TOKENS = "tokens"  # tokens of `text` in the recipe's tokenizer
    DOCUMENTS = "documents"  # whole documents / conversations
    BYTES = "bytes"  # UTF-8 bytes of `text`; needs no tokenizer (the demo uses it)


class Format(StrEnum):
    PARQUET = "parquet"
    JSONL = "jsonl"
    HF = "hf"  # a Hugging Face `save_to_disk` folder


class Budget(ConfigModel):
    unit: Unit
    total: int = Field(gt=0)


class Density(ConfigModel):
    by: Literal["scaffold_score"] = "scaffold_score"
    threshold: float = Field(ge=0.0, le=1.0)
    share: float = Field(ge=0.0, le=1.0)


class Filter(ConfigModel):
    # keep only documents whose `source` column is one of these (e.g. only the chats of a tagged folder)
    source: list[str] | None = None


class Output(ConfigModel):
    path: str | None = None
    format: Format = Format.PARQUET
    # Output shards are cut by text size so one shard, not the mixture, bounds the writer's memory.
    shard_bytes: int = Field(default=128 * 2**20, gt=0)
    compression: Literal["snappy", "zstd", "gzip", "none"] = "snappy"


class Recipe(ConfigModel):
    """A validated mixture recipe (see recipes/README.md for every key)."""

    name: str = Field(min_length=1)
    description: str = ""
    sources: list[str] = Field(min_length=1)
    tokenizer: str | None = None
    budget: Budget
    filter: Filter = Field(default_factory=Filter)
    groups: dict[str, list[str]] = Field(default_factory=dict)
    mixture: dict[str, float] = Field(min_length=1)
    density: dict[str, Density] = Field(default_factory=dict)
    # Parquet files (or folders of them) with an `id` column: documents never selected, e.g. a held-out set
    exclude: list[str] = Field(default_factory=list)
    max_repeats: int = Field(default=1, ge=1)
    redistribute: Literal["none", "proportional"] = "none"
    seed: int = 0
    output: Output = Field(default_factory=Output)

    _file: str = PrivateAttr(default="<recipe>")

    @field_validator("sources", mode="before")
    @classmethod
    def _one_source(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("density", mode="before")
    @classmethod
    def _density_on_mixture_keys(cls, value: Any, info: ValidationInfo) -> Any:
        # `--set density.math_txt.share=1` creates a rule under a typo: name the typo, not its missing keys
        mixture, groups = info.data.get("mixture"), info.data.get("groups") or {}
        if not isinstance(value, Mapping) or mixture is None:
            return value
        for key in value:  # domains and groups not in the mixture are reported after validation
            if key not in mixture and key not in DOMAINS and key not in groups:
                raise ValueError(f"'{key}' is not a mixture key{did_you_mean(key, list(mixture))}; "
                                 f"add '{key}' to mixture")
        return value

    @property
    def file(self) -> str:
        return self._file

    def entry_domains(self, key: str) -> tuple[str, ...]:
        """Domains a mixture key covers (a domain covers itself)."""
        return tuple(self.groups[key]) if key in self.groups else (key,)

    def effective_shares(self) -> dict[str, float]:
        """Mixture shares after `redistribute`: a removed share goes to the others in proportion."""
        total = sum(self.mixture.values())
        if self.redistribute == "proportional":
            return {k: (v / total if v > 0 else 0.0) for k, v in self.mixture.items()}
        return dict(self.mixture)

    def resolved(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def source_paths(self) -> list[Path]:
        """Source folders; relative paths resolve against the current working directory."""
        return [Path(s).expanduser().resolve() for s in self.sources]

    def check_sources(self) -> None:
        for i, (raw, path) in enumerate(zip(self.sources, self.source_paths(), strict=True)):
            if not path.is_dir():
                _fail(self.file, f"sources[{i}]", f"source folder '{raw}' not found (resolved to {path}); "
                      "tag data first with `tracemix tag --output DIR` or fix the path")
            if not any(path.glob("*.parquet")):
                _fail(self.file, f"sources[{i}]", f"'{raw}' holds no .parquet shards; is it a folder "
                      "written by `tracemix tag`?")


def _fail(file: str, key: str, message: str) -> None:
    raise RecipeError(f"{file}: {key}: {message}")


def _check_semantics(r: Recipe) -> None:
    f = r.file
    if r.budget.unit == Unit.TOKENS and not r.tokenizer:
        _fail(f, "tokenizer", "budget.unit is 'tokens' but no tokenizer is named; give a hub id or a local "
              "tokenizer folder, or use budget.unit: bytes | documents")
    for name, members in r.groups.items():
        if name in DOMAINS:
            _fail(f, f"groups.{name}", f"group name '{name}' is a domain; pick another name")
        if not members:
            _fail(f, f"groups.{name}", "a group needs at least one domain")
        for d in members:
            if d not in DOMAINS:
                _fail(f, f"groups.{name}", f"unknown domain '{d}'{did_you_mean(d, list(DOMAINS))}; "
                      f"known: {', '.join(DOMAINS)}")
        if len(set(members)) != len(members):
            _fail(f, f"groups.{name}", "a domain is listed twice")
    known = list(DOMAINS) + list(r.groups)
    covered: dict[str, str] = {}
    for key, share in r.mixture.items():
        if key not in known:
            _fail(f, f"mixture.{key}", f"unknown domain or group '{key}'{did_you_mean(key, known)}; known domains: "
                  f"{', '.join(DOMAINS)}" + (f"; groups: {', '.join(r.groups)}" if r.groups else ""))
        if not (0.0 <= share <= 1.0) or math.isnan(share):
            _fail(f, f"mixture.{key}", f"share must be in [0, 1], got {share}")
        for d in r.entry_domains(key):
            if d in covered:
                _fail(f, f"mixture.{key}", f"domain '{d}' is already covered by mixture.{covered[d]}; "
                      "each domain may appear once (directly or through one group)")
            covered[d] = key
    total = sum(r.mixture.values())
    if total > 1 + SHARE_TOLERANCE:
        _fail(f, "mixture", f"shares sum to {total:.6g}, more than 1; make them sum to 1")
    if r.redistribute == "none" and abs(total - 1) > SHARE_TOLERANCE:
        _fail(f, "mixture", f"shares sum to {total:.6g}, not 1; make them sum to 1, or set "
              "`redistribute: proportional` to give the missing share to the others in proportion")
    if total <= 0:
        _fail(f, "mixture", "all shares are 0; at least one domain must get a share")
    for key in r.density:
        if key not in r.mixture:
            owner = covered.get(key)
            extra = (f"; '{key}' is inside group '{owner}', put the density on 'density.{owner}'"
                     if owner and owner != key else f"; add '{key}' to mixture")
            _fail(f, f"density.{key}", f"'{key}' is not a mixture key{did_you_mean(key, list(r.mixture))}{extra}")


def read_recipe_file(path: str | Path) -> dict[str, Any]:
    return read_yaml_mapping(path, "recipe file", keys=RECIPE_KEYS)


def load_recipe(path_or_dict: str | Path | dict[str, Any] | Recipe, overrides: dict[str, Any] | None = None,
                *, check_sources: bool = False) -> Recipe:
    """Parse and validate a recipe file (or dict); `overrides` are dotted keys applied before validation.

    Example: `load_recipe("recipes/pretrain/math_density_050.yaml", {"density.math_text.share": 0.25})`.
    With `check_sources=True` the source folders must also exist (`build_mixture` always checks).
    """
    if isinstance(path_or_dict, Recipe):
        file = path_or_dict.file
    else:
        file = "<recipe>" if isinstance(path_or_dict, Mapping) else str(path_or_dict)
    recipe = load_config(path_or_dict, Recipe, overrides=overrides, what="recipe file", keys=RECIPE_KEYS, name=file)
    recipe._file = file
    _check_semantics(recipe)
    if check_sources:
        recipe.check_sources()
    return recipe


def is_mixing_recipe(data: dict[str, Any]) -> bool:
    """A YAML mapping is a mixing recipe when it has the keys only mixing recipes have."""
    return isinstance(data, dict) and "mixture" in data and "budget" in data
