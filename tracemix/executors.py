"""The one datatrove executor factory: local, Slurm or Ray, with the same flags on every verb.

    parser = argparse.ArgumentParser()
    add_executor_args(parser)                 # --executor --tasks --workers --partition --account --qos ...
    settings = ExecutorSettings.from_args(parser.parse_args())
    build_executor(pipeline, settings, logging_dir="OUT/logs", job_name="tag").run()

Steps never know which executor runs them (datatrove's "what" apart from "where"). Resources are per
task: `cpus` CPUs and `mem` memory (split into datatrove's memory per CPU), `time` as Slurm writes it.
Ray joins the cluster in `RAY_ADDRESS`, or starts a local instance when none is set.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from tracemix.errors import RecipeError

DEFAULT_TIME = "04:00:00"
# Slurm's time formats: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S
_TIME = re.compile(r"^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$")
_MEM = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)B?\s*$", re.IGNORECASE)
_MEM_UNIT_GB = {"K": 2**-20, "M": 2**-10, "G": 1.0, "T": 2**10, "": 1.0}


class Executor(StrEnum):
    LOCAL = "local"
    SLURM = "slurm"
    RAY = "ray"


def parse_time(text: str) -> int:
    """Slurm time limit -> seconds ('90' is minutes, '1:30:00', '2-00:00:00'); RecipeError when malformed."""
    m = _TIME.match(str(text).strip())
    if not m:
        raise RecipeError(f"--time '{text}': not a Slurm time limit; write HH:MM:SS, MINUTES or D-HH:MM:SS")
    days, a, b, c = m.groups()
    if days is not None:  # D-H, D-H:M, D-H:M:S
        h, mi, s = int(a), int(b or 0), int(c or 0)
        return ((int(days) * 24 + h) * 60 + mi) * 60 + s
    if c is not None:  # H:M:S
        return (int(a) * 60 + int(b)) * 60 + int(c)
    if b is not None:  # M:S
        return int(a) * 60 + int(b)
    return int(a) * 60  # M


def parse_mem_gb(text: str | float | int) -> float:
    """'8G', '8GB', '512M', '8' (GB) -> gigabytes; RecipeError when malformed or not positive."""
    m = _MEM.match(str(text))
    gb = float(m.group(1)) * _MEM_UNIT_GB[m.group(2).upper()] if m else 0.0
    if gb <= 0:
        raise RecipeError(f"--mem '{text}': give the memory per task as a positive size such as 8G or 512M")
    return gb


@dataclass(frozen=True)
class ExecutorSettings:
    """Where a datatrove pipeline runs and with what resources per task.

    `tasks` splits the input; `workers` is how many tasks run at once (-1: all). `partition`, `account`,
    `qos` and `time` are Slurm's; `cpus` and `mem` (per task, e.g. "8G") apply to Slurm and Ray.
    `sbatch_args` adds raw `#SBATCH` directives, `env_command` replaces the venv activation in Slurm
    jobs, `ray_remote_kwargs` goes to Ray's `remote()`. `logging_dir` is where datatrove keeps its
    completions and logs (a verb usually sets it under its output folder).
    """

    executor: Executor = Executor.LOCAL
    tasks: int = 1
    workers: int = 1
    partition: str | None = None
    account: str | None = None
    qos: str | None = None
    time: str = DEFAULT_TIME
    cpus: int = 1
    mem: str | None = None
    logging_dir: str | None = None
    sbatch_args: dict[str, Any] = field(default_factory=dict)
    env_command: str | None = None
    ray_remote_kwargs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.executor, Executor):
            try:
                object.__setattr__(self, "executor", Executor(str(self.executor)))
            except ValueError:
                choices = ", ".join(e.value for e in Executor)
                raise RecipeError(f"--executor: unknown executor '{self.executor}'; choose one of {choices}") from None

    def validate(self) -> ExecutorSettings:
        """Raise RecipeError naming the flag at fault; returns self so calls chain."""
        if not isinstance(self.tasks, int) or self.tasks < 1:
            raise RecipeError(f"--tasks must be at least 1 (got {self.tasks})")
        if not isinstance(self.workers, int) or (self.workers < 1 and self.workers != -1):
            raise RecipeError(f"--workers must be at least 1, or -1 for all tasks at once (got {self.workers})")
        if not isinstance(self.cpus, int) or self.cpus < 1:
            raise RecipeError(f"--cpus must be at least 1 (got {self.cpus})")
        parse_time(self.time)
        if self.mem is not None:
            parse_mem_gb(self.mem)
        if self.executor == Executor.SLURM and not self.partition:
            raise RecipeError("--executor slurm needs --partition (the Slurm partition the jobs run on)")
        return self

    def with_overrides(self, **changes: Any) -> ExecutorSettings:
        """A copy with the given fields changed; None values leave the field as it is."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def mem_per_cpu_gb(self) -> float | None:
        return None if self.mem is None else parse_mem_gb(self.mem) / self.cpus

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings for manifests and sweep files."""
        return {**asdict(self), "executor": self.executor.value}

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> ExecutorSettings:
        """Settings from the flags `add_executor_args` added, validated."""
        return cls(executor=args.executor, tasks=args.tasks, workers=args.workers, partition=args.partition,
                   account=args.account, qos=args.qos, time=args.time, cpus=args.cpus, mem=args.mem).validate()


class _Deprecated(argparse.Action):
    """A hidden old spelling that still works, with a one-line warning naming the new flag."""

    def __init__(self, *args: Any, new: str, **kwargs: Any) -> None:
        self.new = new
        super().__init__(*args, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        print(f"warning: {option_string} is deprecated; use {self.new}", file=sys.stderr)
        setattr(namespace, self.dest, values)


def add_executor_args(parser: argparse.ArgumentParser, *, tasks_help: str | None = None) -> argparse._ArgumentGroup:
    """Add the executor flags every datatrove verb shares (read them back with `ExecutorSettings.from_args`).

    --executor --tasks --workers --partition --account --qos --time --cpus --mem; `--slurm-partition` and
    `--slurm-time` stay as hidden deprecated spellings. `tasks_help` replaces the help text of --tasks.
    """
    g = parser.add_argument_group("executor (where datatrove runs the pipeline)")
    g.add_argument("--executor", default=Executor.LOCAL.value, choices=[e.value for e in Executor],
                   help="local processes (default), Slurm jobs, or Ray tasks on the cluster in RAY_ADDRESS "
                        "(a local Ray instance when unset)")
    g.add_argument("--tasks", type=int, default=1,
                   help=tasks_help or "datatrove tasks the input is split into (default 1)")
    g.add_argument("--workers", type=int, default=1, help="tasks run at once (-1: all; default 1)")
    g.add_argument("--partition", help="Slurm partition (required with --executor slurm)")
    g.add_argument("--account", help="Slurm account to charge")
    g.add_argument("--qos", help="Slurm quality of service (default: the cluster's)")
    g.add_argument("--time", default=DEFAULT_TIME,
                   help=f"time limit per task, HH:MM:SS or D-HH:MM:SS (Slurm; Ray timeout; default {DEFAULT_TIME})")
    g.add_argument("--cpus", type=int, default=1, help="CPUs per task (Slurm and Ray; default 1)")
    g.add_argument("--mem", help="memory per task, e.g. 8G (Slurm and Ray; default: the executor's)")
    g.add_argument("--slurm-partition", dest="partition", action=_Deprecated, new="--partition",
                   help=argparse.SUPPRESS)
    g.add_argument("--slurm-time", dest="time", action=_Deprecated, new="--time", help=argparse.SUPPRESS)
    return g


def as_settings(executor: str | Executor | ExecutorSettings | None = None, **overrides: Any) -> ExecutorSettings:
    """An executor name or settings object, with `overrides` (None means keep), validated."""
    settings = executor if isinstance(executor, ExecutorSettings) else ExecutorSettings(executor or Executor.LOCAL)
    return settings.with_overrides(**overrides).validate()


def _activate_script() -> str | None:
    """This interpreter's venv activation script, so Slurm jobs run with the same packages."""
    script = Path(sys.prefix) / "bin" / "activate"
    return str(script) if script.exists() else None


