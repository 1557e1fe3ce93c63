"""A real single-node Slurm cluster (tests/cluster/slurm_up.sh) and a local Ray instance for the tests.

Tests that need them are marked `slurm` / `ray` and skipped, with the reason, only where the machine cannot
run them (no slurm-wlm / munge packages and no cluster answering, or not root to start one).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

SLURM_UP = Path(__file__).with_name("slurm_up.sh")


@pytest.fixture(scope="session")
def slurm_cluster() -> str:
    """The partition to submit to (`cpu`), once `sinfo` shows it up."""
    answering = shutil.which("sinfo") and subprocess.run(["sinfo", "-h", "-p", "cpu", "-o", "%a"], capture_output=True,
                                                         text=True).stdout.strip() == "up"
    if not answering:
        missing = [b for b in ("slurmctld", "slurmd", "munged", "sbatch") if not shutil.which(b)]
        if missing:
            pytest.skip(f"Slurm tests need slurm-wlm and munge ({', '.join(missing)} not found): "
                        "apt-get install -y slurm-wlm munge")
        if os.geteuid() != 0:
            pytest.skip(f"no Slurm cluster answers and starting one needs root: sudo bash {SLURM_UP}")
    done = subprocess.run(["bash", str(SLURM_UP)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{SLURM_UP} failed:\n{done.stdout}\n{done.stderr}"
    return "cpu"


def slurm_states(jobs) -> dict[str, str]:
    """State of each of `jobs` that Slurm still lists (ids, not names: other runs may share the cluster)."""
    rows = subprocess.run(["squeue", "-h", "-o", "%i %T"], capture_output=True, text=True).stdout.split("\n")
    wanted = {str(j) for j in jobs}
    return {job: state for job, state in (r.split() for r in rows if r.strip()) if job in wanted}


def wait_until(done, what: str, timeout: float = 900) -> None:
    """Poll `done()` until it is true; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} after {timeout}s:\n"
                               + subprocess.run(["squeue"], capture_output=True, text=True).stdout)
        time.sleep(0.5)


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray instance for the module (ray.init without RAY_ADDRESS), shut down after it."""
    ray = pytest.importorskip("ray", reason="Ray tests need `pip install 'ray[default]'` (in the dev extra)")
    os.environ.pop("RAY_ADDRESS", None)
    ray.init(num_cpus=2, include_dashboard=False, ignore_reinit_error=True, log_to_driver=False)
    yield ray
    ray.shutdown()
