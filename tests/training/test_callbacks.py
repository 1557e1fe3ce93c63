import json

import pytest
import torch

from tests.training.conftest import tiny_config
from tracemix.errors import RecipeError
from training import run_training
from training.callbacks import ExpertLoadCallback, domain_samples, router_modules
from training.config import load_config
from training.data import read_dataset
from training.model import build_model


def test_expert_load_is_logged_per_domain_and_layer(tiny_tokenizer_dir, text_mixture, tmp_path):
    cfg = tiny_config(tiny_tokenizer_dir, "qwen3_moe")
    cfg["expert_load"] = {"every": 2, "samples_per_domain": 3}
    run_training(cfg, data=text_mixture, output=tmp_path / "run", max_steps=4)
    rows = [json.loads(line) for line in (tmp_path / "run" / "expert_load.jsonl").read_text().splitlines()]
    keys = {(r["step"], r["domain"], r["layer"]) for r in rows}
    assert keys == {(s, d, layer) for s in (2, 4) for d in ("general", "math_text", "pure_code") for layer in (0, 1)}
    assert all(len(r["load"]) == 4 and sum(r["load"]) == pytest.approx(1.0, abs=1e-5) for r in rows)


def test_counts_match_the_routers_own_choices(tiny_tokenizer, tiny_tokenizer_dir, text_mixture):
    cfg = load_config(tiny_config(tiny_tokenizer_dir, "olmoe"))
    model = build_model(cfg.model, tiny_tokenizer, seed=1)
    samples = domain_samples(read_dataset(text_mixture), 2)
    assert sorted(samples) == ["general", "math_text", "pure_code"] and all(len(v) == 2 for v in samples.values())
    loads = ExpertLoadCallback(samples, tiny_tokenizer, every=1, path="unused").measure(model)

    # Independent count: OLMoE routes with top-k of the softmax of its router logits (no bias correction).
    for domain, texts in samples.items():
        expected = torch.zeros(2, 4)
        n_tokens = 0
        for text in texts:
            ids = tiny_tokenizer(text, return_tensors="pt")["input_ids"]
            n_tokens += ids.shape[1]
            with torch.no_grad():
                out = model(input_ids=ids, output_router_logits=True)
            for layer, logits in enumerate(out.router_logits):
                top = logits.softmax(-1).topk(2, dim=-1).indices.flatten()
                expected[layer] += torch.bincount(top, minlength=4)
        for layer in (0, 1):
            got_tokens, got_load = loads[domain][layer]
            assert got_tokens == n_tokens
            assert got_load == pytest.approx((expected[layer] / expected[layer].sum()).tolist())
    assert len(router_modules(model)) == 2 and model.training  # state restored


def test_expert_load_on_a_dense_model_is_an_error(tiny_tokenizer_dir, text_mixture, tmp_path):
    cfg = tiny_config(tiny_tokenizer_dir, "llama")
    cfg["expert_load"] = {"every": 1}
    with pytest.raises(RecipeError, match="`expert_load` needs a MoE model; `llama` is dense"):
        run_training(cfg, data=text_mixture, output=tmp_path / "x", max_steps=1)
