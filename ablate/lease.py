"""Leases on sweep stages: a stage folder is claimed before it is run or submitted, so two launches of the
same sweep (on one machine or many sharing the filesystem) never run a stage twice.

The lease is `cache/STAGE/KEY.lease`, created with O_EXCL (atomic on local and NFS v3+ filesystems). It names
its holder: a Slurm job (alive while `squeue` lists it as pending or running), a process (alive while the pid
exists, when checked on the same host), or neither yet (a launcher between claiming and submitting). A running
stage refreshes `heartbeat` every HEARTBEAT seconds; a lease whose holder cannot be checked counts as alive
until its heartbeat is older than STALE seconds. A stale lease is taken over; a live one is left alone.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracemix.atomic import write_json

HEARTBEAT = 15.0
STALE = 120.0
ENV_TOKEN = "TRACEMIX_STAGE_LEASE"  # a job started for a lease carries its token and adopts it


def _now() -> float:
    return time.time()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_SNAPSHOT: dict[str, str | None] = {}  # job -> state, from the last `prefetch_slurm_states`
_SNAPSHOT_AT = 0.0
_SNAPSHOT_TTL = 2.0


def _squeue(jobs: list[str]) -> dict[str, str]:
    try:
        out = subprocess.run(["squeue", "-h", "-j", ",".join(jobs), "-o", "%i %T"], capture_output=True,
                             text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return {}
    # a lone unknown id is an error; in a list, unknown ids are left out
    return dict(line.split()[:2] for line in out.stdout.splitlines() if line.strip()) if out.returncode == 0 else {}


def prefetch_slurm_states(jobs) -> None:
    """One `squeue` for many jobs, so checking every lease of a large sweep costs one call, not one per stage."""
    global _SNAPSHOT, _SNAPSHOT_AT
    jobs = sorted({str(j) for j in jobs})
    if jobs:
        states = _squeue(jobs)
        _SNAPSHOT, _SNAPSHOT_AT = {j: states.get(j) for j in jobs}, _now()


def slurm_job_state(job: str) -> str | None:
    """The job's Slurm state (PENDING, RUNNING, CANCELLED, ...), or None once Slurm no longer knows it."""
    job = str(job)
    if job in _SNAPSHOT and _now() - _SNAPSHOT_AT < _SNAPSHOT_TTL:
        return _SNAPSHOT[job]
    return _squeue([job]).get(job)


SLURM_ALIVE = {"PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "REQUEUED", "RESIZING", "SUSPENDED"}


@dataclass
class Lease:
    path: Path
    token: str
    holder: dict[str, Any] = field(default_factory=dict)  # {"slurm_job": ID} | {"host", "pid"} | {}
    heartbeat: float = 0.0
    engine: str = "local"
    log: str | None = None

    def record(self) -> dict[str, Any]:
        return {"token": self.token, "holder": self.holder, "heartbeat": self.heartbeat, "engine": self.engine,
                "log": self.log}

    def save(self) -> None:
        self.heartbeat = _now()
        write_json(self.path, self.record())

    def alive(self) -> bool:
        holder = self.holder
        if holder.get("slurm_job"):
            return slurm_job_state(holder["slurm_job"]) in SLURM_ALIVE
        if holder.get("pid") and holder.get("host") == socket.gethostname():
            return _pid_alive(int(holder["pid"]))
        return _now() - self.heartbeat < STALE

    def describe(self) -> str:
        holder = self.holder
        if holder.get("slurm_job"):
            return f"Slurm job {holder['slurm_job']}"
        if holder.get("pid"):
            return f"pid {holder['pid']} on {holder.get('host')}"
        return f"{self.engine} launcher"

    def release(self) -> None:
        """Drop the lease if it is still ours (a takeover may have replaced it)."""
        current = read(self.path)
        if current is not None and current.token == self.token:
            self.path.unlink(missing_ok=True)


def read(path: Path) -> Lease | None:
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except ValueError:  # being written by its creator: treat as freshly held
        return Lease(path, token="?", heartbeat=_now())
    return Lease(path, raw["token"], raw.get("holder") or {}, raw.get("heartbeat", 0.0), raw.get("engine", "local"),
                 raw.get("log"))


def prefetch(paths) -> None:
    """Read the Slurm state of every job holding one of these leases at once (see prefetch_slurm_states)."""
    holders = [lease.holder.get("slurm_job") for lease in map(read, paths) if lease is not None]
    prefetch_slurm_states(j for j in holders if j)


def this_process() -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid": os.getpid()}


def claim(path: Path, engine: str, holder: dict[str, Any] | None = None, log: str | None = None) -> Lease | None:
    """Claim the stage: a new lease, or None when a live one holds it. A stale lease is replaced."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(2):
        lease = Lease(path, secrets.token_hex(8), holder if holder is not None else this_process(), _now(), engine,
                      log)
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            current = read(path)
            if current is not None and current.alive():
                return None
            # Stale: move it aside under a unique name (atomic), then race again for a fresh claim.
            with contextlib.suppress(FileNotFoundError):
                os.replace(path, path.with_name(f"{path.name}.stale-{secrets.token_hex(4)}"))
            continue
        with os.fdopen(fd, "w") as f:
            json.dump(lease.record(), f)
        return lease
    return None


def adopt(path: Path) -> Lease | None:
    """The lease a launcher claimed for this job (its token is in the environment), now held by this process."""
    token = os.environ.get(ENV_TOKEN)
    current = read(path)
    if not token or current is None or current.token != token:
        return None
    current.holder = {**this_process(), **({"slurm_job": os.environ["SLURM_JOB_ID"]}
                                           if os.environ.get("SLURM_JOB_ID") else {})}
    current.save()
    return current


class Heartbeat:
    """Refresh a lease every HEARTBEAT seconds while the stage runs (a daemon thread)."""

    def __init__(self, lease: Lease):
        self.lease, self._stop = lease, threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True)

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT):
            current = read(self.lease.path)
            if current is None or current.token != self.lease.token:
                return  # taken over: stop touching it
            self.lease.save()

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
