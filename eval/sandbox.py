"""Run untrusted generated code inside bubblewrap; a pass is a secret sentinel, never an exit status.

The threat model and what each layer stops are in docs/sandbox.md. In short:

- isolation: `bwrap` with new PID, network, IPC and UTS namespaces; the root is an empty tmpfs holding
  read-only binds of the system (/usr and its links, the dynamic-linker files) and of this Python's
  install; /tmp and /dev/shm are private tmpfs; the project, home and the evaluator's environment are
  absent; the code runs as uid 65534 with no capabilities and no_new_privs (as root: a real setuid drop
  by `setpriv`; otherwise a user namespace mapping 65534 onto the invoking user);
- limits: address space, CPU seconds, file size, processes and open files (rlimits), tmpfs size, and a
  wall-clock deadline after which the whole PID namespace is killed;
- results: the program arrives on stdin; output comes back only through pipes the evaluator created
  (stdout, stderr and a report pipe); nothing is read by path from a folder the child can write;
- verdict: the program runs as a module named `__solution__` (not `__main__`); after it returns, the
  bootstrap writes a per-run random sentinel to the report pipe. `sys.exit(0)`, `os._exit(0)`, an
  atexit hook or a killed process never write it, so they fail whatever their exit status.

Where bubblewrap is missing or refused by the kernel, `run_python` raises `SandboxUnavailable` with the
reason, unless the caller passes `unsafe_exec=True` (the CLI's `--unsafe-exec`).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

from tracemix.errors import TracemixError

NOBODY = 65534
_OUTPUT_CHARS = 2000  # the tail of stdout / stderr kept in a result
_KEEP_BYTES = 64 * 1024  # bytes of each stream held while reading; the rest is drained and dropped
_GRACE = 1.0  # seconds to drain the pipes after a kill
_SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# the dynamic linker's configuration and name lookup for uids; nothing else of /etc is visible
_ETC = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/passwd",
        "/etc/group", "/etc/nsswitch.conf")
_ENV = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "TMPDIR": "/tmp", "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0"}

# Runs in the child: read header + program from stdin, set limits, run the program, then the sentinel.
_BOOTSTRAP = r"""
import json, os, resource, sys
def _run():
    chunks = []
    while chunk := os.read(0, 1 << 16):
        chunks.append(chunk)
    header, _, program = b"".join(chunks).partition(b"\n")
    cfg = json.loads(header)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    mb = 1 << 20
    for name, value in (("AS", cfg["memory_mb"] * mb), ("CPU", cfg["cpu_seconds"]), ("FSIZE", cfg["file_mb"] * mb),
                        ("NPROC", cfg["max_procs"]), ("NOFILE", 256), ("CORE", 0)):
        limit = getattr(resource, "RLIMIT_" + name)
        resource.setrlimit(limit, (value, value))
    report, sentinel = cfg["report_fd"], cfg.pop("sentinel").encode()
    code = compile(program.decode("utf-8"), "solution.py", "exec")
    del chunks, header, program
    sys.argv = ["solution.py"]
    exec(code, {"__name__": "__solution__", "__file__": "solution.py", "__builtins__": __builtins__})
    os.write(report, sentinel)
