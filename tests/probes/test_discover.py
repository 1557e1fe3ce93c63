import pytest
import torch
from torch import nn

from probes.discover import discover_routers
from tests.probes.conftest import FAMILY_CONFIGS, tiny_model
from tracemix.errors import TracemixError


@pytest.mark.parametrize("family", sorted(FAMILY_CONFIGS))
def test_every_family_is_found_where_the_table_says(family):
    model = tiny_model(family)
    sites = discover_routers(model)
    cfg = FAMILY_CONFIGS[family]
    n_exp = cfg.get("num_local_experts") or cfg.get("num_experts") or cfg.get("n_routed_experts")
    assert [s.layer for s in sites] == [0, 1]
    assert all(s.source == "table" for s in sites)
    assert {(s.num_experts, s.top_k) for s in sites} == {(n_exp, 2)}
    assert {s.scoring for s in sites} == {"sigmoid" if family == "deepseek_v3" else "softmax"}
    assert sites[0].name.startswith("model.layers.0.mlp.")


def test_dense_model_gets_a_clear_error_listing_families():
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.for_model("llama", vocab_size=64, hidden_size=32, intermediate_size=64,
                                  num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2)
    with pytest.raises(TracemixError) as err:
        discover_routers(AutoModelForCausalLM.from_config(config))
    message = str(err.value)
    assert "no MoE router found in a 'llama' model" in message
    for name in ("Mixtral", "Llama-4 (llama4_text)", "JetMoE", "DBRX (dbrx)", "Qwen3-Next"):
        assert name in message


class _Gate(nn.Module):
    """A router outside transformers: found by structure (top_k, num_experts, (E, hidden) weight)."""

    def __init__(self):
        super().__init__()
        self.top_k, self.num_experts = 2, 4
        self.weight = nn.Parameter(torch.randn(4, 8))

    def forward(self, x):
        logits = x @ self.weight.T
        w, i = logits.softmax(-1).topk(2, -1)
        return logits, w, i


class _Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.router = _Gate()


class _Toy(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([_Block(), _Block(), _Block()])


def test_structure_fallback_finds_routers_and_layers():
    sites = discover_routers(_Toy())
    assert [(s.layer, s.name, s.source) for s in sites] == [
        (0, "layers.0.router", "structure"), (1, "layers.1.router", "structure"),
        (2, "layers.2.router", "structure")]


def test_dense_first_layers_keep_their_real_layer_index():
    model = tiny_model("deepseek_v3", first_k_dense_replace=1, num_hidden_layers=3)
    assert [s.layer for s in discover_routers(model)] == [1, 2]