def _init_ray() -> None:
    import ray

    if not ray.is_initialized():
        # ray.init() joins the cluster in RAY_ADDRESS when it is set, otherwise starts a local instance
        ray.init(ignore_reinit_error=True, include_dashboard=False)


def build_executor(pipeline: list, settings: ExecutorSettings, logging_dir: str | Path | None = None, *,
                   job_name: str = "tracemix", depends: Any = None):
    """A datatrove Local/Slurm/Ray PipelineExecutor running `pipeline` with `settings`.

    `logging_dir` (default `settings.logging_dir`) holds datatrove's completions, so a rerun resumes;
    `depends` chains executors of the same kind (Slurm uses job dependencies).
    """
    settings.validate()
    logs = str(logging_dir or settings.logging_dir or "logs")
    tasks, workers = settings.tasks, settings.workers
    if settings.executor == Executor.LOCAL:
        from datatrove.executor import LocalPipelineExecutor

        return LocalPipelineExecutor(pipeline, tasks=tasks, workers=tasks if workers == -1 else min(workers, tasks),
                                     logging_dir=logs, depends=depends)
    mem_per_cpu = settings.mem_per_cpu_gb()
    if settings.executor == Executor.SLURM:
        from datatrove.executor import SlurmPipelineExecutor

        sbatch = dict(settings.sbatch_args)
        if settings.account:
            sbatch["account"] = settings.account
        return SlurmPipelineExecutor(
            pipeline, tasks=tasks, workers=workers, logging_dir=logs, depends=depends, job_name=job_name,
            partition=settings.partition, time=settings.time, cpus_per_task=settings.cpus,
            # Slurm takes whole gigabytes per CPU; round up so a task never gets less than asked
            mem_per_cpu_gb=math.ceil(mem_per_cpu) if mem_per_cpu is not None else 2,
            qos=settings.qos or "",  # "" leaves the cluster's default QOS (datatrove would send "normal")
            sbatch_args=sbatch, env_command=settings.env_command, venv_path=_activate_script())
    from datatrove.executor import RayPipelineExecutor

    _init_ray()
    return RayPipelineExecutor(
        pipeline, tasks=tasks, workers=workers, logging_dir=logs, depends=depends,
        cpus_per_task=settings.cpus, mem_per_cpu_gb=mem_per_cpu if mem_per_cpu is not None else 1,
        ray_remote_kwargs=dict(settings.ray_remote_kwargs) or None, time=parse_time(settings.time))
