import json

import pytest
import torch
from transformers import TrainerControl, TrainerState, TrainingArguments

from probes.discover import discover_routers
from probes.run import probe_counts
from tests.training.conftest import tiny_config
from tracemix.errors import RecipeError, TracemixError
from training import run_training
from training.callbacks import ExpertLoadCallback, domain_samples
from training.config import load_config
from training.data import read_dataset
from training.model import build_model

MOE_TYPES = ("qwen3_moe", "olmoe", "mixtral")


def _model(tokenizer, tokenizer_dir, model_type: str, seed: int = 1):
    return build_model(load_config(tiny_config(tokenizer_dir, model_type)).model, tokenizer, seed=seed)


def _router_hooks(model) -> list[dict]:
    """Forward hooks on each router. transformers installs its own output-capturing hooks at the first
    forward that records router logits; those stay, the probe's must not."""
    return [dict(s.module._forward_hooks) for s in discover_routers(model)]


def _no_hooks(model) -> bool:
    return not any(h.__module__.startswith("probes") for hooks in _router_hooks(model) for h in hooks.values())


def test_expert_load_is_logged_per_domain_and_layer(tiny_tokenizer_dir, text_mixture, tmp_path):
    cfg = tiny_config(tiny_tokenizer_dir, "qwen3_moe")
    cfg["expert_load"] = {"every": 2, "samples_per_domain": 3}
    run_training(cfg, data=text_mixture, output=tmp_path / "run", max_steps=4)
    rows = [json.loads(line) for line in (tmp_path / "run" / "expert_load.jsonl").read_text().splitlines()]
    keys = [(r["step"], r["domain"], r["layer"]) for r in rows]
    assert sorted(keys) == [(s, d, layer) for s in (2, 4) for d in ("general", "math_text", "pure_code")
                            for layer in (0, 1)]
    assert all(len(r["load"]) == 4 and sum(r["load"]) == pytest.approx(1.0, abs=1e-5) for r in rows)
    assert all(r["n_tokens"] > 0 and set(r) == {"step", "domain", "layer", "n_tokens", "load"} for r in rows)


@pytest.mark.parametrize("model_type", MOE_TYPES)
def test_each_moe_family_is_measured_and_unhooked(model_type, tiny_tokenizer, tiny_tokenizer_dir, text_mixture):
    model = _model(tiny_tokenizer, tiny_tokenizer_dir, model_type)
    samples = domain_samples(read_dataset(text_mixture), 3)
    cb = ExpertLoadCallback(samples, tiny_tokenizer, every=1, path="unused", max_length=16, batch_size=2)
    model.train()
    cb.measure(model)
    before = _router_hooks(model)
    loads = cb.measure(model)
    assert model.training and _no_hooks(model) and _router_hooks(model) == before
    assert sorted(loads) == ["general", "math_text", "pure_code"]
    for domain, texts in samples.items():
        n_tokens = sum(min(len(tiny_tokenizer(t)["input_ids"]), 16) for t in texts)
        assert sorted(loads[domain]) == [0, 1]
        for n, share in loads[domain].values():
            assert n == n_tokens  # padding of the shorter texts in a batch is not counted
            assert len(share) == 4 and min(share) >= 0 and sum(share) == pytest.approx(1.0, abs=1e-9)
    model.eval()
    cb.measure(model)
    assert not model.training and _no_hooks(model)


def test_counts_match_the_routers_own_choices(tiny_tokenizer, tiny_tokenizer_dir, text_mixture):
    model = _model(tiny_tokenizer, tiny_tokenizer_dir, "olmoe")
    samples = domain_samples(read_dataset(text_mixture), 2)
    assert sorted(samples) == ["general", "math_text", "pure_code"] and all(len(v) == 2 for v in samples.values())
    loads = ExpertLoadCallback(samples, tiny_tokenizer, every=1, path="unused").measure(model)

    # Independent count, one unpadded text at a time: OLMoE routes with top-k of the softmax of its router
    # logits (no bias correction).
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
    assert model.training  # build_model's train mode is restored


