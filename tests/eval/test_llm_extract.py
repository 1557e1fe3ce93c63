import json

from eval import run_eval
from eval.llm_extract import SYSTEM, LLMExtractor, extraction_prompt
from eval.registry import get_task
from eval.sources import build_prompt, load_examples
from tests.openai_server import FakeOpenAIServer, answer_key


def test_llm_extractor_reads_the_answer_and_rules_normalise_it(tmp_path):
    task = get_task("gsm8k")
    replies = {"Q1": " $1,200. ", "Q2": "NONE"}
    with FakeOpenAIServer(answer_key(replies)) as server:
        llm = LLMExtractor("judge", base_url=server.base_url, cache_dir=None, progress=False)
        out = llm.extract(task, ["Q1", "Q2"], ["long reasoning ... so 1200 total", "rambling"], [None, None])
    assert out == ["1200", None]
    body = next(b for b in server.requests if "Q1" in b["messages"][1]["content"])
    assert body["model"] == "judge" and body["messages"][0] == {"role": "system", "content": SYSTEM}
    assert body["messages"][1]["content"] == extraction_prompt(task, "Q1", "long reasoning ... so 1200 total")


def test_both_extractions_are_recorded_per_sample(tmp_path, monkeypatch):
    # the generating model answers in prose the rules cannot read; the extractor LLM reads the gold answer
    tasks = ["coin_flip", "reverse_list"]
    gen_replies, judge_replies = {}, {}
    for name in tasks:
        task = get_task(name)
        for ex in load_examples(task, 4):
            prompt = build_prompt(task, ex)
            gen_replies[prompt] = "Hmm, hard to say."
            judge_replies[prompt] = ex.gold
    with FakeOpenAIServer(answer_key(gen_replies)) as gen, FakeOpenAIServer(answer_key(judge_replies)) as judge:
        results = run_eval("m", ",".join(tasks), backend="openai", base_url=gen.base_url, limit=4,
                           extractor="llm", extractor_model="judge", extractor_base_url=judge.base_url,
                           output=tmp_path / "run", cache_dir=tmp_path / "cache", progress=False)
    assert results["overall"]["accuracy"] == 1.0
    assert all(t["accuracy_rules"] == 0.0 and t["accuracy_llm"] == 1.0 for t in results["tasks"].values())
    sample = json.loads((tmp_path / "run" / "samples.jsonl").read_text().splitlines()[0])
    assert sample["extracted"]["rules"] is None and sample["extracted"]["llm"] == sample["gold"]
    assert sample["correct_by"] == {"rules": False, "llm": True} and sample["correct"] is True
    assert results["extractor_llm"] == {"model": "judge", "base_url": judge.base_url, "model_revision": None,
                                        "model_identity": {"id": "judge", "listed": False}}  # serves fake-model
