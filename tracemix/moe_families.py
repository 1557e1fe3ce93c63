"""The one table of Mixture-of-Experts families: training builds them, probes read their routers.

Per family (keyed by the text model's `model_type` in transformers): the display name, the config
attributes holding the number of experts E and experts per token k, the sizes that make a tiny config
(tests and demos build every family from it in a fraction of a second), where the router lives inside a
decoder layer (`router`, e.g. `mlp.gate`), and how the probe reads the router's own choice of experts:

- `tuple`: the router module returns `(logits [T, E], top-k weights [T, k], top-k indices [T, k])`
  (Mixtral, OLMoE, Qwen-MoE, DeepSeek-V3, ... in transformers 5);
- `scores`: the router returns `(scores [T, E], logits [T, E])` where the chosen experts are exactly the
  non-zero scores (Llama-4 scatters its top-k into -inf before a sigmoid);
- `sorted`: the router returns its choices grouped by expert (`index_sorted_experts, batch_index,
  batch_gates, expert_size, logits`, JetMoE); the probe puts them back in token order;
- `experts_input`: the router returns logits only and the block picks the experts; the probe then reads
  the `(hidden, top_k_index, top_k_weights)` the block hands to its `experts` module (DBRX).

Never `topk(logits)`: bias-corrected and group-limited routers choose experts it would not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tracemix.config import key_hint
from tracemix.errors import TracemixError

READ_MODES = ("tuple", "scores", "sorted", "experts_input")

# Sizes every tiny config gets when its class has the attribute (MLA ranks, groups, shared experts, ...).
TINY_SIZES: dict[str, Any] = dict(
    vocab_size=512, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
    num_key_value_heads=4, head_dim=8, max_position_embeddings=128, moe_intermediate_size=16,
    shared_expert_intermediate_size=32, first_k_dense_replace=0, n_group=1, topk_group=1, kv_lora_rank=16,
    q_lora_rank=16, qk_rope_head_dim=8, qk_nope_head_dim=8, v_head_dim=8, decoder_sparse_step=1,
    pad_token_id=0, bos_token_id=1, eos_token_id=2)


@dataclass(frozen=True)
class MoEFamily:
    """One MoE family: names, where E and k live in its config, a tiny config, how its router reports."""

    model_type: str
    name: str
    experts_attr: str  # dotted for nested configs (DBRX: ffn_config.moe_num_experts)
    top_k_attr: str
    read: str = "tuple"
    router: tuple[str, ...] = ("mlp.gate",)  # module path(s) inside a decoder layer
    scoring: str | None = None  # "sigmoid" when the router scores experts independently; None: detect
    tiny: dict[str, Any] = field(default_factory=dict)
    extra_experts_attr: str | None = None  # zero-computation experts the router may also choose (LongCat)
    unsupported: str | None = None  # why the probe cannot read this router's choices, if it cannot

    def num_experts(self, config) -> int:
        """E as the router sees it: routed experts plus any zero-computation experts it can pick."""
        extra = config_attr(config, self.extra_experts_attr) if self.extra_experts_attr else 0
        return int(config_attr(config, self.experts_attr)) + int(extra or 0)

    def top_k(self, config) -> int:
        return int(config_attr(config, self.top_k_attr))

    def tiny_config(self, num_experts: int = 8, top_k: int = 2, **overrides):
        """A randomly initialisable config of this family with E routed experts, k per token, tiny sizes.

        The family's own `tiny` sizes and then `overrides` win over the shared TINY_SIZES."""
        from transformers import AutoConfig

        base = AutoConfig.for_model(self.model_type)
        declared = base.to_dict()
        sizes = {k: v for k, v in TINY_SIZES.items() if k in declared or _has(base, k)}
        nested = {a: v for a, v in ((self.experts_attr, num_experts), (self.top_k_attr, top_k)) if "." in a}
        sizes.update({a: v for a, v in ((self.experts_attr, num_experts), (self.top_k_attr, top_k))
                      if a not in nested})
        sizes.update(self.tiny)
        sizes.update(overrides)
        config = AutoConfig.for_model(self.model_type, **sizes)
        for attr, value in nested.items():  # sub-configs (DBRX's ffn_config) are built from dicts first
            set_config_attr(config, attr, value)
        return config


def _F(model_type, name, experts, top_k="num_experts_per_tok", **kw) -> MoEFamily:
    return MoEFamily(model_type, name, experts, top_k, **kw)


