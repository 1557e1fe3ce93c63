"""Models: `from_pretrained` (hub id or local path) or `from_config` (random init from a model type and sizes).

MoE options are generic (`num_experts`, `top_k`, `router_aux_loss_coef`, `output_router_logits`) and mapped
onto each family's own config attribute names. The load-balancing loss is Switch/Mixtral's
`E * sum_e f_e * P_e`; OLMoE uses coefficient 0.01, Mixtral and Qwen-MoE 0.001.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tracemix.config import key_hint
from tracemix.errors import RecipeError
from tracemix.moe_families import MOE_FAMILIES, config_attr, family_of, set_config_attr
from training.config import ModelSection


def _config_class_instance(model_type: str, source: str):
    from transformers import AutoConfig
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    if model_type not in CONFIG_MAPPING:
        hint = key_hint(model_type, CONFIG_MAPPING.keys(), list_valid=False)
        raise RecipeError(f"{source}: `model.from_config.model_type`: unknown model type `{model_type}`{hint}")
    return AutoConfig.for_model(model_type)


def is_moe_config(config) -> bool:
    """A family of the MoE table (tracemix.moe_families), or any config exposing router logits."""
    return family_of(config) is not None or hasattr(config, "output_router_logits")


def moe_attributes(config) -> tuple[str, str]:
    """(config attribute for the number of experts, attribute for top-k); dotted for nested configs."""
    family = family_of(config)
    if family is not None:
        return family.experts_attr, family.top_k_attr
    for experts in ("num_experts", "num_local_experts", "n_routed_experts"):
        if hasattr(config, experts):
            return experts, "num_experts_per_tok"
    raise RecipeError(f"model type `{config.model_type}` has no known number-of-experts attribute")


def check_expert_load(config, source: str) -> None:
    if not is_moe_config(config):
        raise RecipeError(f"{source}: `expert_load` needs a MoE model; `{config.model_type}` is dense")


def _check_moe(config, section: ModelSection, source: str) -> None:
    """A dense type with MoE options is an error; so is an aux-loss coefficient for a router without one."""
    moe = section.moe
    if moe is None:
        return
    set_keys = [k for k, v in moe.model_dump().items() if v is not None]
    if not set_keys:
        return
    if not is_moe_config(config):
        moe_types = ", ".join(sorted(MOE_FAMILIES)[:6])
        raise RecipeError(f"{source}: `model.moe` sets {', '.join(set_keys)} but `{config.model_type}` is a dense "
                          f"model type; remove `model.moe` or use a MoE type ({moe_types}, ...)")
    if moe.router_aux_loss_coef and not hasattr(config, "router_aux_loss_coef"):
        raise RecipeError(f"{source}: `model.moe.router_aux_loss_coef`: `{config.model_type}` has no auxiliary "
                          "load-balancing loss (its router balances load another way); remove the key")
    if section.from_pretrained is not None and moe.num_experts is not None:
        experts_attr, _ = moe_attributes(config)
        if config_attr(config, experts_attr) != moe.num_experts:
            raise RecipeError(f"{source}: `model.moe.num_experts` ({moe.num_experts}) differs from the pretrained "
                              f"checkpoint's {config_attr(config, experts_attr)}; the expert weights cannot change")


# Attributes many modeling files read with `getattr(config, name, default)` without declaring them.
_OPTIONAL_ATTRIBUTES = {"head_dim"}


def _check_sizes(config, sizes: dict[str, Any], source: str) -> None:
    declared = {k for cls in type(config).__mro__ for k in getattr(cls, "__annotations__", {})}
    known = set(config.to_dict()) | set(getattr(config, "attribute_map", {})) | declared | _OPTIONAL_ATTRIBUTES
    for key in sizes:
        if key != "model_type" and key not in known and not hasattr(config, key):
            hint = key_hint(key, sorted(known), list_valid=False)
            raise RecipeError(f"{source}: `model.from_config.{key}` is not a `{config.model_type}` config "
                              f"attribute{hint}")


def validate_model_section(section: ModelSection, source: str) -> None:
    """Checks that need the model's config class; runs at config load, before any data or weights."""
    if section.from_config is not None:
        config = _config_class_instance(section.from_config["model_type"], source)
        _check_sizes(config, section.from_config, source)
        _check_moe(config, section, source)
        return
    local = Path(section.from_pretrained) / "config.json"
    if local.is_file():  # hub ids are checked once their config is fetched, still before training
        model_type = json.loads(local.read_text()).get("model_type")
        if model_type:
            config = _config_class_instance(model_type, source)
            _check_moe(config, section, source)


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
        _check_moe(config, section, source)
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