def test_load_is_the_probe_load_and_batching_does_not_change_it(tiny_tokenizer, tiny_tokenizer_dir, text_mixture):
    model = _model(tiny_tokenizer, tiny_tokenizer_dir, "mixtral")
    samples = domain_samples(read_dataset(text_mixture), 4)
    one = ExpertLoadCallback(samples, tiny_tokenizer, every=1, path="unused", max_length=24, batch_size=1)
    many = ExpertLoadCallback(samples, tiny_tokenizer, every=1, path="unused", max_length=24, batch_size=4)
    a, b = one.measure(model), many.measure(model)
    assert a.keys() == b.keys()
    for domain in a:
        for layer in a[domain]:
            assert a[domain][layer][0] == b[domain][layer][0]
            assert a[domain][layer][1] == pytest.approx(b[domain][layer][1], abs=1e-12)
    # the same numbers as the probe's counts: f = N_k(e,d) / (k N_d)
    model.eval()
    counts, _ = probe_counts(model, many._batches(), list(samples), sample_tokens=0, progress=False)
    for d, domain in enumerate(counts.domains):
        for i, layer in enumerate(counts.layers):
            selected = counts.selected[i, d].double()
            assert b[domain][layer][0] == int(counts.n_tokens[i, d])
            assert b[domain][layer][1] == pytest.approx((selected / (2 * counts.n_tokens[i, d])).tolist())


def test_hooks_and_mode_are_restored_when_the_forward_fails(tiny_tokenizer, tiny_tokenizer_dir):
    model = _model(tiny_tokenizer, tiny_tokenizer_dir, "qwen3_moe")
    model.train()

    def boom(module, args):
        raise RuntimeError("boom")

    handle = model.model.layers[1].register_forward_pre_hook(boom)
    cb = ExpertLoadCallback({"general": ["some text to route"]}, tiny_tokenizer, every=1, path="unused")
    with pytest.raises(RuntimeError, match="boom"):
        cb.measure(model)
    handle.remove()
    assert model.training and _no_hooks(model)


def test_on_step_end_writes_every_n_steps_on_the_main_process_only(tiny_tokenizer, tiny_tokenizer_dir, tmp_path):
    model = _model(tiny_tokenizer, tiny_tokenizer_dir, "olmoe")
    path = tmp_path / "logs" / "expert_load.jsonl"
    cb = ExpertLoadCallback({"general": ["a short text", "another one"]}, tiny_tokenizer, every=3, path=path)
    args = TrainingArguments(output_dir=str(tmp_path / "out"), use_cpu=True, report_to=[])
    for step in range(1, 7):
        state = TrainerState(global_step=step)
        cb.on_step_end(args, state, TrainerControl(), model=model)
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(r["step"], r["layer"]) for r in rows] == [(3, 0), (3, 1), (6, 0), (6, 1)]
    assert rows[0]["load"] == rows[2]["load"]  # weights did not change between measurements

    other = ExpertLoadCallback({"general": ["a short text"]}, tiny_tokenizer, every=1, path=tmp_path / "rank1.jsonl")
    state = TrainerState(global_step=1, is_world_process_zero=False)
    other.on_step_end(args, state, TrainerControl(), model=model)
    assert not (tmp_path / "rank1.jsonl").exists()


def test_dense_model_is_an_error(tiny_tokenizer, tiny_tokenizer_dir, text_mixture, tmp_path):
    cfg = tiny_config(tiny_tokenizer_dir, "llama")
    cfg["expert_load"] = {"every": 1}
    with pytest.raises(RecipeError, match="`expert_load` needs a MoE model; `llama` is dense"):
        run_training(cfg, data=text_mixture, output=tmp_path / "x", max_steps=1)
    dense = _model(tiny_tokenizer, tiny_tokenizer_dir, "llama")
    with pytest.raises(TracemixError, match="no MoE router found"):
        ExpertLoadCallback({"general": ["text"]}, tiny_tokenizer, every=1, path="unused").measure(dense)
    assert dense.training


def test_bad_settings_are_refused(tiny_tokenizer):
    with pytest.raises(ValueError, match="must be positive"):
        ExpertLoadCallback({"general": ["text"]}, tiny_tokenizer, every=0, path="unused")