_run()
"""


class SandboxUnavailable(TracemixError):
    """Generated code would run without isolation; the message says why and what to do."""


@dataclass
class SandboxResult:
    status: str  # passed | failed | timeout
    returncode: int | None
    stdout: str
    stderr: str
    seconds: float
    isolated: bool = True

    @property
    def passed(self) -> bool:
        return self.status == "passed"


def _interpreter() -> tuple[str, str]:
    """(executable, install prefix) of this Python's base installation (a venv's own folder stays outside)."""
    exe = os.path.realpath(getattr(sys, "_base_executable", "") or sys.executable)
    return exe, os.path.realpath(sys.base_prefix)


def _bind_args(prefix: str) -> list[str]:
    """Read-only view of the system and of the Python install at `prefix`, on an otherwise empty root."""
    args: list[str] = []
    for path in _SYSTEM:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for path in _ETC:
        args += ["--ro-bind-try", path, path]
    if not any(prefix == d or prefix.startswith(d + "/") for d in _SYSTEM):
        # parents are created world-traversable: on the host they may be private (/root/.pyenv/...)
        parts = prefix.strip("/").split("/")
        for i in range(1, len(parts)):
            args += ["--perms", "0755", "--dir", "/" + "/".join(parts[:i])]
        args += ["--ro-bind", prefix, prefix]
    return args


def _bwrap_command(bwrap: str, exe: str, prefix: str, tmpfs_mb: int) -> list[str]:
    cmd = [bwrap, "--die-with-parent", "--new-session", "--clearenv"]
    for key, value in _ENV.items():
        cmd += ["--setenv", key, value]
    cmd += _bind_args(prefix)
    size = str(tmpfs_mb << 20)
    cmd += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--size", size, "--tmpfs", "/dev/shm",
            "--perms", "1777", "--size", size, "--tmpfs", "/tmp", "--chdir", "/tmp",
            "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
    python = [exe, "-I", "-S", "-c", _BOOTSTRAP]  # -S: the standard library only, and a fast start
    if os.geteuid() == 0:
        # as root bwrap would map the sandbox uid back onto root; a real setuid to nobody instead
        setpriv = shutil.which("setpriv") or "/usr/bin/setpriv"
        return [*cmd, "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--", setpriv,
                f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--inh-caps=-all",
                "--bounding-set=-all", "--no-new-privs", *python]
    return [*cmd, "--unshare-user", "--uid", str(NOBODY), "--gid", str(NOBODY), "--disable-userns",
            "--cap-drop", "ALL", "--", *python]


@functools.cache
def isolation_problem() -> str | None:
    """None when bubblewrap runs code here; otherwise why not and what to do (checked once per process)."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return ("bubblewrap (`bwrap`) is not installed; install it (Debian/Ubuntu: `apt-get install bubblewrap`, "
                "Fedora: `dnf install bubblewrap`)")
    version = _bwrap_version(bwrap)
    if version is not None and version < (0, 8):
        return (f"bubblewrap {'.'.join(map(str, version))} is too old; the sandbox needs 0.8 or later (tmpfs "
                "--size and --perms)")
    if os.geteuid() == 0 and not (shutil.which("setpriv") or os.path.exists("/usr/bin/setpriv")):
        return "running as root needs `setpriv` (util-linux) to drop to an unprivileged uid inside bubblewrap"
    result = _execute("pass", timeout=20.0, memory_mb=512, max_procs=8, file_mb=1, tmpfs_mb=1, isolated=True)
    if result.passed:
        return None
    detail = (result.stderr.strip() or f"exit status {result.returncode}").splitlines()[-1]
    return (f"bubblewrap cannot start a sandbox here ({detail}); it needs user namespaces "
            "(sysctl kernel.unprivileged_userns_clone=1 and user.max_user_namespaces > 0) or root, a container "
            f"that allows mount namespaces, and this Python's install ({_interpreter()[1]}) readable by all users")


def _bwrap_version(bwrap: str) -> tuple[int, ...] | None:
    try:
        out = subprocess.run([bwrap, "--version"], capture_output=True, text=True, timeout=10).stdout
        return tuple(int(x) for x in out.split()[-1].split(".")[:2])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None  # the probe below reports what is wrong


def require_isolation(unsafe_exec: bool = False) -> None:
    """Raise SandboxUnavailable unless bubblewrap works here or the user explicitly accepted `unsafe_exec`."""
    problem = None if unsafe_exec else isolation_problem()
    if problem:
        raise SandboxUnavailable(f"refusing to run generated code without isolation: {problem}. Pass "
                                 "--unsafe-exec (unsafe_exec=True) to run it anyway as your own user with "
                                 "only resource limits; see docs/sandbox.md")


def run_python(program: str, timeout: float = 10.0, memory_mb: int = 1024, max_procs: int = 32,
               file_mb: int = 16, tmpfs_mb: int = 64, unsafe_exec: bool = False) -> SandboxResult:
    """Run `program` (Python source) in the sandbox. Passed means it ran to its end within `timeout`
    seconds (the sentinel arrived); failed means it raised, exited or was killed; timeout means killed at
    the deadline. Raises SandboxUnavailable when isolation is missing and `unsafe_exec` is False."""
    require_isolation(unsafe_exec)
    return _execute(program, timeout, memory_mb, max_procs, file_mb, tmpfs_mb, isolated=not unsafe_exec)


