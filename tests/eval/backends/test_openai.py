import json
import time

import pytest

from eval import run_eval
from eval.backends.openai import EndpointError, OpenAIBackend
from eval.registry import resolve
from eval.sources import build_prompt, load_examples
from tests.openai_server import FakeOpenAIServer, answer_key

LIMIT = 5


def gold_replies(spec: str, wrong: bool = False) -> dict[str, str]:
    replies = {}
    for task in resolve(spec):
        for ex in load_examples(task, LIMIT):
            replies[build_prompt(task, ex)] = "The answer is 999999 qqq." if wrong else f"The answer is {ex.gold}."
    return replies


@pytest.mark.parametrize(("wrong", "expected"), [(False, 1.0), (True, 0.0)])
def test_symbolic_suite_scores_exactly(tmp_path, wrong, expected):
    with FakeOpenAIServer(answer_key(gold_replies("symbolic", wrong))) as server:
        results = run_eval("served-model", "symbolic", backend="openai", base_url=server.base_url,
                           output=tmp_path / "run", limit=LIMIT, cache_dir=tmp_path / "cache", progress=False)
    assert results["overall"]["accuracy"] == expected
    assert all(t["accuracy"] == expected and t["n"] == LIMIT for t in results["tasks"].values())
    assert results["domains"]["symbolic"]["accuracy"] == expected
    assert len(server.requests) == 4 * LIMIT
    assert server.requests[0]["temperature"] == 0.0


def test_cache_answers_a_rerun_without_requests(tmp_path):
    with FakeOpenAIServer(lambda prompt, body: "The answer is 7.") as server:
        backend = OpenAIBackend("m", base_url=server.base_url, cache_dir=tmp_path, progress=False)
        first = backend.generate(["a", "b"], 16)
        second = backend.generate(["a", "b"], 16)
    assert first == second == ["The answer is 7.", "The answer is 7."]
    assert len(server.requests) == 2 and backend.cache_hits == 2


def test_transient_failures_are_retried(tmp_path):
    with FakeOpenAIServer(lambda prompt, body: "ok", fail_first=2) as server:
        backend = OpenAIBackend("m", base_url=server.base_url, cache_dir=None, backoff=0.01, progress=False)
        assert backend.generate(["x"], 4) == ["ok"]
    assert len(server.requests) == 3


def test_concurrency_overlaps_requests():
    with FakeOpenAIServer(lambda prompt, body: "ok", delay=0.5) as server:
        backend = OpenAIBackend("m", base_url=server.base_url, cache_dir=None, concurrency=8, progress=False)
        start = time.monotonic()
        backend.generate([str(i) for i in range(8)], 4)
        elapsed = time.monotonic() - start
    assert server.max_in_flight >= 4 and elapsed < 0.5 * 8 * 0.75  # sequential would take 4 s


def test_unreachable_endpoint_is_a_clear_error():
    backend = OpenAIBackend("m", base_url="http://127.0.0.1:9/v1", cache_dir=None, max_retries=1, backoff=0.01,
                            progress=False)
    with pytest.raises(EndpointError, match=r"cannot reach http://127\.0\.0\.1:9/v1/chat/completions: failed "
                                            r"after 2 attempt\(s\).*--base-url"):
        backend.generate(["x"], 4)


def test_api_key_comes_from_the_environment_and_is_never_written(tmp_path, monkeypatch):
    secret = "sk-test-0123456789abcdef"
    monkeypatch.setenv("MY_EVAL_KEY", secret)
    with FakeOpenAIServer(answer_key(gold_replies("coin_flip"))) as server:
        run_eval("m", "coin_flip", backend="openai", base_url=server.base_url, api_key_env="MY_EVAL_KEY",
                 output=tmp_path / "run", limit=2, cache_dir=tmp_path / "cache", progress=False)
    assert server.headers[0]["authorization"] == f"Bearer {secret}"
    written = [p.read_text() for p in tmp_path.rglob("*") if p.is_file()]
    assert written and not any(secret in text for text in written)


def test_completions_mode(tmp_path):
    with FakeOpenAIServer(lambda prompt, body: f"echo {prompt}") as server:
        backend = OpenAIBackend("m", base_url=server.base_url, chat=False, cache_dir=None, progress=False)
        assert backend.generate(["hello"], 4) == ["echo hello"]
    assert "prompt" in server.requests[0] and json.dumps(server.requests[0])
