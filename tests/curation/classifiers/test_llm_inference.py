"""The labelling step on datatrove's InferenceRunner: rollout, adapter, and the pipeline builder."""

from __future__ import annotations

import asyncio
import importlib.util
import json

import pytest
from datatrove.data import Document
from datatrove.pipeline.inference.types import InferenceResult

from curation.classifiers.llm_inference import build_label_pipeline, label_rollout, labeled_row
from tests.openai_server import FakeOpenAIServer
from tracemix.errors import TracemixError

HAVE_DEPS = all(importlib.util.find_spec(m) is not None for m in ("httpx", "aiofiles"))


def scripted(*replies):
    """A datatrove `generate` callback that answers with the given texts and records the payloads."""
    sent = []

    async def generate(payload):
        sent.append(payload)
        return InferenceResult(text=replies[len(sent) - 1], finish_reason="stop", usage={})

    return generate, sent


def test_rollout_parses_and_reasks_once():
    doc = Document(text="x" * 10_000, id="d1")
    generate, sent = scripted("not json", '{"domain": "math_text", "scaffold": 2, "reason": "steps"}')
    out = asyncio.run(label_rollout(doc, generate, model="m", max_chars=100))
    assert out == {"label": "math_text", "scaffold": pytest.approx(2 / 3), "scaffold_rating": 2,
                   "reason": "steps", "labeler": "llm:m"}
    assert len(sent[0]["messages"][1]["content"]) < 130  # truncated to max_chars plus the frame
    assert [m["role"] for m in sent[1]["messages"]] == ["system", "user", "assistant", "user"]
    generate, sent = scripted("nope", "still nope")
    assert asyncio.run(label_rollout(doc, generate, model="m")) is None
    assert len(sent) == 2


def test_adapter_writes_labeled_rows():
    doc = Document(text="t", id="d1", metadata={"rollout_results": [{"label": "general", "scaffold": 0.0}]})
    assert labeled_row(None, doc) == {"id": "d1", "text": "t", "label": "general", "scaffold": 0.0}


def test_builder_validates_its_arguments(tmp_path):
    with pytest.raises(TracemixError, match="server_type must be one of"):
        build_label_pipeline("in", str(tmp_path), "m", server_type="sglang2")
    with pytest.raises(TracemixError, match="needs endpoint_url"):
        build_label_pipeline("in", str(tmp_path), "m", server_type="endpoint")
    if importlib.util.find_spec("vllm") is None:
        with pytest.raises(TracemixError, match="vllm.*tracemix\\[vllm\\]"):
            build_label_pipeline("in", str(tmp_path), "m", server_type="vllm")


def test_pipeline_against_a_running_endpoint(tmp_path):
    inp = tmp_path / "in.jsonl"
    inp.write_text("".join(json.dumps({"id": f"d{i}", "text": f"doc {i} [label:pure_code scaffold:1]"}) + "\n"
                           for i in range(5)))
    with FakeOpenAIServer() as srv:
        endpoint = srv.base_url.removesuffix("/v1")
        if not HAVE_DEPS:
            # datatrove polls readiness with httpx and writes with aiofiles: the builder says so up front.
            with pytest.raises(TracemixError, match="needs .*pip install"):
                build_label_pipeline(str(inp), str(tmp_path / "out"), "fake-model", server_type="endpoint",
                                     endpoint_url=endpoint)
            return
        from datatrove.executor import LocalPipelineExecutor

        pipeline = build_label_pipeline(str(inp), str(tmp_path / "out"), "fake-model", server_type="endpoint",
                                        endpoint_url=endpoint)
        LocalPipelineExecutor(pipeline, tasks=1, logging_dir=str(tmp_path / "logs")).run()
    rows = [json.loads(line) for line in (tmp_path / "out" / "00000.jsonl").read_text().splitlines()]
    assert sorted(r["id"] for r in rows) == [f"d{i}" for i in range(5)]
    assert {r["label"] for r in rows} == {"pure_code"} and {r["labeler"] for r in rows} == {"llm:fake-model"}


def test_endpoint_is_checked_before_any_task(tmp_path):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(TracemixError, match=f"cannot reach http://127.0.0.1:{port}/v1/models"):
        build_label_pipeline("in", str(tmp_path / "out"), "m", server_type="endpoint",
                             endpoint_url=f"http://127.0.0.1:{port}")