_FAMILIES = [
    _F("mixtral", "Mixtral", "num_local_experts"),
    _F("olmoe", "OLMoE", "num_experts"),
    _F("flex_olmo", "FlexOlmo", "num_experts"),
    _F("qwen2_moe", "Qwen2-MoE", "num_experts"),
    _F("qwen3_moe", "Qwen3-MoE", "num_experts"),
    _F("qwen3_next", "Qwen3-Next", "num_experts"),
    _F("qwen3_5_moe_text", "Qwen3.5-MoE", "num_experts"),
    _F("qwen4_exp_text", "Qwen4-Exp", "num_experts"),
    _F("deepseek_v2", "DeepSeek-V2", "n_routed_experts"),
    _F("deepseek_v3", "DeepSeek-V3", "n_routed_experts"),
    _F("deepseek_v32", "DeepSeek-V3.2", "n_routed_experts"),
    # its first layers may route by a frozen token-id table (hash_moe); the probe reports that choice too
    _F("deepseek_v4", "DeepSeek-V4", "n_routed_experts", tiny=dict(mlp_layer_types=["moe", "moe"])),
    _F("glm4_moe", "GLM4-MoE", "n_routed_experts"),
    _F("glm4_moe_lite", "GLM4-MoE-Lite", "n_routed_experts"),
    _F("glm_moe_dsa", "GLM-MoE-DSA", "n_routed_experts"),
    _F("gpt_oss", "GPT-OSS", "num_local_experts", router=("mlp.router",),
       tiny=dict(sliding_window=16, layer_types=["sliding_attention", "full_attention"])),
    _F("llama4_text", "Llama-4", "num_local_experts", router=("feed_forward.router",), read="scores",
       scoring="sigmoid"),
    _F("jetmoe", "JetMoE", "num_local_experts", router=("mlp.router", "self_attention.experts.router"),
       read="sorted", tiny=dict(kv_channels=8)),
    _F("dbrx", "DBRX", "ffn_config.moe_num_experts", "ffn_config.moe_top_k", router=("ffn.router",),
       read="experts_input",
       tiny=dict(attn_config=dict(kv_n_heads=2, rope_theta=10_000.0, clip_qkv=8.0),
                 ffn_config=dict(ffn_hidden_size=16), d_model=32, n_heads=4, n_layers=2, max_seq_len=128)),
    _F("granitemoe", "Granite-MoE", "num_local_experts", router=("block_sparse_moe.router",)),
    _F("granitemoeshared", "Granite-MoE-Shared", "num_local_experts", router=("block_sparse_moe.router",)),
    _F("granitemoehybrid", "Granite-MoE-Hybrid", "num_local_experts", router=("block_sparse_moe.router",),
       tiny=dict(mamba_n_heads=8, mamba_d_head=8, mamba_d_state=8, mamba_n_groups=1)),
    _F("granitemoe_swa", "Granite-MoE-SWA", "num_local_experts", router=("block_sparse_moe.router",)),
    _F("jamba", "Jamba", "num_experts", router=("feed_forward.router",),
       tiny=dict(expert_layer_period=1, expert_layer_offset=0)),
    _F("phimoe", "PhiMoE", "num_local_experts", router=("mlp.router",)),
    _F("minimax", "MiniMax", "num_local_experts"),
    _F("minimax_m2", "MiniMax-M2", "num_local_experts"),
    _F("minimax_m3_vl_text", "MiniMax-M3", "num_local_experts"),
    _F("ernie4_5_moe", "ERNIE-4.5-MoE", "moe_num_experts", "moe_k"),
    _F("hunyuan_v1_moe", "Hunyuan-MoE", "num_experts", "moe_topk"),
    _F("hy_v3", "HY-V3", "num_experts"),
    _F("hy_v4", "HY-V4", "n_routed_experts"),
    _F("afmoe", "AFMoE", "num_experts", router=("mlp.router",)),
    _F("aria_text", "Aria", "moe_num_experts", "moe_topk", router=("mlp.router",)),
    _F("axk1", "A.X-K1", "n_routed_experts"),
    _F("axk2", "A.X-K2", "n_routed_experts"),
    _F("bailing_hybrid", "Bailing-Hybrid", "num_experts", "num_experts_per_token"),
    _F("beam", "Beam", "num_experts", tiny=dict(mlp_layer_types=["sparse", "sparse"])),
    _F("cohere2_moe", "Cohere2-MoE", "num_experts"),
    _F("dots1", "dots.llm1", "n_routed_experts", tiny=dict(n_shared_experts=1)),
    _F("dots3_note_text", "dots3-note", "n_routed_experts"),
    _F("exaone_moe", "EXAONE-MoE", "num_experts"),
    _F("flint", "Flint", "num_experts", tiny=dict(mlp_only_layers=[])),
    _F("gemma4_text", "Gemma-4", "num_experts", "top_k_experts", router=("router",),
       tiny=dict(enable_moe_block=True, layer_types=["sliding_attention", "full_attention"],
                 vocab_size_per_layer_input=512, hidden_size_per_layer_input=8)),
    _F("inkling_text", "Inkling", "n_routed_experts"),
    _F("inkling2_text", "Inkling2", "n_routed_experts"),
    _F("inkling2_loop_text", "Inkling2-Loop", "n_routed_experts"),
    _F("kimi_linear", "Kimi-Linear", "num_experts", "num_experts_per_token",
       tiny=dict(linear_num_heads=2, linear_head_dim=8)),
    _F("kolibri1", "Kolibri1", "num_local_experts"),
    _F("laguna", "Laguna", "num_experts"),
    _F("lara_mini", "Lara-Mini", "num_experts"),
    _F("lfm2_moe", "LFM2-MoE", "num_experts", router=("feed_forward.gate",),
       tiny=dict(num_dense_layers=0, layer_types=["conv", "full_attention"])),
    _F("longcat_flash", "LongCat-Flash", "n_routed_experts", "moe_topk", router=("mlp.router",),
       extra_experts_attr="zero_expert_num",
       tiny=dict(zero_expert_num=2)),
    _F("mellum", "Mellum", "num_local_experts"),
    _F("mimo_v2_flash", "MiMo-V2-Flash", "n_routed_experts", tiny=dict(num_key_value_heads=2)),
    _F("nemotron_h", "Nemotron-H", "n_routed_experts", router=("mixer.gate",)),
    _F("sarvam_mla", "Sarvam-MLA", "n_routed_experts"),
    _F("sarvam_moe", "Sarvam-MoE", "n_routed_experts"),
    _F("solar_open", "Solar-Open", "n_routed_experts"),
    _F("zaya", "ZAYA", "num_experts", tiny=dict(num_experts_per_tok=1),
       unsupported="its router maps a choice of the compute-free skip expert onto expert 0 (with weight 0) "
                   "before returning, so its top-k indices do not say which experts it chose"),
    _F("doge", "Doge", "num_experts", tiny=dict(num_experts=16, num_experts_per_tok=2),
       unsupported="its cross-domain MoE retrieves experts by product keys inside the MLP and exposes no "
                   "router module whose output names the chosen experts"),
]

