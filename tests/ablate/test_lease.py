import os
import socket
import subprocess
import sys
import time

from ablate import lease as leases


def test_a_live_lease_keeps_a_second_claim_out_until_released(tmp_path):
    path = tmp_path / "train" / "k.lease"
    first = leases.claim(path, "local")
    assert first is not None and first.alive()
    assert leases.claim(path, "local") is None
    first.release()
    assert not path.exists() and leases.claim(path, "local") is not None


def test_a_dead_holder_is_taken_over(tmp_path):
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    path = tmp_path / "k.lease"
    leases.claim(path, "local", holder={"host": socket.gethostname(), "pid": int(gone.stdout)})
    assert not leases.read(path).alive()
    fresh = leases.claim(path, "local")
    assert fresh is not None and leases.read(path).token == fresh.token
    assert len(list(tmp_path.glob("k.lease.stale-*"))) == 1  # the old record is kept aside


def test_remote_holders_live_by_heartbeat_and_slurm_holders_by_squeue(tmp_path, monkeypatch):
    remote = leases.claim(tmp_path / "a.lease", "ray", holder={"host": "elsewhere", "pid": 1})
    assert remote.alive()
    remote.heartbeat = time.time() - leases.STALE - 1
    assert not remote.alive()
    monkeypatch.setattr(leases, "slurm_job_state", lambda job: {"7": "RUNNING", "8": "CANCELLED"}.get(job))
    assert leases.Lease(tmp_path / "b", "t", {"slurm_job": "7"}).alive()
    assert not leases.Lease(tmp_path / "b", "t", {"slurm_job": "8"}, heartbeat=time.time()).alive()
    assert not leases.Lease(tmp_path / "b", "t", {"slurm_job": "9"}).alive()  # Slurm forgot it


def test_a_job_adopts_the_lease_its_launcher_claimed(tmp_path, monkeypatch):
    path = tmp_path / "k.lease"
    claimed = leases.claim(path, "slurm", holder={})
    assert leases.adopt(path) is None  # no token in the environment: not ours
    monkeypatch.setenv(leases.ENV_TOKEN, claimed.token)
    monkeypatch.setenv("SLURM_JOB_ID", "42")
    adopted = leases.adopt(path)
    assert adopted.holder == {"host": socket.gethostname(), "pid": os.getpid(), "slurm_job": "42"}
    assert leases.read(path).holder["slurm_job"] == "42"
