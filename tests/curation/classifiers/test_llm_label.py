"""LLM labelling against a real local OpenAI-compatible HTTP server."""

from __future__ import annotations

import pickle
import re

import pytest

from curation.classifiers.llm_label import (
    MAX_CHARS,
    PROMPT_VERSION,
    SYSTEM_PROMPT,
    InvalidAnswer,
    LLMAnswerError,
    LLMClassifier,
    LLMLabel,
    label_records,
    parse_answer,
)
from tests.openai_server import FakeOpenAIServer
from tracemix.errors import TracemixError

FAST = {"backoff_base": 0.01, "backoff_max": 0.05, "timeout": 10.0}


@pytest.fixture
def server():
    with FakeOpenAIServer() as srv:
        yield srv


def make(server, tmp_path, **kw) -> LLMClassifier:
    return LLMClassifier(server.base_url, "fake-model", cache_dir=tmp_path / "cache", **{**FAST, **kw})


@pytest.mark.parametrize("reply, expected", [
    ('{"domain": "math_text", "scaffold": 3, "reason": "steps"}', LLMLabel("math_text", 3, "steps")),
    ('  {"domain": "general", "scaffold": 0}\n', LLMLabel("general", 0, "")),
    ('```json\n{"domain": "pure_code", "scaffold": 1, "reason": "a module"}\n```', LLMLabel("pure_code", 1, "a module")),
    ('```\n{"domain": "code_text", "scaffold": 2.0, "reason": ""}\n```', LLMLabel("code_text", 2, "")),
])
def test_parse_answer_accepts_strict_json(reply, expected):
    assert parse_answer(reply) == expected


@pytest.mark.parametrize("reply, error", [
    ("The domain is math_text.", "not JSON"),
    ('Sure! {"domain": "general", "scaffold": 0}', "not JSON"),
    ('{"domain": "math", "scaffold": 1}', "domain 'math' is not one of"),
    ('{"domain": "general", "scaffold": 4}', "scaffold 4 is not an integer in 0..3"),
    ('{"domain": "general", "scaffold": true}', "scaffold True"),
    ('{"domain": "general", "scaffold": 0.5}', "scaffold 0.5"),
    ('{"domain": "general", "scaffold": 0, "confidence": 0.9}', "unexpected keys ['confidence']"),
    ('["general", 0]', "a JSON list"),
    ('```python\n{"domain": "general", "scaffold": 0}\n```', "code fence other than"),
])
def test_parse_answer_rejects_anything_else(reply, error):
    with pytest.raises(InvalidAnswer, match=re.escape(error)):
        parse_answer(reply)


def test_prompt_is_documented_and_versioned():
    for domain in ("pure_code", "code_text", "math_text", "general"):
        assert f'"{domain}"' in SYSTEM_PROMPT
    assert '"scaffold"' in SYSTEM_PROMPT and PROMPT_VERSION


def test_labels_are_exact_and_fence_is_tolerated(server, tmp_path):
    clf = make(server, tmp_path)
    assert clf.label("Prove it. [label:math_text scaffold:3]") == LLMLabel("math_text", 3, "planted label")
    assert clf.predict("def f(): pass [label:pure_code scaffold:0] [fence]") == {
        "pure_code": 1.0, "code_text": 0.0, "math_text": 0.0, "general": 0.0}
    assert clf.scaffold("Steps [label:math_text scaffold:2]") == pytest.approx(2 / 3)
    assert clf.name == "llm:fake-model"
    body = server.requests[0]
    assert body["model"] == "fake-model" and body["temperature"] == 0.0
    assert body["messages"][0] == {"role": "system", "content": SYSTEM_PROMPT}


def test_429_then_success_is_retried(server, tmp_path):
    clf = make(server, tmp_path)
    assert clf.label("busy [429-once] [label:code_text scaffold:1]").domain == "code_text"
    assert len(server.requests) == 2
    assert clf.stats.transport_retries == 1 and clf.stats.requests == 3  # GET /models (the cache key), 2 POSTs


def test_500_once_recovers_and_500_always_fails_after_max_retries(server, tmp_path):
    clf = make(server, tmp_path, max_retries=2)
    assert clf.label("flaky [500-once] [label:general scaffold:0]").domain == "general"
    server.reset_counts()
    with pytest.raises(LLMAnswerError, match=r"failed after 3 attempt\(s\) \(last: HTTP 500: internal error\)"):
        clf.label("broken [500] [label:general scaffold:0]")
    assert len(server.requests) == 3  # 1 + max_retries, then a reported failure, never a guess