def _execute(program: str, timeout: float, memory_mb: int, max_procs: int, file_mb: int, tmpfs_mb: int,
             isolated: bool) -> SandboxResult:
    exe, prefix = _interpreter()
    sentinel = secrets.token_hex(16)
    report_r, report_w = os.pipe()
    cfg = {"memory_mb": memory_mb, "cpu_seconds": max(1, int(timeout) + 1), "file_mb": file_mb,
           "max_procs": max_procs, "report_fd": report_w, "sentinel": sentinel}
    payload = json.dumps(cfg).encode() + b"\n" + program.encode("utf-8", errors="replace")
    with contextlib.ExitStack() as stack:
        if isolated:
            cmd, cwd = _bwrap_command(shutil.which("bwrap") or "bwrap", exe, prefix, tmpfs_mb), "/"
        else:
            cmd, cwd = [exe, "-I", "-S", "-c", _BOOTSTRAP], stack.enter_context(
                tempfile.TemporaryDirectory(prefix="tracemix-unsafe-"))
        start = time.monotonic()
        try:
            proc = subprocess.Popen(cmd, cwd=cwd, env=dict(_ENV, HOME=cwd, TMPDIR=cwd) if not isolated else {},
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    pass_fds=(report_w,), start_new_session=True)
        finally:
            os.close(report_w)
        try:
            out, err, report, timed_out = _exchange(proc, payload, report_r, start + timeout)
        finally:
            _kill_group(proc)
    seconds = time.monotonic() - start
    passed = not timed_out and report == sentinel.encode()
    status = "passed" if passed else "timeout" if timed_out else "failed"
    return SandboxResult(status, proc.returncode, _tail(out), _tail(err), round(seconds, 3), isolated)


def _exchange(proc: subprocess.Popen, payload: bytes, report_r: int,
              deadline: float) -> tuple[bytes, bytes, bytes, bool]:
    """Feed stdin and drain stdout, stderr and the report pipe until all close or the deadline passes.

    Only the last _KEEP_BYTES of each stream are held, so a flood of output cannot exhaust memory; after a
    kill the pipes get _GRACE seconds to close, then are abandoned (a stray holder cannot hang eval)."""
    assert proc.stdin and proc.stdout and proc.stderr
    report = os.fdopen(report_r, "rb", buffering=0)
    out, err, rep = bytearray(), bytearray(), bytearray()
    readers = {proc.stdout.fileno(): out, proc.stderr.fileno(): err, report_r: rep}
    sel = selectors.DefaultSelector()
    stdin = proc.stdin.fileno()
    os.set_blocking(stdin, False)
    sel.register(stdin, selectors.EVENT_WRITE)
    for fd in readers:
        sel.register(fd, selectors.EVENT_READ)
    sent, timed_out = 0, False
    try:
        while len(sel.get_map()):
            now = time.monotonic()
            if now >= deadline:
                if timed_out:
                    break  # the grace period after the kill is over
                timed_out = True
                _kill_group(proc)
                deadline = now + _GRACE
                continue
            for key, _ in sel.select(timeout=min(0.5, deadline - now)):
                fd = key.fd
                if fd == stdin:
                    try:
                        sent += os.write(fd, payload[sent:sent + (1 << 16)])
                    except (BrokenPipeError, BlockingIOError, OSError):
                        sent = len(payload)
                    if sent >= len(payload):
                        sel.unregister(fd)
                        proc.stdin.close()
                    continue
                data = os.read(fd, 1 << 16)
                if not data:
                    sel.unregister(fd)
                    continue
                buf = readers[fd]
                buf += data
                if len(buf) > 2 * _KEEP_BYTES:
                    del buf[:-_KEEP_BYTES]
    finally:
        sel.close()
        for stream in (proc.stdin, proc.stdout, proc.stderr, report):
            with contextlib.suppress(OSError):
                stream.close()
    if not timed_out:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=_GRACE)
        timed_out = proc.poll() is None and time.monotonic() >= deadline
    return bytes(out), bytes(err), bytes(rep), timed_out


def _tail(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")[-_OUTPUT_CHARS:]


def _kill_group(proc: subprocess.Popen) -> None:
    # bwrap leads its own process group; --die-with-parent takes the PID namespace down with it
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
