import json

import pytest

from eval import run_eval
from eval.backends.hf import HFBackend
from tracemix.errors import DataError


@pytest.fixture(scope="module")
def hf_backend(tiny_model_dir):
    import torch

    torch.set_num_threads(1)
    return HFBackend(str(tiny_model_dir), batch_size=4, progress=False)


def test_symbolic_suite_end_to_end(tiny_model_dir, tmp_path):
    results = run_eval(str(tiny_model_dir), "symbolic", backend="hf", output=tmp_path / "run", limit=3,
                       batch_size=4, max_new_tokens=8, progress=False)
    assert set(results["tasks"]) == {"first_letter_concat", "last_letter_concat", "reverse_list", "coin_flip"}
    assert all(t["n"] == 3 for t in results["tasks"].values())
    assert set(results["domains"]) == {"symbolic"}
    assert results["overall"]["n"] == 12
    saved = json.loads((tmp_path / "run" / "results.json").read_text())
    assert saved["task_versions"]["coin_flip"] == 1
    assert saved["backend"]["chat_template"] is True  # the tokenizer ships a ChatML template
    assert saved["manifest"]["config_hash"]
    samples = [json.loads(line) for line in (tmp_path / "run" / "samples.jsonl").read_text().splitlines()]
    assert len(samples) == 12
    assert {"task", "id", "prompt", "generation", "extracted", "gold", "correct"} <= set(samples[0])
    assert "# Evaluation" in (tmp_path / "run" / "report.md").read_text()


def test_batched_generation_matches_one_by_one(hf_backend):
    prompts = ["Q: Reverse the sequence \"a, b\".\nA:", "Q: 1 + 1 =", "Q: Take the last letters of each word."]
    batched = hf_backend.generate(prompts, 6)
    hf_backend.batch_size = 1
    single = hf_backend.generate(prompts, 6)
    hf_backend.batch_size = 4
    assert batched == single  # left padding keeps greedy decoding identical


def test_chat_template_wraps_the_prompt(hf_backend):
    assert hf_backend.format("hi") == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"


def test_missing_model_path_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        HFBackend(str(tmp_path / "no-such-checkpoint"))


def test_folder_without_config_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="no config.json"):
        HFBackend(str(tmp_path))
