"""Models: `from_pretrained` (hub id or local path) or `from_config` (random init from a model type and sizes).

MoE options are generic (`num_experts`, `top_k`, `router_aux_loss_coef`, `output_router_logits`) and mapped
onto each family's own config attribute names. The load-balancing loss is Switch/Mixtral's
`E * sum_e f_e * P_e`; OLMoE uses coefficient 0.01, Mixtral and Qwen-MoE 0.001.
"""

from __future__ import annotations

from typing import Any

from tracemix.errors import RecipeError
from tracemix.moe_families import config_attr, set_config_attr
from training.config import ModelSection, check_moe, is_moe_config, moe_attributes


def check_expert_load(config, source: str) -> None:
    if not is_moe_config(config):
        raise RecipeError(f"{source}: `expert_load` needs a MoE model; `{config.model_type}` is dense")


def _apply_moe(config, section: ModelSection) -> None:
    moe = section.moe
    if moe is None or not is_moe_config(config):
        return
    experts_attr, top_k_attr = moe_attributes(config)
    if moe.num_experts is not None:
        set_config_attr(config, experts_attr, moe.num_experts)
    if moe.top_k is not None:
        set_config_attr(config, top_k_attr, moe.top_k)
    if moe.router_aux_loss_coef is not None:
        config.router_aux_loss_coef = moe.router_aux_loss_coef
    # The aux loss needs the router logits; asking for a coefficient implies them unless turned off explicitly.
    want_logits = moe.output_router_logits
    if want_logits is None:
        want_logits = bool(moe.router_aux_loss_coef)
    config.output_router_logits = want_logits


def _torch_dtype(name: str):
    import torch

    if name == "auto":
        return torch.bfloat16 if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else torch.float32
    return getattr(torch, name)


def build_model(section: ModelSection, tokenizer, seed: int, source: str = "training config"):
    """Instantiate the model; random init is seeded so two runs with one seed start from the same weights."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    dtype = _torch_dtype(section.dtype)
    special = {"pad_token_id": tokenizer.pad_token_id, "eos_token_id": tokenizer.eos_token_id,
               "bos_token_id": tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id}
    if section.from_config is not None:
        sizes = {k: v for k, v in section.from_config.items() if k != "model_type"}
        sizes.setdefault("vocab_size", len(tokenizer))
        if sizes["vocab_size"] < len(tokenizer):
            raise RecipeError(f"{source}: `model.from_config.vocab_size` ({sizes['vocab_size']}) is smaller than "
                              f"the tokenizer ({len(tokenizer)} tokens)")
        config = AutoConfig.for_model(section.from_config["model_type"], **sizes, **special)
        _apply_moe(config, section)
        if section.attn_implementation:
            config._attn_implementation = section.attn_implementation
        torch.manual_seed(seed)
        model = AutoModelForCausalLM.from_config(config, dtype=dtype, trust_remote_code=section.trust_remote_code)
    else:
        config = AutoConfig.from_pretrained(section.from_pretrained, trust_remote_code=section.trust_remote_code)
        check_moe(config, section, source)
        _apply_moe(config, section)
        kwargs: dict[str, Any] = {"config": config, "dtype": dtype, "trust_remote_code": section.trust_remote_code}
        if section.attn_implementation:
            kwargs["attn_implementation"] = section.attn_implementation
        model = AutoModelForCausalLM.from_pretrained(section.from_pretrained, **kwargs)
        if model.get_input_embeddings().weight.shape[0] < len(tokenizer):
            model.resize_token_embeddings(len(tokenizer))
    return model


def lora_config(section: ModelSection):
    if section.lora is None:
        return None
    from peft import LoraConfig

    lora = section.lora
    return LoraConfig(r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
                      target_modules=lora.target_modules, task_type="CAUSAL_LM")


def describe_model(model) -> dict[str, Any]:
    """Type, total and active parameters (experts count k/E of their weights per token), MoE settings."""
    config = model.config
    total = sum(p.numel() for p in model.parameters())
    info: dict[str, Any] = {"model_type": config.model_type, "n_params": total, "n_active_params": total}
    if is_moe_config(config):
        experts_attr, top_k_attr = moe_attributes(config)
        n_experts, top_k = config_attr(config, experts_attr), config_attr(config, top_k_attr)
        expert_params = sum(p.numel() for name, p in model.named_parameters()
                            if ".experts." in f"{name}." and "shared_expert" not in name)
        info["n_active_params"] = int(total - expert_params * (1 - top_k / n_experts))
        info["moe"] = {"num_experts": n_experts, "top_k": top_k,
                       "router_aux_loss_coef": getattr(config, "router_aux_loss_coef", None),
                       "output_router_logits": getattr(config, "output_router_logits", None)}
    return info
