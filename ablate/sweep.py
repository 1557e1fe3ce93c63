"""Sweep files: a base mixture recipe, axes to vary, and the train / eval / perplexity / probe settings.

```yaml
# tracemix ablate recipes/ablations/demo.yaml --output runs/demo
name: demo_math_density
recipe: recipes/demo/math_density.yaml       # base mixture recipe
axes:                                         # grid over axes; each axis sets one or more recipe keys
  density.math_text.share: [0.0, 0.5, 1.0]    # a single dotted key ...
  # coding_share:                             # ... or a named axis whose keys move together (zipped)
  #   mixture.coding: [0.0, 0.5, 1.0]
  #   mixture.other: [1.0, 0.5, 0.0]
train: {config: recipes/train/tiny_moe.yaml, max_steps: 30, overrides: {}}
eval: {tasks: symbolic, backend: hf, limit: 20, batch_size: 16, max_new_tokens: 24}       # EvalSettings
perplexity: {max_tokens_per_domain: 8000}   # optional: held-out bits per byte (PerplexitySettings)
probe: {max_tokens_per_domain: 4000, seq_len: 128}   # optional: ProbeSettings; data: the held-out set
seeds: [1, 2, 3]       # training seeds (init and data order): every variant trains once per seed
alpha: 0.05            # significance after correcting over every comparison (correction: holm | bh)
heldout: 0.1           # fraction of each domain's documents held out of every mixture (or {domain: f})
```
Every sweep is measured in one frame (`ablate.frame`): one held-out set carved before mixing, one tokenizer.
The stage sections are the areas' own settings objects (`eval.settings`, `probes.settings`): the same keys,
defaults and checks as `tracemix eval` / `tracemix probe`. Relative paths resolve against the current
directory, like every other tracemix command.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, PrivateAttr, field_validator

from ablate.frame import HELDOUT_FRACTION
from ablate.resources import Resources
from eval.settings import EvalSettings, PerplexitySettings
from probes.settings import ProbeSettings
from tracemix.config import ConfigModel, load_config, parse_yaml
from tracemix.errors import RecipeError

SWEEP_KEYS = "name, recipe, axes, train, eval, perplexity, probe, seed, seeds, alpha, correction, heldout, resources"


class TrainStage(ConfigModel):
    config: str
    max_steps: int | None = Field(default=None, gt=0)
    overrides: dict[str, Any] = Field(default_factory=dict)

    def config_overrides(self) -> dict[str, Any]:
        """The training config's overrides, `max_steps` included."""
        return {**self.overrides, **({"training.max_steps": self.max_steps} if self.max_steps else {})}


