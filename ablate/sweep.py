"""Sweep files: a base mixture recipe, axes to vary, and the train / eval / probe settings.

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
eval: {tasks: symbolic, backend: hf, limit: 20, batch_size: 16, max_new_tokens: 24}
perplexity: {data: data/tagged/demo, max_tokens_per_domain: 8000}           # optional: held-out loss by domain
probe: {data: data/tagged/demo, max_tokens_per_domain: 4000, seq_len: 128}   # optional
seed: 1234
```
Relative paths resolve against the current directory, like every other tracemix command.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tracemix.config import format_validation_error, read_yaml_mapping
from tracemix.errors import RecipeError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TrainStage(_Strict):
    config: str
    max_steps: int | None = Field(default=None, gt=0)
    overrides: dict[str, Any] = Field(default_factory=dict)


class EvalStage(_Strict):
    tasks: str | list[str]
    backend: str = "hf"
    limit: int | None = Field(default=None, gt=0)
    batch_size: int = Field(default=16, gt=0)
    max_new_tokens: int | None = Field(default=None, gt=0)
    extractor: str = "rules"


class PerplexityStage(_Strict):
    data: str | None = None  # tagged folder; default: the base recipe's first source
    max_tokens_per_domain: int = Field(default=20_000, gt=0)
    seq_len: int = Field(default=256, gt=0)
    batch_size: int = Field(default=8, gt=0)


class ProbeStage(_Strict):
    data: str | None = None  # tagged folder; default: the base recipe's first source
    max_tokens_per_domain: int = Field(default=4000, gt=0)
    seq_len: int = Field(default=128, gt=0)
    batch_size: int = Field(default=8, gt=0)


class Sweep(_Strict):
    name: str
    recipe: str
    axes: dict[str, list[Any] | dict[str, list[Any]]]
    train: TrainStage
    eval: EvalStage | None = None
    perplexity: PerplexityStage | None = None
    probe: ProbeStage | None = None
    seed: int = 1234

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


def load_sweep(path: str | Path) -> Sweep:
    """Parse and validate a sweep file; errors name the file and the key."""
    path = Path(path)
    raw = read_yaml_mapping(path, "sweep file", keys="name, recipe, axes, train, eval, probe, seed")
    try:
        sweep = Sweep.model_validate(raw)
    except ValidationError as err:
        raise RecipeError(format_validation_error(err, str(path))) from None
    for key, where in ((sweep.recipe, "recipe"), (sweep.train.config, "train.config")):
        if not Path(key).is_file():
            raise RecipeError(f"{path}: `{where}` points to {key}, which does not exist")
    return sweep
