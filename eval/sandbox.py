"""Run untrusted generated code: a separate process, never the evaluating one.

Layers, each cheap: a fresh temp directory as cwd; rlimits on address space, CPU seconds, file size,
core dumps and (for non-root users) process count; when run as root and the interpreter is readable
by `nobody`, the child drops to uid 65534; a new network and PID namespace via `unshare` when the
kernel allows it (no network at all, and every process the code started dies with it); an audit hook
in the child that refuses sockets, process creation and ctypes whatever the namespace support; and a
wall-clock timeout that kills the whole process group.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

NOBODY = 65534
_OUTPUT_CHARS = 2000

# Runs in the child before the program: limits, privilege drop, audit hook, then the program.
_BOOTSTRAP = r"""
import json, os, resource, sys
cfg = json.loads(sys.argv[1])
if cfg["drop"]:
    os.setgroups([]); os.setgid(cfg["drop"]); os.setuid(cfg["drop"])
mb = 1 << 20
resource.setrlimit(resource.RLIMIT_AS, (cfg["memory_mb"] * mb, cfg["memory_mb"] * mb))
resource.setrlimit(resource.RLIMIT_CPU, (cfg["cpu_seconds"], cfg["cpu_seconds"] + 1))
resource.setrlimit(resource.RLIMIT_FSIZE, (cfg["file_mb"] * mb, cfg["file_mb"] * mb))
resource.setrlimit(resource.RLIMIT_NPROC, (cfg["max_procs"], cfg["max_procs"]))
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
_DENY = ("socket.", "os.fork", "os.forkpty", "os.posix_spawn", "os.exec", "os.spawn", "os.system",
         "os.kill", "os.killpg", "subprocess.Popen", "ctypes.", "pty.spawn")
def _hook(event, args, _deny=_DENY):
    if event.startswith(_deny):
        raise PermissionError(f"sandbox: '{event}' is not allowed")
path = sys.argv[2]
with open(path, encoding="utf-8") as f:
    source = f.read()
code = compile(source, path, "exec")
sys.argv = [path]
sys.addaudithook(_hook)
exec(code, {"__name__": "__main__", "__file__": path})
"""


@dataclass
class SandboxResult:
    status: str  # passed | failed | timeout
    returncode: int | None
    stdout: str
    stderr: str
    seconds: float

    @property
    def passed(self) -> bool:
        return self.status == "passed"


@functools.cache
def _namespace_prefix() -> tuple[str, ...]:
    """`unshare` arguments for a fresh network + PID namespace, or () where the kernel refuses."""
    exe = shutil.which("unshare")
    if not exe:
        return ()
    base = (exe, "--net", "--pid", "--fork", "--kill-child")
    for prefix in (base, (exe, "--user", "--map-root-user", *base[1:])):
        try:
            ok = subprocess.run([*prefix, "true"], capture_output=True, timeout=10).returncode == 0
        except (OSError, subprocess.SubprocessError):
            ok = False
        if ok:
            return prefix
    return ()


@functools.cache
def _drop_uid(interpreter: str) -> int:
    """uid to drop to (nobody) when running as root and `nobody` can run the interpreter, else 0."""
    if os.geteuid() != 0:
        return 0

    def demote() -> None:
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)

    try:
        proc = subprocess.run([interpreter, "-I", "-c", "pass"], preexec_fn=demote, capture_output=True,
                              timeout=10, cwd="/")
    except (OSError, subprocess.SubprocessError):
        return 0
    return NOBODY if proc.returncode == 0 else 0


@functools.cache
def default_interpreter() -> str:
    """This Python, or when running as root, the first Python of the same version `nobody` can run
    (so the process-count limit applies: the kernel does not enforce RLIMIT_NPROC for root)."""
    if os.geteuid() != 0:
        return sys.executable
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [sys.executable, getattr(sys, "_base_executable", ""), shutil.which(version) or "",
                  f"/usr/bin/{version}", f"/usr/local/bin/{version}"]
    for exe in dict.fromkeys(c for c in candidates if c and os.path.isfile(c)):
        if _drop_uid(exe):
            return exe
    return sys.executable


def run_python(program: str, timeout: float = 10.0, memory_mb: int = 1024, max_procs: int = 32,
               file_mb: int = 16, use_namespaces: bool = True, interpreter: str | None = None) -> SandboxResult:
    """Run `program` (Python source) in a sandboxed subprocess; passed means exit status 0 in time."""
    interpreter = interpreter or default_interpreter()
    prefix = _namespace_prefix() if use_namespaces else ()
    # inside a user namespace the mapped root cannot setuid to an unmapped nobody
    drop = _drop_uid(interpreter) if "--user" not in prefix else 0
    cfg = {"memory_mb": memory_mb, "cpu_seconds": max(1, int(timeout) + 1), "file_mb": file_mb,
           "max_procs": max_procs, "drop": drop}
    with tempfile.TemporaryDirectory(prefix="tracemix-sandbox-") as tmp:
        work = Path(tmp)
        if drop:
            os.chown(work, drop, drop)
        (work / "program.py").write_text(program, encoding="utf-8")
        env = {"PATH": "/usr/bin:/bin", "HOME": tmp, "TMPDIR": tmp, "LANG": "C.UTF-8",
               "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0"}
        cmd = [*prefix, interpreter, "-I", "-c", _BOOTSTRAP, json.dumps(cfg), str(work / "program.py")]
        start = time.monotonic()
        # output goes to files, not pipes: a surviving grandchild holding a pipe would block the reader
        with open(work / ".stdout", "wb") as out, open(work / ".stderr", "wb") as err:
            proc = subprocess.Popen(cmd, cwd=tmp, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                    start_new_session=True)
            try:
                returncode: int | None = proc.wait(timeout=timeout)
                status = "passed" if returncode == 0 else "failed"
            except subprocess.TimeoutExpired:
                returncode, status = None, "timeout"
            finally:
                _kill_group(proc)
        seconds = time.monotonic() - start
        stdout = (work / ".stdout").read_text(errors="replace")[-_OUTPUT_CHARS:]
        stderr = (work / ".stderr").read_text(errors="replace")[-_OUTPUT_CHARS:]
    return SandboxResult(status, returncode, stdout, stderr, round(seconds, 3))


def _kill_group(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def check_program(completion_code: str, gold: dict) -> str:
    """The program that tests a completion: HumanEval prompt + completion (when the completion does not
    define the entry point itself) followed by the tests; MBPP code followed by its asserts."""
    prefix = gold.get("prefix") or ""
    entry = gold.get("entry_point")
    if prefix and entry and f"def {entry}" in completion_code:
        # a full function redefines the prompt's stub (a valid def: signature + docstring); the prompt stays
        # for its imports and helpers, which some answers call (HumanEval/10, /38 and /50)
        body = f"{prefix}\n{completion_code}"
    else:
        body = prefix + completion_code
    return f"{body}\n\n{gold['tests']}"