MOE_FAMILIES: dict[str, MoEFamily] = {f.model_type: f for f in _FAMILIES}


def _has(config, name: str) -> bool:
    try:
        return hasattr(config, name)
    except Exception:  # per-layer attributes of heterogeneous configs (Gemma-4) refuse a global read
        return True


def config_attr(config, path: str):
    """`config.a.b` for the dotted path 'a.b' (nested configs such as DBRX's ffn_config)."""
    value = config
    for part in path.split("."):
        value = getattr(value, part)
    return value


def set_config_attr(config, path: str, value) -> None:
    *parents, last = path.split(".")
    setattr(config_attr(config, ".".join(parents)) if parents else config, last, value)


def text_config(config):
    """The decoder's config (multimodal wrappers keep it under `text_config`)."""
    if hasattr(config, "get_text_config"):
        try:
            return config.get_text_config()
        except ValueError:  # several text configs (encoder-decoder): none is the decoder's alone
            return config
    return config


def family_of(config) -> MoEFamily | None:
    """The table's entry for a config (or its text config), None for types the table does not list."""
    for c in (config, text_config(config)):
        family = MOE_FAMILIES.get(getattr(c, "model_type", None))
        if family is not None:
            return family
    return None


def get_family(model_type: str) -> MoEFamily:
    """The entry for `model_type`; an unknown type is an error with a did-you-mean hint."""
    if model_type not in MOE_FAMILIES:
        raise TracemixError(f"`{model_type}` is not a MoE family tracemix knows"
                            f"{key_hint(model_type, MOE_FAMILIES, list_valid=False)}; known: {supported_text()}")
    return MOE_FAMILIES[model_type]


def supported_text(sep: str = ", ") -> str:
    """The supported families as 'Name (model_type)', for --help, errors and the README."""
    return sep.join(f"{f.name} ({f.model_type})" for f in supported())


def supported() -> list[MoEFamily]:
    """Families whose routers the probe reads (every entry but the ones marked `unsupported`)."""
    return [f for f in _FAMILIES if f.unsupported is None]


if __name__ == "__main__":  # the README's list: python -m tracemix.moe_families
    print(supported_text())
