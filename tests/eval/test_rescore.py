import json

from eval import rescore, run_eval
from eval.registry import get_task
from eval.sources import build_prompt, load_examples
from tests.openai_server import FakeOpenAIServer, answer_key


def test_rescore_with_llm_extractor_without_generating(tmp_path):
    task = get_task("first_letter_concat")
    examples = load_examples(task, 4)
    prose = {build_prompt(task, ex): f"Those letters spell {ex.gold} I think" for ex in examples}
    with FakeOpenAIServer(answer_key(prose)) as gen:
        first = run_eval("m", "first_letter_concat", backend="openai", base_url=gen.base_url, limit=4,
                         output=tmp_path / "run", cache_dir=None, progress=False)
    assert first["overall"]["accuracy"] == 0.0  # the rule reads the whole first line
    judge_replies = {build_prompt(task, ex): ex.gold for ex in examples}
    with FakeOpenAIServer(answer_key(judge_replies)) as judge:
        new = rescore(tmp_path / "run", "llm", extractor_model="judge", extractor_base_url=judge.base_url,
                      cache_dir=None, progress=False)
    assert len(judge.requests) == 4 and len(gen.requests) == 4  # nothing generated again
    assert new["overall"]["accuracy"] == 1.0 and new["tasks"]["first_letter_concat"]["accuracy_rules"] == 0.0
    saved = json.loads((tmp_path / "run" / "results.json").read_text())
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert saved["extractor"] == "llm" and "manifest" not in saved and manifest["generation_config_hash"]
    # and back to rules, into another folder
    back = rescore(tmp_path / "run", "rules", output=tmp_path / "rules")
    assert back["overall"]["accuracy"] == 0.0 and (tmp_path / "rules" / "samples.jsonl").is_file()
    assert json.loads((tmp_path / "rules" / "manifest.json").read_text())["parents"][0]["kind"] == "eval"
