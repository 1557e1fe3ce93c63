"""The OpenAI-compatible client against a real local HTTP server: retries, limits, caches, redaction."""

from __future__ import annotations

import pickle
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.openai_server import FakeOpenAIServer
from tracemix.errors import RecipeError, TracemixError
from tracemix.openai_client import EndpointError, MalformedReply, OpenAIClient, _retry_after_seconds
from tracemix.redact import redact

FAST = {"backoff": 0.01, "backoff_max": 0.05, "timeout": 5.0}
SECRET = "sk-live-0123456789abcdefXYZ"
ASK = [{"role": "user", "content": "hi"}]


def echo(prompt, body):
    return f"echo {prompt}"


def test_retry_after_is_honoured(tmp_path):
    with FakeOpenAIServer(echo, retry_after="1") as srv:
        client = OpenAIClient(srv.base_url, "fake-model", **FAST)
        start = time.monotonic()
        assert client.chat([{"role": "user", "content": "[429-once] x"}], max_tokens=4).text == "echo [429-once] x"
        assert time.monotonic() - start >= 1.0  # the exponential delay alone would be ~0.01 s
    assert client.stats.retries == 1 and len(srv.requests) == 2


def test_retry_after_longer_than_allowed_is_a_clear_error():
    with FakeOpenAIServer(echo, retry_after="3600") as srv:
        client = OpenAIClient(srv.base_url, "fake-model", max_wait=10, **FAST)
        with pytest.raises(EndpointError, match="asks to wait 3600 s before retrying .* more than the 10 s allowed"):
            client.chat([{"role": "user", "content": "[429-once] x"}], max_tokens=4)
    assert _retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date in the past: retry now
    assert _retry_after_seconds("2.5") == 2.5 and _retry_after_seconds("soon") is None


def test_retries_are_bounded():
    with FakeOpenAIServer(echo, fail_first=10) as srv:
        client = OpenAIClient(srv.base_url, "fake-model", max_retries=2, **FAST)
        with pytest.raises(EndpointError, match=r"failed after 3 attempt\(s\) \(last: HTTP 503: overloaded\)"):
            client.chat(ASK, max_tokens=4)
    assert len(srv.requests) == 3


def test_client_errors_are_not_retried():
    with FakeOpenAIServer(echo) as srv:
        client = OpenAIClient(srv.base_url.replace("/v1", "/v2"), "fake-model", **FAST)
        with pytest.raises(EndpointError, match="v2/chat/completions rejected the request .*HTTP 404.*--base-url") as info:
            client.chat(ASK, max_tokens=4)
    assert info.value.status == 404 and client.stats.requests == 1


def test_concurrency_limit_holds_across_threads():
    with FakeOpenAIServer(echo, delay=0.1) as srv:
        client = OpenAIClient(srv.base_url, "fake-model", concurrency=3, **FAST)
        with ThreadPoolExecutor(4) as pool:  # four callers share one client
            list(pool.map(lambda i: client.map(lambda p: client.complete(p, max_tokens=2), ["a"] * 4), range(4)))
    assert len(srv.requests) == 16 and srv.max_in_flight == 3


def test_timeout_is_a_clear_error():
    with FakeOpenAIServer(echo, delay=1.5) as srv:
        client = OpenAIClient(srv.base_url, "fake-model", max_retries=0, **{**FAST, "timeout": 0.2})
        start = time.monotonic()
        with pytest.raises(EndpointError, match="ReadTimeout"):
            client.chat(ASK, max_tokens=4)
        assert time.monotonic() - start < 1.0


@pytest.mark.parametrize(("mode", "fault"), [
    ("not-json", "answered 200 with a body that is not JSON"),
    ("no-choices", "no `choices` list with at least one choice"),
    ("error-200", "an error object instead of choices"),
    ("content-list", "the answer text is a list, expected a string"),
])
def test_malformed_replies_name_the_endpoint_and_the_fault(mode, fault):
    with FakeOpenAIServer(echo, malformed=mode) as srv:
        client = OpenAIClient(srv.base_url, "fake-model", **FAST)
        with pytest.raises(MalformedReply, match=fault) as info:
            client.chat(ASK, max_tokens=4)
    assert f"{srv.base_url}/chat/completions" in str(info.value)


