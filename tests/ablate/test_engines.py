"""A two-variant sweep with every stage a Slurm job or a Ray task: same metrics as local, relaunches submit
nothing, and a killed job is resubmitted by the next launch."""

import subprocess

import pytest

from ablate.engines import Context, sbatch_script
from ablate.graph import build_graph, status
from ablate.sweep import load_sweep
from tests.ablate.tiny_sweep import final_losses, stage_records, tagged_corpus, write_sweep
from tests.cluster.fixtures import local_ray, slurm_cluster, slurm_states, wait_until  # noqa: F401 (fixtures)
from tracemix.cli import main


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    """The sweep run in this process: the reference the engines must reproduce."""
    root = tmp_path_factory.mktemp("engines")
    sweep = write_sweep(root / "sweep", tagged_corpus(root), name="eng")
    assert main(["ablate", str(sweep), "--output", str(root / "local")]) == 0
    return sweep, root / "local"


def test_sbatch_script_carries_the_stage_resources(local_run, tmp_path):
    sweep_file, _ = local_run
    sweep = load_sweep(sweep_file)
    sweep.resources.train.gpus, sweep.resources.train.setup = 4, ["module load cuda"]
    sweep.resources.default.partition = "cpu"
    node = next(n for n in build_graph(sweep, tmp_path).values() if n.stage.name == "train")
    ctx = Context(sweep, str(sweep_file), tmp_path, ["--partition", "gpu"], {"partition": "gpu"})
    script = sbatch_script(ctx, node, ctx.resources(node))
    assert "#SBATCH --partition=gpu\n" in script and "#SBATCH --gres=gpu:4\n" in script
    assert f"#SBATCH --output={node.log_path}\n" in script and "#SBATCH --kill-on-invalid-dep=yes\n" in script
    assert script.index("module load cuda") < script.index(f"--partition gpu --run-stage {node.id}")


def _with_setup(sweep, root):
    """The same sweep (same stage keys) with a setup line every stage job runs first."""
    return write_sweep(root / "sweep", sweep.parent.parent / "tagged", name="eng",
                       resources={"default": {"cpus": 1, "setup": ["echo stage setup ran"]}})


def _jobs(out, stage: str = "*") -> dict[str, str]:
    """Slurm job of each stage of this run that holds a lease (stage id -> job id)."""
    from ablate import lease as leases

    held = {p: leases.read(p) for p in (out / "cache").glob(f"{stage}/*.lease")}
    return {f"{p.parent.name}/{p.stem}": str(lease.holder["slurm_job"]) for p, lease in held.items()
            if lease is not None and lease.holder.get("slurm_job")}


@pytest.mark.slurm
def test_sweep_on_slurm_matches_local_survives_a_killed_job_and_relaunches_nothing(
        local_run, slurm_cluster, tmp_path, capsys):  # noqa: F811 (fixture)
    sweep, local = local_run
    sweep = _with_setup(sweep, tmp_path)
    out = tmp_path / "slurm"
    launch = ["ablate", str(sweep), "--output", str(out), "--executor", "slurm", "--partition", slurm_cluster]
    assert main(launch) == 0
    assert "submitted 5 Slurm job(s)" in capsys.readouterr().out  # frame, 2 mixes, 2 trainings

    # Kill one mixing job while it runs: the training waiting on it is cancelled with it.
    jobs = _jobs(out)
    assert len(jobs) == 5
    mixing = list(_jobs(out, "mix").values())
    wait_until(lambda: "RUNNING" in slurm_states(mixing).values(), "no mixing job started", timeout=900)
    subprocess.run(["scancel", next(j for j, s in slurm_states(mixing).items() if s == "RUNNING")], check=True)
    wait_until(lambda: not slurm_states(jobs.values()), "the sweep's jobs did not end", timeout=900)
    graph = build_graph(load_sweep(sweep), out)
    states = {n.id: status(n) for n in graph.values()}
    failed = [i for i, (s, _) in states.items() if s == "failed"]
    assert len(failed) == 2 and all(f"log {graph[i].log_path}" in states[i][1] for i in failed)

    assert main([*launch, "--wait"]) == 0
    assert "submitted 2 Slurm job(s)" in capsys.readouterr().out
    assert final_losses(out) == final_losses(local) and len(final_losses(local)) == 2
    assert stage_records(out, "mix").keys() == stage_records(local, "mix").keys()

    assert main([*launch, "--wait"]) == 0
    assert "5 cached, 0 to run" in (printed := capsys.readouterr().out) and "submitted 0 Slurm job(s)" in printed
    assert (out / "report.md").is_file()
    logs = list((out / "cache").glob("*/*.log"))
    assert len(logs) == 5 and all("stage setup ran" in log.read_text() for log in logs)


@pytest.mark.ray
def test_sweep_on_a_local_ray_instance_matches_local(local_run, local_ray, tmp_path, capsys):  # noqa: F811
    sweep, local = local_run
    sweep = _with_setup(sweep, tmp_path)
    out = tmp_path / "ray"
    assert main(["ablate", str(sweep), "--output", str(out), "--executor", "ray"]) == 0
    assert capsys.readouterr().out.count("Ray task") == 5
    assert final_losses(out) == final_losses(local)
    assert main(["ablate", str(sweep), "--output", str(out), "--executor", "ray"]) == 0
    assert "5 cached, 0 to run on ray" in capsys.readouterr().out
    logs = list((out / "cache").glob("*/*.log"))
    assert len(logs) == 5 and all("stage setup ran" in log.read_text() for log in logs)
