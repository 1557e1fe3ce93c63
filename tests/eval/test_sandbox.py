import ast
import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from eval import sandbox
from eval.sandbox import SandboxUnavailable, check_program, isolation_problem, run_python
from tracemix.errors import TracemixError

PROJECT = Path(__file__).resolve().parents[2]


def test_bubblewrap_isolation_is_available_here():
    # CI installs bubblewrap (.ci/run); every other test in this module relies on it
    assert isolation_problem() is None


def test_passing_and_failing_programs():
    result = run_python("assert sum([1, 2]) == 3\nprint('ok')")
    assert (result.status, result.stdout, result.isolated) == ("passed", "ok\n", True)
    result = run_python("assert 1 == 2")
    assert result.status == "failed" and "AssertionError" in result.stderr


@pytest.mark.parametrize("program", [
    "import sys\nsys.exit(0)",
    "raise SystemExit(0)",
    "import os\nos._exit(0)",
    "import atexit, os\natexit.register(lambda: os._exit(0))\nassert 1 == 2",
    "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)",
    "import os\nos.closerange(3, 4096)",  # the report pipe is gone: the sentinel cannot be written
])
def test_an_exit_status_is_never_a_pass(program):
    result = run_python(program)
    assert result.status == "failed", result


def test_the_program_is_not_main():
    # a demo under `if __name__ == "__main__":` that reads stdin must not run
    result = run_python("print(__name__)\nif __name__ == '__main__':\n    print(input())\n")
    assert result.passed and result.stdout == "__solution__\n"


def test_the_sentinel_never_reaches_stdout_and_changes_every_run():
    code = "import sys\nprint(sys.stdin.read())"
    first, second = run_python(code), run_python(code)
    assert first.passed and first.stdout == second.stdout == "\n"


def test_infinite_loop_and_stray_processes_are_killed_at_the_timeout():
    code = ("import os, signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
            "if os.fork() == 0:\n    os.setsid()\n    time.sleep(60)\nwhile True:\n    pass\n")
    start = time.monotonic()
    result = run_python(code, timeout=1.0)
    assert result.status == "timeout"
    assert time.monotonic() - start < 5


def test_a_child_holding_the_pipes_cannot_hang_the_evaluator():
    code = "import os, time\nif os.fork() == 0:\n    time.sleep(60)\nprint('done')"
    start = time.monotonic()
    result = run_python(code, timeout=5.0)
    assert result.passed and result.stdout == "done\n"
    assert time.monotonic() - start < 4  # the PID namespace died with the program


def test_fork_bomb_is_contained():
    start = time.monotonic()
    result = run_python("import os\nwhile True:\n    os.fork()", timeout=2.0)
    assert not result.passed
    assert time.monotonic() - start < 8
    assert run_python("print('still fine')").stdout == "still fine\n"


def test_limits_memory_file_size_and_output_flood():
    result = run_python("x = bytearray(50 * 1024**3)", memory_mb=512)
    assert result.status == "failed" and "MemoryError" in result.stderr
    result = run_python("open('/tmp/big', 'wb').write(b'x' * (8 << 20))", file_mb=4)
    assert result.status == "failed" and "File too large" in result.stderr
    result = run_python("import sys\nfor _ in range(200):\n    sys.stdout.write('y' * (1 << 20))")
    assert result.passed and result.stdout == "y" * 2000  # the tail only; the evaluator held at most 128 kB


def test_runs_as_nobody_with_a_clean_environment_and_private_temp(monkeypatch, tmp_path):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-evaluator-secret")
    marker = Path("/tmp") / f"tracemix-host-marker-{os.getpid()}"
    marker.write_text("host")
    try:
        code = ("import os\nprint(os.getuid(), os.getgid())\nprint(sorted(os.environ))\n"
                "print(os.listdir('/tmp'), os.listdir('/dev/shm'))\nprint(os.getcwd())\n"
                "open('/tmp/mine', 'w').write('x')\nopen('/dev/shm/mine', 'w').write('x')")
        result = run_python(code)
    finally:
        marker.unlink()
    assert result.passed, result.stderr
    ids, env, listing, cwd = result.stdout.splitlines()
    assert ids == "65534 65534"
    assert "OPENAI_API_KEY" not in env and "sk-evaluator-secret" not in result.stdout
    assert listing == "[] []" and cwd == "/tmp"
    assert not Path("/tmp/mine").exists()


@pytest.mark.parametrize("path", [str(PROJECT / "README.md"), str(PROJECT), "/proc/1/environ", "/etc/shadow",
                                  "/etc/hostname", "/var/log"])
def test_the_project_and_host_are_out_of_sight(path):
    result = run_python(f"import os\np = {path!r}\nprint(os.listdir(p) if os.path.isdir(p) else open(p).read())")
    assert result.status == "failed"
    assert "PermissionError" in result.stderr or "FileNotFoundError" in result.stderr


def test_home_shows_at_most_the_way_to_the_interpreter():
    home = str(Path.home())
    result = run_python(f"import os\nprint(os.listdir({home!r}) if os.path.isdir({home!r}) else [])")
    assert result.passed
    prefix = sandbox._interpreter()[1]
    visible = ast.literal_eval(result.stdout)
    expected = [prefix[len(home) + 1:].split("/")[0]] if prefix.startswith(home + "/") else []
    assert visible == expected


