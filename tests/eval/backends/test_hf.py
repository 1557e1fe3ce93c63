import json

import pytest

from eval import run_eval
from eval.backends.hf import HFBackend, context_length, fit_to_context
from tests.eval.conftest import save_tiny_llama
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
    assert json.loads((tmp_path / "run" / "manifest.json").read_text())["config_hash"]
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


@pytest.fixture(scope="module")
def short_context_model_dir(tmp_path_factory, tiny_tokenizer_dir):
    """A tiny model that attends over only 64 positions, like small pretraining runs."""
    return save_tiny_llama(tmp_path_factory.mktemp("short_context_model"), tiny_tokenizer_dir,
                           max_position_embeddings=64)


@pytest.fixture
def transformers_warnings(caplog):
    from transformers.utils import logging as hf_logging

    hf_logging.enable_propagation()
    yield caplog
    hf_logging.disable_propagation()


def test_fit_to_context_cuts_the_left_and_caps_the_budget():
    ids = list(range(100))
    assert fit_to_context(ids[:10], 8, 64) == (ids[:10], 8)  # fits: untouched
    assert fit_to_context(ids, 8, 64) == (ids[44:], 8)  # the end of the prompt (the question) is kept
    assert fit_to_context(ids, 8, None) == (ids, 8)  # unknown context: nothing to enforce
    kept, budget = fit_to_context(ids, 256, 64)  # budget above the context: half for the prompt
    assert (kept, budget) == (ids[68:], 32)
    kept, budget = fit_to_context(ids[:10], 256, 64)  # a short prompt gets the rest of the context
    assert (kept, budget) == (ids[:10], 54)
    assert fit_to_context([7, *ids[:99]], 8, 64, bos_id=7)[0] == [7, *ids[44:99]]  # BOS survives the cut


def test_context_comes_from_the_config_or_a_smaller_tokenizer_limit(short_context_model_dir):
    from transformers import AutoConfig, AutoTokenizer

    config = AutoConfig.from_pretrained(str(short_context_model_dir))
    tok = AutoTokenizer.from_pretrained(str(short_context_model_dir))
    assert context_length(config, tok) == 64  # the tokenizer's 2**20 is "no limit"
    tok.model_max_length = 48
    assert context_length(config, tok) == 48
    assert context_length(config, tok, override=32) == 32


def test_long_prompts_are_cut_to_the_context_and_recorded(short_context_model_dir, tmp_path,
                                                           transformers_warnings):
    import torch

    torch.set_num_threads(1)
    backend = HFBackend(str(short_context_model_dir), batch_size=4, progress=False)
    assert backend.context == 64 and backend.describe()["max_model_len"] == 64
    lengths = []
    generate = backend.lm.generate

    def spy(**kw):
        out = generate(**kw)
        lengths.append(out.shape[1])
        return out

    backend.lm.generate = spy
    long_prompt = "Q: " + " ".join(f"word{i}" for i in range(80)) + "\nA:"
    out = backend.generate([long_prompt, "Q: 1 + 1 =", long_prompt[:120]], 256)  # budget above the context
    assert len(out) == 3 and all(isinstance(text, str) for text in out)
    assert backend.last_prompt_truncated == [True, False, True]
    assert lengths and max(lengths) <= 64
    assert not [r for r in transformers_warnings.records if "maximum length" in r.getMessage()]

    results = run_eval(str(short_context_model_dir), "coin_flip", backend="hf", output=tmp_path / "run",
                       limit=3, batch_size=2, max_new_tokens=16, progress=False)
    entry = results["tasks"]["coin_flip"]
    assert entry["n"] == 3 and entry["n_prompt_truncated"] == 3  # coin_flip prompts are longer than 48 tokens
    samples = [json.loads(line) for line in (tmp_path / "run" / "samples.jsonl").read_text().splitlines()]
    assert [s["prompt_truncated"] for s in samples] == [True, True, True]
    assert "cut from the left to fit the model's context (64 tokens)" in (tmp_path / "run" / "report.md").read_text()
    assert not [r for r in transformers_warnings.records if "maximum length" in r.getMessage()]


def test_prompts_within_the_context_are_not_flagged(hf_backend):
    hf_backend.generate(["Q: 1 + 1 =", "Q: 2 + 2 ="], 8)
    assert hf_backend.last_prompt_truncated == [False, False] and hf_backend.context == 1024
