import ast
import json
import random

import pytest

from curation.demo.data import iter_chats, iter_documents, main, write_demo
from curation.demo.templates.code import python_module
from tracemix.domains import DOMAINS
from tracemix.errors import DataError


def test_same_seed_same_corpus_and_prefix_stable():
    a = list(iter_documents(200, seed=7))
    b = list(iter_documents(200, seed=7))
    assert a == b
    assert list(iter_documents(50, seed=7)) == a[:50]  # asking for more never changes the first ones
    c = list(iter_documents(200, seed=8))
    assert [d["text"] for d in a] != [d["text"] for d in c]
    assert list(iter_chats(30, seed=7)) == list(iter_chats(30, seed=7))


def test_contract_fields_and_label_coverage():
    docs = list(iter_documents(400, seed=0))
    assert len({d["id"] for d in docs}) == 400
    for d in docs:
        assert set(d) == {"id", "text", "source", "label", "scaffold"}
        assert d["source"] == "demo" and d["label"] in DOMAINS and isinstance(d["scaffold"], bool)
        assert d["text"].strip()
    for label in DOMAINS:
        flags = {d["scaffold"] for d in docs if d["label"] == label}
        assert flags == {True, False}, label
    assert [d["label"] for d in iter_documents(4, seed=3)] == list(DOMAINS)  # tiny corpora cover all


def test_documents_are_varied():
    docs = list(iter_documents(600, seed=1))
    for label in DOMAINS:
        texts = [d["text"] for d in docs if d["label"] == label]
        assert len(set(texts)) >= 0.98 * len(texts), label  # short templates may rarely repeat
        first_lines = {t.strip().splitlines()[0][:20] for t in texts}
        assert len(first_lines) >= 10, (label, first_lines)


def test_generated_python_modules_parse():
    for seed in range(40):
        ast.parse(python_module(random.Random(seed), scaffold=seed % 2 == 0))


def test_chats_are_messages_style():
    chats = list(iter_chats(120, seed=0))
    assert {c["label"] for c in chats} == {"code_text", "math_text", "general"}
    for chat in chats:
        assert chat["source"] == "demo-chat"
        roles = [m["role"] for m in chat["messages"]]
        assert set(roles) <= {"system", "user", "assistant"}
        assert roles[-1] == "assistant" and "user" in roles
        assert all(isinstance(m["content"], str) and m["content"] for m in chat["messages"])
    coding = [c for c in chats if c["label"] == "code_text"]
    assert all("```" in c["messages"][-1]["content"] or "```" in c["messages"][-3]["content"] for c in coding)


def test_cli_writes_files_and_manifest(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["--output", str(out), "--docs", "40", "--chats", "10", "--seed", "5"]) == 0
    lines = (out / "corpus.jsonl").read_text().splitlines()
    assert len(lines) == 40
    assert len((out / "chats.jsonl").read_text().splitlines()) == 10
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"] == {"docs": 40, "chats": 10, "seed": 5, "generator": "demo-v1"}
    assert sum(row["total"] for row in manifest["documents"].values()) == 40
    assert manifest["files"]["corpus.jsonl"]["sha256"]
    assert "documents" in capsys.readouterr().out
    # same command, same bytes
    again = tmp_path / "again"
    main(["--output", str(again), "--docs", "40", "--chats", "10", "--seed", "5"])
    assert (again / "corpus.jsonl").read_bytes() == (out / "corpus.jsonl").read_bytes()


def test_bad_arguments(tmp_path):
    with pytest.raises(DataError, match="--docs"):
        write_demo(tmp_path / "x", docs=-1)
    afile = tmp_path / "file"
    afile.write_text("x")
    with pytest.raises(DataError, match="not a folder"):
        write_demo(afile, docs=1)