class Sweep(ConfigModel):
    name: str
    recipe: str
    axes: dict[str, list[Any] | dict[str, list[Any]]]
    train: TrainStage
    eval: EvalSettings | None = None
    perplexity: PerplexitySettings | None = None
    probe: ProbeSettings | None = None
    seed: int = 1234  # the training seed when `seeds` is not given
    seeds: list[int] | None = Field(None, min_length=1)  # training seeds: every variant runs once per seed
    alpha: float = Field(0.05, gt=0, lt=1)  # significance level, after correcting over all comparisons
    correction: Literal["holm", "bh"] = "holm"  # Holm (family-wise) or Benjamini-Hochberg (false discovery)
    heldout: float | dict[str, float] = HELDOUT_FRACTION  # held-out fraction of every (or each) domain
    resources: Resources = Field(default_factory=Resources)  # per stage, for Slurm / Ray (ablate.resources)

    _file: str = PrivateAttr(default="<sweep>")

    @property
    def file(self) -> str:
        return self._file

    @field_validator("axes")
    @classmethod
    def _axes_have_values(cls, axes):
        if not axes:
            raise ValueError("give at least one axis, e.g. `density.math_text.share: [0.0, 0.5, 1.0]`")
        for name, spec in axes.items():
            columns = spec if isinstance(spec, dict) else {name: spec}
            lengths = {len(v) for v in columns.values()}
            if 0 in lengths:
                raise ValueError(f"axis `{name}` has no values")
            if len(lengths) > 1:
                raise ValueError(f"axis `{name}`: every key must list the same number of values, got {sorted(lengths)}")
        return axes

    @field_validator("perplexity")
    @classmethod
    def _heldout_is_the_frame(cls, settings: PerplexitySettings | None):
        if settings is not None and (settings.exclude is not None or settings.data is not None):
            raise ValueError("`data` and `exclude` are set by the sweep: held-out loss is measured on the sweep's "
                             "held-out set (key `heldout`), which no mixture contains; remove them")
        return settings

    @field_validator("seeds")
    @classmethod
    def _seeds_differ(cls, seeds: list[int] | None):
        if seeds is not None and len(set(seeds)) != len(seeds):
            raise ValueError(f"seeds must differ, got {seeds}")
        return seeds

    @field_validator("heldout")
    @classmethod
    def _fractions(cls, heldout: float | dict[str, float]):
        from tracemix.domains import DOMAINS

        for key, value in (heldout if isinstance(heldout, dict) else {"heldout": heldout}).items():
            if key != "heldout" and key not in DOMAINS:
                raise ValueError(f"unknown domain '{key}'; known: {', '.join(DOMAINS)}")
            if not 0 <= value < 1:
                raise ValueError(f"a held-out fraction is in [0, 1), got {value} for {key}")
        return heldout

    def training_seeds(self) -> list[int]:
        """The seeds every variant trains with: `seeds`, or the single `seed`."""
        return list(self.seeds or [self.seed])

    def variants(self) -> list[dict[str, Any]]:
        """Every grid point as {"name", "label" (axis -> value), "overrides" (dotted recipe key -> value)}."""
        per_axis = []
        for name, spec in self.axes.items():
            columns = spec if isinstance(spec, dict) else {name: spec}
            n = len(next(iter(columns.values())))
            per_axis.append([(name, columns[next(iter(columns))][i], {k: v[i] for k, v in columns.items()})
                             for i in range(n)])
        out = []
        for combo in itertools.product(*per_axis):
            label = {axis: shown for axis, shown, _ in combo}
            overrides = {k: v for _, _, keys in combo for k, v in keys.items()}
            name = "__".join(f"{axis.split('.')[-2] if '.' in axis else axis}={shown}" for axis, shown, _ in combo)
            out.append({"name": name.replace("/", "_"), "label": label, "overrides": overrides})
        return out

    def recipe_sources(self) -> list[str]:
        """The base recipe's source folders, as written."""
        sources = (parse_yaml(Path(self.recipe).read_text(encoding="utf-8")) or {}).get("sources") or []
        return [str(sources)] if isinstance(sources, str) else [str(s) for s in sources]

    def stage_settings(self, section: str) -> PerplexitySettings | ProbeSettings:
        """The `perplexity` or `probe` settings with `data` filled in: the recipe's first source by default."""
        settings = getattr(self, section)
        if settings.data:
            return settings
        sources = self.recipe_sources()
        if not sources:
            raise RecipeError(f"{self.file}: {section}.data: the recipe {self.recipe} has no `sources`; set "
                              f"`{section}.data` to a tagged folder")
        return settings.model_copy(update={"data": sources[0]})

    def check(self) -> None:
        """Everything the sweep will run, validated before any stage runs: each stage's settings, paths and
        task names, every variant's recipe with its overrides, and the training config. Errors name the
        sweep file and the key."""
        from curation.mixing import load_recipe
        from training.config import load_config as load_train_config

        where = f"{self.file}: "
        if self.eval is not None:
            self.eval.check(f"{where}eval.")
        for section in ("perplexity", "probe"):
            if getattr(self, section) is not None:
                self.stage_settings(section).check(f"{where}{section}.")
        for variant in self.variants():
            try:
                load_recipe(self.recipe, overrides=variant["overrides"], check_sources=True)
            except RecipeError as err:
                raise RecipeError(f"{where}variant {variant['name']}: {err}") from None
        try:
            load_train_config(self.train.config, self.train.config_overrides() or None)
        except RecipeError as err:
            raise RecipeError(f"{where}train: {err}") from None


def load_sweep(path: str | Path) -> Sweep:
    """Parse and validate a sweep file; errors name the file and the key. `Sweep.check()` goes further."""
    sweep = load_config(path, Sweep, what="sweep file", keys=SWEEP_KEYS)
    sweep._file = str(path)
    for key, where in ((sweep.recipe, "recipe"), (sweep.train.config, "train.config")):
        if not Path(key).is_file():
            raise RecipeError(f"{path}: {where}: {key} does not exist")
    return sweep
