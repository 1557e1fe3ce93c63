"""Every family of the MoE table, probed on a tiny random config: routers found, choices read, counts exact."""

import pytest
import torch

from probes.data import collate
from probes.discover import discover_routers
from probes.hooks import RouterHooks
from probes.run import probe_counts
from tracemix.errors import TracemixError
from tracemix.moe_families import MOE_FAMILIES, supported

# Routers that choose plain top-k of their logits: there, and only as a test oracle, topk(logits) must agree.
_PLAIN_TOP_K = ["llama4_text", "jetmoe", "dbrx", "mixtral"]


def _tiny(model_type: str):
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    return AutoModelForCausalLM.from_config(MOE_FAMILIES[model_type].tiny_config(), dtype=torch.float32).eval()


def _batch(domain: str, seed: int):
    g = torch.Generator().manual_seed(seed)
    windows = [(f"{domain}-{i}", 0, torch.randint(3, 500, (n,), generator=g).tolist()) for i, n in enumerate((5, 3))]
    return collate(domain, windows, pad_id=0)


@pytest.mark.parametrize("model_type", [f.model_type for f in supported()])
def test_every_family_in_the_table_is_probed(model_type):
    from probes.discover import _matches, _recorder_matchers

    model = _tiny(model_type)
    table = discover_routers(model)
    # the table's router paths name exactly the modules transformers records router logits from
    matchers = _recorder_matchers(model)
    recorded = {id(m) for n, m in model.named_modules() if any(_matches(n, m, x) for x in matchers)}
    assert {s.source for s in table} == {"table"}
    assert {id(s.logits_module or s.module) for s in table} == recorded
    counts, sites = probe_counts(model, [_batch("general", 0), _batch("math_text", 1)], ["general", "math_text"],
                                 sample_tokens=0, progress=False)
    family = MOE_FAMILIES[model_type]
    assert {(s.num_experts, s.top_k) for s in sites} == {(family.num_experts(model.config), 2)}
    assert sites and all(not s.module._forward_hooks and not s.module._forward_pre_hooks for s in sites)
    # 8 real tokens per domain (padding never counted), k choices each, in every probed layer
    assert counts.n_tokens.tolist() == [[8, 8]] * len(sites)
    assert counts.selected.sum(-1).tolist() == [[16, 16]] * len(sites)
    assert int(counts.coact.diagonal(dim1=-2, dim2=-1).sum()) == 32 * len(sites)  # k distinct experts a token


@pytest.mark.parametrize("model_type", _PLAIN_TOP_K)
def test_choices_read_from_scores_sorted_groups_and_expert_inputs_match_a_plain_router(model_type):
    model = _tiny(model_type)
    sites = discover_routers(model)
    ids = torch.randint(3, 500, (2, 6))
    with RouterHooks(sites) as hooks, torch.no_grad():
        model(input_ids=ids, use_cache=False)
        indices, weights, logits = hooks.take(12, torch.device("cpu"))
    assert logits is not None and weights is not None
    expected = logits.topk(2, dim=-1).indices.sort(-1).values  # these routers choose top-k of their logits
    assert torch.equal(indices.sort(-1).values, expected)


def test_llama4_choices_are_the_non_zero_scores_even_when_logits_disagree():
    model = _tiny("llama4_text")
    site = discover_routers(model)[0]
    from probes.hooks import parse_router_output

    logits = torch.tensor([[5.0, 4.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]])
    scores = torch.zeros(1, 8)
    scores[0, [3, 6]] = torch.tensor([0.7, 0.6])  # the router's own scores pick 3 and 6, not 0 and 1
    out = parse_router_output((scores, logits), site)
    assert out.indices.tolist() == [[3, 6]] and out.weights[0].tolist() == pytest.approx([0.7, 0.6])
    scores[0, 6] = 0.0  # an underflowed choice cannot be read: say so rather than guess
    with pytest.raises(TracemixError, match="token 0 has 1 non-zero scores, not k = 2"):
        parse_router_output((scores, logits), site)


@pytest.mark.parametrize("model_type", [f.model_type for f in MOE_FAMILIES.values() if f.unsupported])
def test_a_family_whose_router_cannot_report_its_choice_says_why(model_type):
    with pytest.raises(TracemixError, match=rf"\({model_type}\) routers cannot be probed: .{{40,}}"):
        discover_routers(_tiny(model_type))


@pytest.mark.parametrize("model_type", ["llama4_text", "jetmoe", "dbrx"])
def test_tracemix_probe_runs_on_saved_checkpoints_of_the_families_it_used_to_refuse(
        model_type, tmp_path, planted_data, tiny_tokenizer):
    import json

    from probes.cli import main

    folder, _, _ = planted_data
    ckpt = tmp_path / "ckpt"
    _tiny(model_type).save_pretrained(ckpt)
    tiny_tokenizer.save_pretrained(ckpt)
    assert main(["--model", str(ckpt), "--data", str(folder), "--output", str(tmp_path / "p"), "--device", "cpu",
                 "--max-tokens-per-domain", "40", "--seq-len", "16", "--no-progress"]) == 0
    metrics = json.loads((tmp_path / "p" / "metrics.json").read_text())
    assert metrics["family"] == model_type and metrics["n_tokens"] == {"pure_code": 40, "math_text": 40}
    assert metrics["num_experts"] == 8 and metrics["top_k"] == 2
