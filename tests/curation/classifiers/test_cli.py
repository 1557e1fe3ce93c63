"""`tracemix classifier label|train` end to end: a real local endpoint labels, fastText distils."""

from __future__ import annotations

import json
import logging
import random

import pytest

from curation.classifiers.cli import main
from curation.classifiers.fasttext_tagger import FastTextClassifier
from tests.curation.classifiers.test_fasttext_tagger import synthetic_corpus
from tests.openai_server import FakeOpenAIServer
from tracemix.cli import main as tracemix_main
from tracemix.errors import DataError, TracemixError

SECRET = "sk-test-DO-NOT-LEAK-7f3a9c"
FAST_FT = ["--dim", "16", "--bucket", "20000", "--epoch", "15"]


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def planted(records):
    """Documents whose text carries the label the fake endpoint should answer with."""
    return [{"id": r["id"], "text": f"{r['text']}\n[label:{r['label']} scaffold:{i % 4}]"}
            for i, r in enumerate(records)]


def test_label_then_train_then_predict(tmp_path, monkeypatch, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    corpus = synthetic_corpus(240, seed=1)
    inp = write_jsonl(tmp_path / "raw.jsonl", planted(corpus))
    with inp.open("a") as f:  # bad lines are counted and skipped, not fatal
        f.write("{not json\n")
        f.write(json.dumps({"id": "empty", "text": "   "}) + "\n")
    (tmp_path / "chats").mkdir()
    chats = write_jsonl(tmp_path / "chats" / "c.jsonl", [
        {"id": "chat-0", "messages": [{"role": "user", "content": "How do I sort? [label:code_text scaffold:1]"},
                                      {"role": "assistant", "content": "Use sorted(xs)."}]}])
    labeled = tmp_path / "labels" / "llm.jsonl"
    with FakeOpenAIServer() as srv:
        argv = ["label", "--input", str(inp), "--base-url", srv.base_url, "--model", "fake-model",
                "--output", str(labeled), "--max-concurrency", "4", "--quiet"]
        assert main(argv) == 0
        assert len(srv.requests) == 240
        assert set(srv.auth_headers) == {f"Bearer {SECRET}"}
        rows = [json.loads(line) for line in labeled.read_text().splitlines()]
        assert [r["id"] for r in rows] == [r["id"] for r in corpus]  # input order
        assert [r["label"] for r in rows] == [r["label"] for r in corpus]
        assert set(rows[0]) == {"id", "text", "label", "scaffold", "scaffold_rating", "reason", "labeler"}
        assert rows[5]["scaffold"] == pytest.approx(1 / 3) and rows[5]["labeler"] == "llm:fake-model"
        manifest = json.loads((tmp_path / "labels" / "llm.jsonl.manifest.json").read_text())
        assert manifest["labeled"] == 240 and manifest["stats"]["failed"] == 0
        assert manifest["bad_input"] == {"malformed_json": 1, "empty_text": 1}
        assert manifest["config"]["model"] == "fake-model" and "git_commit" in manifest

        # a rerun of the same command (a resume) pays nothing: its cache sits next to its output
        srv.reset_counts()
        assert main(argv) == 0
        assert len(srv.requests) == 0 and (tmp_path / "labels" / "llm.jsonl.cache").is_dir()
        assert manifest["config"]["model_identity"] == {"id": "fake-model", "listed": True, "owned_by": "tests"}

        # chats are labelled as a whole
        assert main(["label", "--input", str(chats), "--base-url", srv.base_url, "--model", "fake-model",
                     "--output", str(tmp_path / "chat_labels.jsonl"), "--quiet"]) == 0
        chat_row = json.loads((tmp_path / "chat_labels.jsonl").read_text())
        assert chat_row["label"] == "code_text"
        assert chat_row["text"].startswith("user: How do I sort?") and "\n\nassistant: Use sorted" in chat_row["text"]

    model = tmp_path / "domain.bin"
    assert main(["train", "--labels", str(labeled), "--output", str(model), "--valid-fraction", "0.25",
                 *FAST_FT]) == 0
    out = capsys.readouterr()
    assert "accuracy" in out.out and "macro-F1" in out.out and "confusion matrix" in out.out
    metrics = json.loads((tmp_path / "domain.bin.metrics.json").read_text())
    assert metrics["accuracy"] >= 0.8
    assert metrics["config"]["labels"] == str(labeled) and metrics["model_sha256"]
    assert str(labeled) in metrics["parents"]
    clf = FastTextClassifier(model)
    assert max(clf.predict(corpus[0]["text"]).items(), key=lambda kv: kv[1])[0] == corpus[0]["label"]

    # the key is in no file and no output
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    assert SECRET not in out.out + out.err
    assert SECRET not in caplog.text


def test_train_accepts_the_demo_corpus_folder(tmp_path, capsys):
    rng = random.Random(0)
    rows = synthetic_corpus(200, seed=2)
    for r in rows:
        r.update(source="demo", scaffold=rng.random() < 0.5)
    (tmp_path / "demo").mkdir()
    write_jsonl(tmp_path / "demo" / "corpus.jsonl", rows)
    (tmp_path / "demo" / "manifest.json").write_text("{}")
    assert main(["train", "--labels", str(tmp_path / "demo"), "--output", str(tmp_path / "m.bin"), *FAST_FT]) == 0
    captured = capsys.readouterr()
    assert "held-out" in captured.out and "not read: manifest.json  (a tracemix folder's metadata)" in captured.err


def test_train_errors_name_the_record(tmp_path, capsys):
    bad = write_jsonl(tmp_path / "bad.jsonl", [{"id": "x1", "text": "hello", "label": "poetry"}])
    with pytest.raises(DataError, match=r"bad.jsonl: 'x1': label 'poetry' is not a domain"):
        main(["train", "--labels", str(bad), "--output", str(tmp_path / "m.bin")])
    unlabeled = write_jsonl(tmp_path / "unlabeled.jsonl", [{"id": "u1", "text": "hello"}])
    with pytest.raises(DataError, match="document 'u1' has no 'label' field"):
        main(["train", "--labels", str(unlabeled), "--output", str(tmp_path / "m.bin")])
    # through the dispatcher: message without traceback, exit status 2
    assert tracemix_main(["classifier", "train", "--labels", str(bad), "--output", str(tmp_path / "m.bin")]) == 2
    assert "error:" in capsys.readouterr().err
    assert not (tmp_path / "m.bin").exists()


def test_label_reports_failures_and_fails_when_nothing_is_labelled(tmp_path, monkeypatch, capsys):
    inp = write_jsonl(tmp_path / "in.jsonl", [{"id": "ok", "text": "[label:general scaffold:0] fine"},
                                             {"id": "bad", "text": "[invalid] always prose"}])
    with FakeOpenAIServer() as srv:
        base = ["--base-url", srv.base_url, "--model", "fake-model", "--quiet"]
        assert main(["label", "--input", str(inp), "--output", str(tmp_path / "out.jsonl"), *base]) == 0
        manifest = json.loads((tmp_path / "out.jsonl.manifest.json").read_text())
        assert manifest["stats"]["failed"] == 1 and manifest["stats"]["failures"][0]["id"] == "bad"
        assert manifest["stats"]["invalid_answers"] == 3
        assert "1 documents got no valid label" in capsys.readouterr().err
        only_bad = write_jsonl(tmp_path / "bad.jsonl", [{"id": "bad", "text": "[invalid] always prose"}])
        with pytest.raises(DataError, match="no document got a valid label"):
            main(["label", "--input", str(only_bad), "--output", str(tmp_path / "none.jsonl"), *base])


def test_label_limit_and_missing_text_field(tmp_path):
    inp = write_jsonl(tmp_path / "in.jsonl", [{"id": str(i), "text": f"[label:general scaffold:0] {i}"}
                                             for i in range(10)])
    with FakeOpenAIServer() as srv:
        base = ["--base-url", srv.base_url, "--model", "fake-model", "--quiet"]
        assert main(["label", "--input", str(inp), "--output", str(tmp_path / "o.jsonl"), "--limit", "3", *base]) == 0
        assert len(srv.requests) == 3
        ids = []
        for run, seed in enumerate((7, 7, 8)):
            out = tmp_path / f"s{run}.jsonl"
            assert main(["label", "--input", str(inp), "--output", str(out), "--sample", "4", "--seed", str(seed),
                         *base]) == 0
            ids.append([json.loads(line)["id"] for line in out.read_text().splitlines()])
        assert len(ids[0]) == 4 and ids[0] == ids[1] and ids[0] != ids[2]
        assert ids[0] == sorted(ids[0], key=int)  # input order kept
        nokey = write_jsonl(tmp_path / "nokey.jsonl", [{"id": "1", "body": "x"}])
        with pytest.raises(DataError, match="'text'"):
            main(["label", "--input", str(nokey), "--output", str(tmp_path / "n.jsonl"), *base])


def test_label_fails_fast_when_the_endpoint_is_down(tmp_path):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inp = write_jsonl(tmp_path / "in.jsonl", [{"id": "1", "text": "hello"}])
    with pytest.raises(TracemixError, match=f"cannot reach http://127.0.0.1:{port}/v1"):
        main(["label", "--input", str(inp), "--base-url", f"http://127.0.0.1:{port}/v1", "--model", "m",
              "--output", str(tmp_path / "o.jsonl"), "--quiet"])
    assert not (tmp_path / "o.jsonl").exists()


def test_reservoir_sample_is_uniform_and_ordered():
    from collections import Counter

    from curation.classifiers.cli import reservoir_sample

    assert reservoir_sample(range(3), 5, 0) == [0, 1, 2]
    hits = Counter(i for seed in range(2000) for i in reservoir_sample(range(10), 3, seed))
    assert all(abs(hits[i] / 2000 - 0.3) < 0.05 for i in range(10))  # each item kept with probability 3/10
