"""What each sweep stage asks of the scheduler: the sweep file's `resources:` section.

```yaml
resources:
  default: {partition: cpu, time: "02:00:00", cpus: 4, mem: 16G}   # every stage, unless it says otherwise
  train: {partition: gpu, gpus: 8, cpus: 64, mem: 480G, time: "12:00:00",
          setup: ["module load cuda/12.4", "source /shared/venvs/tracemix/bin/activate"]}
  eval: {partition: gpu, gpus: 1}
```
Precedence, most specific first: the stage's own section, then the command line (`--partition`, `--cpus`,
...), then `default`. A training stage with more than one GPU runs `torchrun --nproc-per-node GPUS` inside
its job. `setup` lines run in the job's shell before the stage (Slurm, Ray); none of this enters a cache key.
`cpus` also sets torch's CPU threads in the stage (unset: all cores locally, the job's CPUs on Slurm and
Ray); CPU results are bit-identical across engines when the stages get the same `cpus`.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from tracemix.config import ConfigModel
from tracemix.executors import parse_mem_gb, parse_time

STAGES = ("frame", "mix", "train", "eval", "perplexity", "probe")


class StageResources(ConfigModel):
    gpus: int | None = Field(default=None, ge=0)
    cpus: int | None = Field(default=None, ge=1)
    mem: str | None = None  # e.g. 16G
    time: str | None = None  # Slurm time limit, HH:MM:SS or D-HH:MM:SS
    partition: str | None = None
    account: str | None = None
    qos: str | None = None
    setup: list[str] | None = None

    @field_validator("time")
    @classmethod
    def _slurm_time(cls, value):
        if value is not None:
            parse_time(value)  # RecipeError (a ValueError) with what to write instead
        return value

    @field_validator("mem")
    @classmethod
    def _size(cls, value):
        if value is not None:
            parse_mem_gb(value)
        return value


class Resources(ConfigModel):
    default: StageResources = Field(default_factory=StageResources)
    frame: StageResources = Field(default_factory=StageResources)  # held-out split and shared tokenizer
    mix: StageResources = Field(default_factory=StageResources)
    train: StageResources = Field(default_factory=StageResources)
    eval: StageResources = Field(default_factory=StageResources)
    perplexity: StageResources = Field(default_factory=StageResources)
    probe: StageResources = Field(default_factory=StageResources)

    def for_stage(self, stage: str, cli: dict[str, Any] | None = None) -> StageResources:
        """The resolved resources of one stage (see the module docstring for the precedence)."""
        merged: dict[str, Any] = {"gpus": 0, "time": "04:00:00", "setup": []}
        own = getattr(self, stage) if stage in STAGES else StageResources()
        for layer in (self.default.model_dump(), cli or {}, own.model_dump()):
            merged.update({k: v for k, v in layer.items() if v is not None and k in StageResources.model_fields})
        return StageResources(**merged)
