"""Replays: stale cached answers, secrets echoed back by a server, malformed server replies.

Each case runs the real `tracemix` command against a real HTTP server on localhost.
"""

from __future__ import annotations

import json

import pytest

from eval.registry import get_task
from eval.sources import build_prompt, load_examples
from tests.openai_server import FakeOpenAIServer, answer_key
from tracemix import cli

SECRET = "sk-proj-REPLAY-do-not-leak-4d2c9e1f"
N = 4


def replies(wrong: bool) -> dict[str, str]:
    """An oracle for checkpoint A (right answers) or checkpoint B (wrong ones)."""
    task = get_task("coin_flip")
    out = {}
    for ex in load_examples(task, N):
        gold = str(ex.gold).lower()
        out[build_prompt(task, ex)] = f"The answer is {({'yes': 'no', 'no': 'yes'}[gold] if wrong else gold)}."
    return out


def evaluate(server, out, *extra) -> float:
    assert cli.main(["eval", "--model", "served", "--backend", "openai", "--base-url", server.base_url,
                     "--tasks", "coin_flip", "--limit", str(N), "--retries", "0", "--output", str(out),
                     *extra]) == 0
    return json.loads((out / "results.json").read_text())["overall"]["accuracy"]


def test_checkpoint_b_served_under_a_s_name_gets_its_own_answers(tmp_path, capsys):
    with FakeOpenAIServer(answer_key(replies(wrong=False)), model="served") as server:
        assert evaluate(server, tmp_path / "a") == 1.0
        server.reply = answer_key(replies(wrong=True))  # checkpoint B, same served name, nothing else tells
        assert evaluate(server, tmp_path / "b") == 0.0


def test_resuming_a_run_folder_against_another_checkpoint_is_not_served_old_answers(tmp_path):
    card = {"id": "served", "object": "model", "root": "/ckpt/A"}
    with FakeOpenAIServer(answer_key(replies(wrong=False)), model="served", model_card=card) as server:
        assert evaluate(server, tmp_path / "run") == 1.0
        server.reply = answer_key(replies(wrong=True))
        server.model_card = {**card, "root": "/ckpt/B"}  # what vLLM reports for another checkpoint
        assert evaluate(server, tmp_path / "run") == 0.0


def test_shared_cache_is_opt_in_and_keyed_by_revision(tmp_path, capsys):
    shared = str(tmp_path / "shared")
    with FakeOpenAIServer(answer_key(replies(wrong=False)), model="served") as server:
        assert evaluate(server, tmp_path / "a", "--shared-cache", shared, "--model-revision", "A") == 1.0
        n = len(server.requests)
        assert evaluate(server, tmp_path / "a2", "--shared-cache", shared, "--model-revision", "A") == 1.0
        assert len(server.requests) == n  # the same revision in a new run folder: served from the shared cache
        server.reply = answer_key(replies(wrong=True))
        assert evaluate(server, tmp_path / "b", "--shared-cache", shared, "--model-revision", "B") == 0.0
        code = cli.main(["eval", "--model", "served", "--backend", "openai", "--base-url", server.base_url,
                         "--tasks", "coin_flip", "--limit", "1", "--shared-cache", shared,
                         "--output", str(tmp_path / "c")])
    err = capsys.readouterr().err.splitlines()[-1]
    assert code == 2 and err.startswith("error: ") and "shared" in err and "cache needs" in err and "revision" in err


def no_secret_anywhere(tmp_path, captured: str) -> None:
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert files
    for path in files:
        assert SECRET.encode() not in path.read_bytes(), path
    assert SECRET not in captured


def test_a_server_echoing_authorization_leaks_the_key_nowhere(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    with FakeOpenAIServer(answer_key(replies(wrong=False)), model="served", echo_auth=True) as server:
        evaluate(server, tmp_path / "ok")
        assert server.auth_headers[0] == f"Bearer {SECRET}"  # the key was sent, and echoed into every answer
        server.fail_first = 10**6  # now every request fails with an error body quoting the header
        code = cli.main(["eval", "--model", "served", "--backend", "openai", "--base-url", server.base_url,
                         "--tasks", "coin_flip", "--limit", "1", "--retries", "0", "--no-cache",
                         "--output", str(tmp_path / "failed")])
    out = capsys.readouterr()
    assert code == 2 and "you sent Authorization: Bearer ***" in out.err
    no_secret_anywhere(tmp_path, out.out + out.err)


def test_labelling_against_an_echoing_server_leaks_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    docs = tmp_path / "docs.jsonl"
    docs.write_text("".join(json.dumps({"id": str(i), "text": f"[label:general scaffold:0] {i} [fence]"}) + "\n"
                            for i in range(3)) + json.dumps({"id": "x", "text": "[500] down"}) + "\n")
    with FakeOpenAIServer(model="fake-model", echo_auth=True) as server:
        code = cli.main(["classifier", "label", "--input", str(docs), "--base-url", server.base_url, "--model",
                         "fake-model", "--output", str(tmp_path / "labels.jsonl"), "--max-retries", "0", "--quiet"])
    out = capsys.readouterr()
    # echoed text breaks the strict JSON answers: each is reported (in the manifest), never guessed
    assert code == 2 and "no document got a valid label" in out.err
    assert json.loads((tmp_path / "labels.jsonl.manifest.json").read_text())["stats"]["failed"] == 4
    no_secret_anywhere(tmp_path, out.out + out.err)


@pytest.mark.parametrize("mode", ["not-json", "no-choices"])
def test_a_malformed_reply_is_a_clear_error(tmp_path, capsys, mode):
    with FakeOpenAIServer(answer_key(replies(wrong=False)), model="served", malformed=mode) as server:
        code = cli.main(["eval", "--model", "served", "--backend", "openai", "--base-url", server.base_url,
                         "--tasks", "coin_flip", "--limit", "1", "--output", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert f"error: {server.base_url}/chat/completions" in err
    assert ("not JSON" if mode == "not-json" else "no `choices` list") in err
    assert not (tmp_path / "run" / "results.json").exists()