def test_cache_key_follows_the_served_model_not_its_name(tmp_path):
    card = {"id": "m", "object": "model", "root": "/ckpt/A", "max_model_len": 4096}
    with FakeOpenAIServer(echo, model="m", model_card=card) as srv:
        a = OpenAIClient(srv.base_url, "m", cache_dir=tmp_path, **FAST)
        assert a.identity() == {"model": {"id": "m", "listed": True, "max_model_len": 4096, "root": "/ckpt/A"},
                                "revision": None}
        # `created` changes on every call (as on vLLM): the key must not
        assert a.cache_key({"q": 1}) == OpenAIClient(srv.base_url, "m", cache_dir=tmp_path, **FAST).cache_key({"q": 1})
        a.chat(ASK, max_tokens=4)
        srv.model_card = {**card, "root": "/ckpt/B"}  # another checkpoint, same name
        b = OpenAIClient(srv.base_url, "m", cache_dir=tmp_path, **FAST)
        assert not b.chat(ASK, max_tokens=4).cached and len(srv.requests) == 2
        assert OpenAIClient(srv.base_url, "m", cache_dir=tmp_path, **FAST).chat(ASK, max_tokens=4).cached


def test_shared_cache_needs_a_revision(tmp_path):
    with pytest.raises(RecipeError, match="shared response cache needs a model revision"):
        OpenAIClient("http://127.0.0.1:9/v1", "m", shared_cache_dir=tmp_path)


def test_key_never_kept_pickled_or_shown(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    with FakeOpenAIServer(echo, echo_auth=True) as srv:
        client = OpenAIClient(srv.base_url, "fake-model", max_retries=0, **FAST)
        text = client.chat(ASK, max_tokens=4).text
        assert srv.auth_headers[-1] == f"Bearer {SECRET}" and SECRET not in text and "Bearer ***" in text
        assert SECRET.encode() not in pickle.dumps(client)
        srv.fail_first = 99
        with pytest.raises(EndpointError) as info:
            client.chat(ASK, max_tokens=4)
    assert "you sent Authorization: Bearer ***" in str(info.value) and SECRET not in str(info.value)


def test_remote_endpoint_without_key_fails_before_any_request(monkeypatch):
    monkeypatch.delenv("NOPE_KEY", raising=False)
    with pytest.raises(TracemixError, match="environment variable NOPE_KEY is not set"):
        OpenAIClient("https://api.example.com/v1", "m", api_key_env="NOPE_KEY")


@pytest.mark.parametrize(("text", "shown"), [
    ("Authorization: Bearer abc.def-123", "Authorization: Bearer ***"),
    ('{"authorization": "Basic dXNlcjpwYXNz"}', '{"authorization": "Basic ***"}'),
    ("key sk-proj-AbCdEf0123456789 leaked", "key sk-*** leaked"),
    ("token hf_abcdefghijklmnopqrstuv here", "token hf_*** here"),
    ("https://me:hunter22@host/v1?api_key=s3cr3t&x=1", "https://me:***@host/v1?api_key=***&x=1"),
    ("plain words stay as they are", "plain words stay as they are"),
])
def test_redaction_shapes(text, shown):
    assert redact(text) == shown


def test_redaction_is_linear_on_hostile_text():
    hostile = ("authorization" + " " * 50_000 + ":") * 4 + "Bearer " * 20_000
    start = time.monotonic()
    redact(hostile, ["x" * 40])
    assert time.monotonic() - start < 2.0


def test_identity_is_asked_once_when_many_threads_start_together(tmp_path):
    with FakeOpenAIServer(echo) as srv:
        client = OpenAIClient(srv.base_url, "fake-model", cache_dir=tmp_path, **FAST)
        threads = [threading.Thread(target=client.chat, args=([{"role": "user", "content": str(i)}],),
                                    kwargs={"max_tokens": 2}) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert srv.model_requests == 1 and len(srv.requests) == 8