def test_invalid_answers_are_reasked_then_reported(server, tmp_path):
    clf = make(server, tmp_path, max_invalid_retries=2)
    assert clf.label("odd [invalid-once] [label:pure_code scaffold:0]").domain == "pure_code"
    # the re-ask shows the model its answer and the parse error
    repair = server.requests[1]["messages"]
    assert [m["role"] for m in repair] == ["system", "user", "assistant", "user"]
    assert "not valid (not JSON" in repair[3]["content"]
    server.reset_counts()
    with pytest.raises(LLMAnswerError, match="no valid answer after 3 tries"):
        clf.label("hopeless [invalid]")
    assert len(server.requests) == 3
    assert clf.stats.invalid_answers == 4
    # failures are not cached: the next run asks again
    server.reset_counts()
    with pytest.raises(LLMAnswerError):
        clf.label("hopeless [invalid]")
    assert len(server.requests) == 3


def test_cache_makes_a_rerun_free(server, tmp_path):
    texts = [f"doc {i} [label:{d} scaffold:{i % 4}]" for i, d in enumerate(["general", "math_text"] * 5)]
    first = make(server, tmp_path).label_many(texts)
    assert len(server.requests) == 10
    server.reset_counts()
    rerun = make(server, tmp_path)  # a fresh object, as in a new process: only the disk cache is shared
    assert rerun.label_many(texts) == first
    assert len(server.requests) == 0
    assert rerun.stats.cache_hits == 10 and rerun.stats.requests == 1  # one GET /models: the model's identity
    # another model, or a longer text, is a different question
    other = LLMClassifier(server.base_url, "other-model", cache_dir=tmp_path / "cache", **FAST)
    other.label(texts[0])
    assert len(server.requests) == 1


def test_concurrency_is_limited(tmp_path):
    with FakeOpenAIServer(delay=0.15) as srv:
        clf = make(srv, tmp_path, max_concurrency=3)
        labels = clf.label_many([f"doc {i} [label:general scaffold:0]" for i in range(12)])
    assert all(label.domain == "general" for label in labels)
    assert len(srv.requests) == 12
    assert srv.max_in_flight == 3


def test_duplicates_are_asked_once_and_long_texts_truncated(server, tmp_path):
    clf = make(server, tmp_path, max_chars=50)
    tail_a, tail_b = "a" * 100, "b" * 100
    same = "[label:general scaffold:0] " + "x" * 40
    labels = clf.label_many([same + tail_a, same + tail_b, same + tail_a])
    assert len(server.requests) == 1  # identical after truncation to 50 characters
    assert len(set(labels)) == 1
    user = server.requests[0]["messages"][1]["content"]
    assert tail_a not in user and "x" * 23 in user
    assert MAX_CHARS == 6000


def test_label_records_yields_rows_and_reports_failures(server, tmp_path):
    clf = make(server, tmp_path, max_retries=1)
    records = [{"id": "a", "text": "[label:math_text scaffold:3] proof"},
               {"id": "b", "text": "down [500]"},
               {"id": "c", "text": "[label:pure_code scaffold:0] code [fence]"}]
    rows = list(label_records(records, clf, progress=False))
    assert rows == [
        {"id": "a", "text": records[0]["text"], "label": "math_text", "scaffold": 1.0, "scaffold_rating": 3,
         "reason": "planted label", "labeler": "llm:fake-model"},
        {"id": "c", "text": records[2]["text"], "label": "pure_code", "scaffold": 0.0, "scaffold_rating": 0,
         "reason": "planted label", "labeler": "llm:fake-model"},
    ]
    assert clf.stats.failed == 1 and clf.stats.failures[0]["id"] == "b"
    assert "500" in clf.stats.failures[0]["error"] or "internal" in clf.stats.failures[0]["error"]


def test_auth_errors_stop_the_run_with_a_clear_message(server, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-topsecret-123")
    clf = LLMClassifier(server.base_url.replace("/v1", "/nope"), "fake-model", cache_dir=None, **FAST)
    with pytest.raises(TracemixError, match="rejected the request for model 'fake-model' \\(HTTP 404.*check --base-url") as info:
        clf.label("[label:general scaffold:0]")
    assert "sk-topsecret-123" not in str(info.value)


def test_missing_key_for_a_remote_endpoint_fails_fast(monkeypatch):
    monkeypatch.delenv("MY_KEY", raising=False)
    with pytest.raises(TracemixError, match="environment variable MY_KEY is not set"):
        LLMClassifier("https://api.example.com/v1", "gpt-x", api_key_env="MY_KEY")


def test_classifier_pickles_without_the_key(server, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-topsecret-456")
    clf = make(server, tmp_path)
    clf.label("[label:code_text scaffold:1] warm up the client")
    blob = pickle.dumps(clf)
    assert b"sk-topsecret-456" not in blob
    clone = pickle.loads(blob)
    assert clone.predict("[label:general scaffold:0] fresh")["general"] == 1.0
    assert server.auth_headers[-1] == "Bearer sk-topsecret-456"  # the key is used, just never kept