def test_the_system_is_read_only():
    result = run_python("open('/usr/lib/tracemix-probe', 'w')")
    assert result.status == "failed" and "Read-only file system" in result.stderr


@pytest.fixture
def listener():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    srv.settimeout(0.2)
    accepted = []

    def serve():
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline:
            try:
                accepted.append(srv.accept()[0])
            except (TimeoutError, OSError):
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield srv.getsockname()[1], accepted
    srv.close()


def test_network_is_unreachable(listener):
    port, accepted = listener
    code = f"import socket\ns = socket.create_connection(('127.0.0.1', {port}), timeout=2)\nprint('connected')"
    result = run_python(code, timeout=5)
    assert not result.passed and "connected" not in result.stdout
    assert accepted == []
    result = run_python("print(open('/proc/net/dev').read())")
    interfaces = [line.split(":")[0].strip() for line in result.stdout.splitlines()[2:] if ":" in line]
    assert interfaces == ["lo"]


@pytest.fixture
def no_bwrap(monkeypatch):
    real_which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None if name == "bwrap" else real_which(name))
    isolation_problem.cache_clear()
    yield
    isolation_problem.cache_clear()


def test_without_isolation_execution_is_refused_unless_asked(no_bwrap):
    with pytest.raises(SandboxUnavailable, match=r"apt-get install bubblewrap.*--unsafe-exec"):
        run_python("print('hi')")
    result = run_python("print('hi')", unsafe_exec=True)
    assert result.passed and not result.isolated
    assert run_python("import sys\nsys.exit(0)", unsafe_exec=True).status == "failed"


def test_a_refused_code_task_fails_before_any_model_is_loaded(no_bwrap, tmp_path):
    from eval import run_eval

    with pytest.raises(SandboxUnavailable, match="refusing to run generated code"):
        run_eval(str(tmp_path / "no-such-model"), "humaneval", output=tmp_path / "run", progress=False)


@pytest.mark.parametrize(("script", "reason"), [
    ("echo 'bwrap: No permissions to create new namespace' >&2\nexit 1", "No permissions to create new namespace"),
    ("echo 'bubblewrap 0.6.1'", "bubblewrap 0.6 is too old"),
])
def test_a_broken_or_old_bwrap_is_reported_with_its_reason(monkeypatch, tmp_path, script, reason):
    fake = tmp_path / "bwrap"
    fake.write_text(f"#!/bin/sh\n{script}\n")
    fake.chmod(0o755)
    real_which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: str(fake) if name == "bwrap" else real_which(name))
    isolation_problem.cache_clear()
    try:
        assert reason in sandbox.isolation_problem()
    finally:
        isolation_problem.cache_clear()


def test_humaneval_program_uses_prompt_or_full_function():
    gold = {"prefix": "import math\ndef area(r):\n    \"\"\"Circle area.\"\"\"\n",
            "tests": "def check(f):\n    assert abs(f(1) - math.pi) < 1e-9\n\ncheck(area)\n", "entry_point": "area"}
    assert run_python(check_program("    return math.pi * r * r\n", gold)).passed
    assert run_python(check_program("def area(r):\n    return math.pi * r ** 2\n", gold)).passed
    assert not run_python(check_program("def area(r):\n    return 2 * r\n", gold)).passed
    assert not run_python(check_program("    import sys\n    sys.exit(0)\n", gold)).passed


def test_limits_are_set_in_the_child():
    code = ("import resource\nprint(resource.getrlimit(resource.RLIMIT_NPROC)[0], "
            "resource.getrlimit(resource.RLIMIT_AS)[0] >> 20, resource.getrlimit(resource.RLIMIT_FSIZE)[1] >> 20)")
    assert run_python(code, max_procs=7, memory_mb=300, file_mb=3).stdout.split() == ["7", "300", "3"]


def test_cli_unsafe_exec_is_the_explicit_way_around_a_refusal(no_bwrap, tmp_path):
    import json

    from eval.cli import main
    from tests.openai_server import FakeOpenAIServer

    problem = {"task_id": "T/0", "prompt": "def add(a, b):\n    \"\"\"a + b\"\"\"\n", "entry_point": "add",
               "test": "def check(f):\n    assert f(2, 3) == 5\n"}
    (tmp_path / "t.jsonl").write_text(json.dumps(problem) + "\n")
    (tmp_path / "t.yaml").write_text(
        f"name: t\ndomain: code\nsource: jsonl:{tmp_path / 't.jsonl'}\nprompt: '{{prompt}}'\nanswer_type: code\n"
        "gold_transform: humaneval\nmetric: pass@1\nid_field: task_id\n")
    argv = ["--model", "m", "--tasks", str(tmp_path / "t.yaml"), "--backend", "openai", "--no-cache",
            "--output", str(tmp_path / "run")]
    with FakeOpenAIServer(lambda prompt, body: "```python\ndef add(a, b):\n    return a + b\n```") as server:
        with pytest.raises(TracemixError, match="refusing to run generated code.*--unsafe-exec"):
            main([*argv, "--base-url", server.base_url])
        assert main([*argv, "--base-url", server.base_url, "--unsafe-exec"]) == 0
    (sample,) = [json.loads(line) for line in (tmp_path / "run" / "samples.jsonl").read_text().splitlines()]
    assert sample["correct"] and sample["details"]["isolated"] is False
