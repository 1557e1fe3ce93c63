from __future__ import annotations

import argparse

import pytest
from datatrove.executor import LocalPipelineExecutor, SlurmPipelineExecutor

from curation.mixing.cli import build_parser as mix_parser
from curation.tagging.tag import build_parser as tag_parser
from tracemix.errors import RecipeError
from tracemix.executors import (
    Executor,
    ExecutorSettings,
    add_executor_args,
    as_settings,
    build_executor,
    parse_mem_gb,
    parse_time,
)

FLAGS = ["--executor", "slurm", "--tasks", "8", "--workers", "2", "--partition", "cpu", "--account", "lab",
         "--qos", "high", "--time", "1-02:00:00", "--cpus", "4", "--mem", "10G"]


def test_tag_and_mix_parse_the_same_flags_into_the_same_settings():
    tag = tag_parser().parse_args(["--input", "i", "--output", "o", *FLAGS])
    mix = mix_parser().parse_args(["r.yaml", *FLAGS])
    assert ExecutorSettings.from_args(tag) == ExecutorSettings.from_args(mix) == ExecutorSettings(
        Executor.SLURM, tasks=8, workers=2, partition="cpu", account="lab", qos="high", time="1-02:00:00",
        cpus=4, mem="10G")


def test_defaults_are_one_local_task():
    p = argparse.ArgumentParser()
    add_executor_args(p)
    s = ExecutorSettings.from_args(p.parse_args([]))
    assert s == ExecutorSettings() and s.executor is Executor.LOCAL and (s.tasks, s.workers) == (1, 1)


def test_deprecated_slurm_partition_still_works_and_warns(capsys):
    args = tag_parser().parse_args(["--input", "i", "--output", "o", "--executor", "slurm",
                                    "--slurm-partition", "gpu", "--slurm-time", "02:00:00"])
    s = ExecutorSettings.from_args(args)
    assert (s.partition, s.time) == ("gpu", "02:00:00")
    assert "--slurm-partition is deprecated; use --partition" in capsys.readouterr().err
    assert "--slurm-partition" not in tag_parser().format_help()


def test_settings_map_onto_slurm_executor(tmp_path):
    s = ExecutorSettings.from_args(tag_parser().parse_args(["--input", "i", "--output", "o", *FLAGS]))
    ex = build_executor([], s, tmp_path / "logs", job_name="tag")
    assert isinstance(ex, SlurmPipelineExecutor)
    assert (ex.tasks, ex.workers, ex.partition, ex.time, ex.cpus_per_task, ex.qos) == (8, 2, "cpu", "1-02:00:00",
                                                                                        4, "high")
    assert ex.mem_per_cpu_gb == 3  # 10G over 4 CPUs, rounded up to whole gigabytes
    assert ex.job_name == "tag" and ex.logging_dir.path.endswith("logs")
    sbatch = ex.get_sbatch_args()
    assert (sbatch["account"], sbatch["qos"], sbatch["partition"], sbatch["cpus-per-task"],
            sbatch["mem-per-cpu"], sbatch["time"]) == ("lab", "high", "cpu", 4, "3G", "1-02:00:00")
    assert ex.venv_path is None or ex.venv_path.endswith("/bin/activate")  # jobs get this interpreter's venv


def test_slurm_without_qos_leaves_the_cluster_default(tmp_path):
    ex = build_executor([], ExecutorSettings("slurm", partition="cpu"), tmp_path)
    assert "qos" not in ex.get_sbatch_args() and "account" not in ex.get_sbatch_args()


def test_slurm_stages_chain_by_dependency(tmp_path):
    s = ExecutorSettings("slurm", tasks=4, partition="cpu")
    first = build_executor([], s, tmp_path / "a", job_name="mix-a")
    second = build_executor([], s.with_overrides(tasks=1), tmp_path / "b", depends=first, job_name="mix-b")
    assert second.depends is first and (first.world_size, second.world_size) == (4, 1)


def test_local_executor_caps_workers_at_tasks(tmp_path):
    ex = build_executor([], as_settings("local", tasks=2, workers=8), tmp_path)
    assert isinstance(ex, LocalPipelineExecutor) and (ex.tasks, ex.workers) == (2, 2)
    assert build_executor([], as_settings("local", tasks=3, workers=-1), tmp_path).workers == 3


@pytest.mark.parametrize(("settings", "message"), [
    (dict(executor="slurm"), "--executor slurm needs --partition"),
    (dict(tasks=0), "--tasks must be at least 1"),
    (dict(workers=0), "--workers must be at least 1"),
    (dict(cpus=0), "--cpus must be at least 1"),
    (dict(time="4h"), "--time '4h': not a Slurm time limit"),
    (dict(mem="lots"), "--mem 'lots'"),
])
def test_bad_settings_name_the_flag(settings, message):
    with pytest.raises(RecipeError, match=message):
        ExecutorSettings(**settings).validate()


def test_unknown_executor_is_named():
    with pytest.raises(RecipeError, match="--executor: unknown executor 'spark'; choose one of local, slurm, ray"):
        ExecutorSettings("spark")


def test_time_and_memory_formats():
    assert [parse_time(t) for t in ("90", "1:30", "01:00:00", "2-00", "1-01:01:01")] == [
        5400, 90, 3600, 2 * 86400, 86400 + 3661]
    assert [parse_mem_gb(m) for m in ("8G", "8gb", "512M", "2")] == [8, 8, 0.5, 2]


def test_settings_round_trip_through_a_dict():
    s = ExecutorSettings("ray", tasks=3, cpus=2, mem="4G")
    assert ExecutorSettings(**s.to_dict()) == s and s.to_dict()["executor"] == "ray"
    assert s.mem_per_cpu_gb() == 2
