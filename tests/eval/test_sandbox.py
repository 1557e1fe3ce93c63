import os
import socket
import threading
import time

import pytest

from eval.sandbox import _drop_uid, _namespace_prefix, check_program, default_interpreter, run_python


def test_passing_and_failing_programs():
    assert run_python("assert sum([1, 2]) == 3\nprint('ok')").passed
    result = run_python("assert 1 == 2")
    assert result.status == "failed" and "AssertionError" in result.stderr


def test_infinite_loop_is_killed_at_the_timeout():
    start = time.monotonic()
    result = run_python("while True:\n    pass", timeout=1.0)
    assert result.status == "timeout"
    assert time.monotonic() - start < 5


def test_fork_bomb_is_contained():
    start = time.monotonic()
    result = run_python("import os\nwhile True:\n    os.fork()", timeout=2.0)
    assert not result.passed
    assert time.monotonic() - start < 6
    assert run_python("print('still fine')").stdout == "still fine\n"


def test_huge_allocation_fails_inside_the_child():
    result = run_python("x = bytearray(50 * 1024**3)", memory_mb=512)
    assert result.status == "failed" and "MemoryError" in result.stderr


def test_code_runs_in_a_fresh_temporary_directory():
    result = run_python("import os\nprint(os.getcwd())\nopen('f.txt', 'w').write('x')")
    assert result.passed and "tracemix-sandbox-" in result.stdout


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


@pytest.mark.parametrize("use_namespaces", [True, False])
def test_network_is_blocked(listener, use_namespaces):
    port, accepted = listener
    code = f"import socket\ns = socket.create_connection(('127.0.0.1', {port}), timeout=2)\nprint('connected')"
    result = run_python(code, timeout=5, use_namespaces=use_namespaces)
    assert not result.passed and "connected" not in result.stdout
    assert accepted == []


@pytest.mark.skipif(not _namespace_prefix(), reason="the kernel refuses new network namespaces here")
def test_network_namespace_has_only_loopback():
    # /proc/net/dev lists the interfaces of the reader's own network namespace
    result = run_python("print(open('/proc/net/dev').read())")
    assert result.passed
    interfaces = [line.split(":")[0].strip() for line in result.stdout.splitlines()[2:] if ":" in line]
    assert interfaces == ["lo"]


def test_humaneval_program_uses_prompt_or_full_function():
    gold = {"prefix": "import math\ndef area(r):\n    \"\"\"Circle area.\"\"\"\n",
            "tests": "def check(f):\n    assert abs(f(1) - math.pi) < 1e-9\n\ncheck(area)\n", "entry_point": "area"}
    assert run_python(check_program("    return math.pi * r * r\n", gold)).passed
    assert run_python(check_program("def area(r):\n    return math.pi * r ** 2\n", gold)).passed
    assert not run_python(check_program("def area(r):\n    return 2 * r\n", gold)).passed


def test_limits_are_set_in_the_child():
    code = ("import os, resource\nprint(resource.getrlimit(resource.RLIMIT_NPROC)[0], "
            "resource.getrlimit(resource.RLIMIT_AS)[0] >> 20, os.getuid())")
    nproc, memory_mb, uid = run_python(code, max_procs=7, memory_mb=300).stdout.split()
    assert (nproc, memory_mb) == ("7", "300")
    if os.geteuid() == 0 and _drop_uid(default_interpreter()):
        assert uid == "65534"  # root would not be held to RLIMIT_NPROC
