import importlib.util
import sys
from types import ModuleType, SimpleNamespace

import pytest

from eval.backends import get_backend
from tracemix.errors import RecipeError, TracemixError


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vllm is installed here")
def test_vllm_missing_is_a_clear_error():
    with pytest.raises(TracemixError, match="needs vLLM and a CUDA GPU.*--backend hf"):
        get_backend("vllm", "some/model")


def test_unknown_backend_suggests_the_closest():
    with pytest.raises(RecipeError, match="Did you mean 'vllm'"):
        get_backend("vlm", "m")


class FakeEngine:
    """vLLM's offline `LLM` surface as the backend uses it, enforcing vLLM's rule that a request's prompt
    plus max_tokens stay within max_model_len (vLLM rejects a longer prompt and fails the whole call)."""

    def __init__(self, model, max_model_len=None, **kwargs):
        from transformers import AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(model)
        self.llm_engine = SimpleNamespace(model_config=SimpleNamespace(max_model_len=max_model_len or 1024))
        self.requests = []

    def get_tokenizer(self):
        return self.tokenizer

    def generate(self, prompts, sampling_params, use_tqdm=True):
        limit = self.llm_engine.model_config.max_model_len
        outputs = []
        for prompt, params in zip(prompts, sampling_params, strict=True):
            ids = prompt["prompt_token_ids"]
            if len(ids) + params.max_tokens > limit:
                raise ValueError(f"prompt ({len(ids)}) + max_tokens ({params.max_tokens}) > {limit}")
            self.requests.append((ids, params.max_tokens))
            outputs.append(SimpleNamespace(outputs=[SimpleNamespace(text="ok", token_ids=[1, 2])]))
        return outputs


@pytest.fixture
def fake_vllm(monkeypatch):
    import torch

    module = ModuleType("vllm")
    module.LLM, module.__version__ = FakeEngine, "fake"
    module.SamplingParams = lambda **kw: SimpleNamespace(**kw)
    monkeypatch.setitem(sys.modules, "vllm", module)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)


def test_vllm_requests_fit_max_model_len(fake_vllm, tiny_model_dir):
    backend = get_backend("vllm", str(tiny_model_dir), max_model_len=64, progress=False)
    assert backend.context == 64 and backend.describe()["max_model_len"] == 64
    long_prompt = "Q: " + " ".join(f"word{i}" for i in range(80)) + "\nA:"
    assert backend.generate([long_prompt, "Q: 1 + 1 ="], 256) == ["ok", "ok"]
    assert backend.last_prompt_truncated == [True, False]
    (long_ids, long_budget), (short_ids, short_budget) = backend.llm.requests
    assert len(long_ids) + long_budget <= 64 and long_budget == 32  # budget capped to half the context
    assert short_budget == 64 - len(short_ids)
    assert backend.tokenizer.decode(long_ids).endswith("word79\nA:<|im_end|>\n<|im_start|>assistant\n")
