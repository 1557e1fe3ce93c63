"""Tiny random MoE models of every supported family, and tagged Parquet folders written in place."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

_COMMON = dict(vocab_size=512, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
               num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128)

FAMILY_CONFIGS = {
    "mixtral": dict(num_local_experts=4, num_experts_per_tok=2),
    "olmoe": dict(num_experts=8, num_experts_per_tok=2),
    "qwen2_moe": dict(num_experts=4, num_experts_per_tok=2, moe_intermediate_size=16,
                      shared_expert_intermediate_size=32, decoder_sparse_step=1),
    "qwen3_moe": dict(num_experts=8, num_experts_per_tok=2, moe_intermediate_size=16, head_dim=8,
                      decoder_sparse_step=1),
    "deepseek_v3": dict(n_routed_experts=8, num_experts_per_tok=2, moe_intermediate_size=16, n_group=2,
                        topk_group=2, first_k_dense_replace=0, n_shared_experts=1, kv_lora_rank=16,
                        q_lora_rank=None, qk_rope_head_dim=8, qk_nope_head_dim=8, v_head_dim=8,
                        num_key_value_heads=4),
    "gpt_oss": dict(num_local_experts=4, num_experts_per_tok=2, head_dim=8, sliding_window=16,
                    layer_types=["sliding_attention", "full_attention"]),
}


def tiny_model(family: str, seed: int = 0, **overrides):
    from transformers import AutoConfig, AutoModelForCausalLM

    torch.manual_seed(seed)
    config = AutoConfig.for_model(family, **{**_COMMON, **FAMILY_CONFIGS[family], **overrides})
    return AutoModelForCausalLM.from_config(config, dtype=torch.float32).eval()


def write_tagged(folder, rows: list[dict], name: str = "00000.parquet"):
    """A tagged shard with the contract's columns."""
    from tracemix.domains import DOMAINS

    folder.mkdir(parents=True, exist_ok=True)
    cols = {
        "id": [r["id"] for r in rows],
        "text": [r["text"] for r in rows],
        "source": ["test"] * len(rows),
        "domain": [r["domain"] for r in rows],
        "domain_scores": [{d: float(d == r["domain"]) for d in DOMAINS} for r in rows],
        "scaffold_score": [0.0] * len(rows),
        "n_bytes": [len(r["text"].encode()) for r in rows],
        "tagger": ["heuristic-v1"] * len(rows),
    }
    pq.write_table(pa.table(cols), folder / name)
    return folder


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def planted_mixtral(ids_a: list[int], ids_b: list[int], vocab_size: int = 512):
    """A 2-layer, 4-expert top-2 Mixtral whose routers send ids_a to experts {0, 1} and every other token
    (ids_b and padding included) to {2, 3}, with expert 0 (resp. 2) the first choice.

    Attention and expert outputs are zeroed so every layer's router sees the token embedding itself.
    """
    model = tiny_model("mixtral", vocab_size=vocab_size)
    with torch.no_grad():
        emb = model.model.embed_tokens.weight
        emb.zero_()
        emb[:, 1] = 1.0  # default direction: experts {2, 3}
        emb[ids_a, 1] = 0.0
        emb[ids_a, 0] = 1.0  # direction of experts {0, 1}
        for layer in model.model.layers:
            layer.self_attn.o_proj.weight.zero_()
            layer.mlp.experts.down_proj.zero_()
            gate = layer.mlp.gate.weight  # [E, H]
            gate.zero_()
            gate[0, 0], gate[1, 0] = 4.0, 3.0
            gate[2, 1], gate[3, 1] = 4.0, 3.0
    assert not set(ids_a) & set(ids_b)
    return model


@pytest.fixture
def planted_data(tmp_path, tiny_tokenizer):
    """Two domains whose token ids are disjoint: letters-only code, digits-only math."""
    rows = [dict(id=f"code-{i}", text="abcabc" * (3 + i % 4), domain="pure_code") for i in range(12)]
    rows += [dict(id=f"math-{i}", text="1234567" * (2 + i % 5), domain="math_text") for i in range(12)]
    folder = write_tagged(tmp_path / "tagged", rows)
    enc = lambda d: sorted({t for r in rows if r["domain"] == d for t in tiny_tokenizer(r["text"])["input_ids"]})  # noqa: E731
    return folder, enc("pure_code"), enc("math_text")
