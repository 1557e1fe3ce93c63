"""Training configs: YAML parsed into pydantic models and validated before any compute.

    # tracemix train recipes/train/tiny_moe.yaml --data data/mixtures/demo/math_density --output runs/tiny_moe
    name: tiny_moe
    objective: causal_lm            # causal_lm (packed raw `text`) | sft (`messages`, assistant-only loss)
    tokenizer: {train: {vocab_size: 2048}}   # or a local path / hub id
    model:
      from_config: {model_type: qwen3_moe, hidden_size: 32, num_hidden_layers: 2, ...}
      moe: {num_experts: 4, top_k: 2, router_aux_loss_coef: 0.01}
    training: {max_steps: 30, learning_rate: 3.0e-3, max_length: 64}

Unknown keys are errors with a did-you-mean; every message names the file and the key.
"""

from __future__ import annotations

import dataclasses
import json
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from tracemix.config import ConfigModel, key_hint, read_yaml_mapping
from tracemix.config import load_config as load_config_file
from tracemix.errors import RecipeError
from tracemix.moe_families import MOE_FAMILIES, config_attr, family_of

CONFIG_KEYS = "name, objective, model, training, ..."


class Objective(StrEnum):
    CAUSAL_LM = "causal_lm"  # next-token loss on raw `text`, packed into fixed-length blocks
    SFT = "sft"  # chat template on `messages`, loss on assistant turns only


class Precision(StrEnum):
    AUTO = "auto"  # bf16 on a GPU that supports it, fp32 otherwise
    FP32 = "fp32"
    BF16 = "bf16"
    FP16 = "fp16"


class _Strict(ConfigModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class TokenizerTraining(_Strict):
    vocab_size: int = Field(8192, ge=260)
    min_frequency: int = Field(2, ge=1)


class TrainTokenizer(_Strict):
    """Train a byte-level BPE on the mixture; it is saved with the checkpoint."""

    train: TokenizerTraining


class MoEOptions(_Strict):
    """Generic MoE options, mapped onto each family's config attribute names in `training.model`."""

    num_experts: int | None = Field(None, ge=2)
    top_k: int | None = Field(None, ge=1)
    router_aux_loss_coef: float | None = Field(None, ge=0.0)
    output_router_logits: bool | None = None

    @model_validator(mode="after")
    def _top_k_fits(self) -> MoEOptions:
        if self.num_experts is not None and self.top_k is not None and self.top_k > self.num_experts:
            raise ValueError(f"top_k ({self.top_k}) cannot exceed num_experts ({self.num_experts})")
        return self


class LoRAOptions(_Strict):
    r: int = Field(16, ge=1)
    alpha: int = Field(32, ge=1)
    dropout: float = Field(0.05, ge=0.0, lt=1.0)
    target_modules: list[str] | str = "all-linear"
    merge: bool = False  # merge the adapter into the base weights when saving the final checkpoint


class ModelSection(_Strict):
    from_pretrained: str | None = None  # hub id or local folder
    from_config: dict[str, Any] | None = None  # {model_type: ..., architecture sizes ...}; random init
    moe: MoEOptions | None = None
    lora: LoRAOptions | None = None
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    attn_implementation: str | None = None  # sdpa | eager | flash_attention_2 ...
    trust_remote_code: bool = False

    @model_validator(mode="after")
    def _one_source(self) -> ModelSection:
        if (self.from_pretrained is None) == (self.from_config is None):
            raise ValueError("set exactly one of `from_pretrained` (hub id or path) or `from_config` "
                             "({model_type: ..., sizes})")
        if self.from_config is not None and "model_type" not in self.from_config:
            raise ValueError("`from_config` needs a `model_type` (e.g. qwen3_moe, olmoe, mixtral, llama, qwen2)")
        if self.from_config is not None and self.lora is not None and not self.lora.merge:
            raise ValueError("a LoRA adapter on a `from_config` model has no base checkpoint to load it with; "
                             "set `lora.merge: true` or fine-tune a `from_pretrained` model")
        return self


class ReportTo(StrEnum):
    NONE = "none"
    TENSORBOARD = "tensorboard"  # event files in OUTPUT/tensorboard/
    WANDB = "wandb"  # needs `pip install wandb` and `wandb login` (or WANDB_API_KEY) on the machine


class TrainingSection(_Strict):
    max_steps: int = -1  # -1: run `num_train_epochs` instead
    num_train_epochs: float = Field(1.0, gt=0)
    per_device_train_batch_size: int = Field(8, ge=1)
    gradient_accumulation_steps: int = Field(1, ge=1)
    learning_rate: float = Field(2e-5, gt=0)
    lr_scheduler_type: str = "cosine"
    warmup_steps: float = Field(0, ge=0)  # an int is a step count, a float below 1 a fraction of the run
    weight_decay: float = Field(0.0, ge=0)
    max_grad_norm: float = Field(1.0, ge=0)
    max_length: int = Field(1024, ge=8)
    packing: bool | None = None  # default: on for causal_lm, off for sft
    precision: Precision = Precision.AUTO
    gradient_checkpointing: bool = False
    optim: str = "adamw_torch"
    logging_steps: int = Field(10, ge=1)
    save_steps: int = Field(500, ge=1)
    save_total_limit: int | None = Field(2, ge=1)
    dataloader_num_workers: int = Field(0, ge=0)
    token_metrics: bool = False  # log TRL's per-token entropy and accuracy (costs a fused-head pass)
    # sft only: loss on assistant replies (and their end-of-turn token) only; false trains on whole chats
    assistant_only_loss: bool = True
    report_to: list[ReportTo] = Field(default_factory=lambda: [ReportTo.NONE])  # training logs also go there

    @field_validator("report_to", mode="before")
    @classmethod
    def _one_or_many(cls, value):
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _none_alone(self) -> TrainingSection:
        if ReportTo.NONE in self.report_to and len(self.report_to) > 1:
            raise ValueError("`report_to: none` cannot be combined with other targets")
        return self
    extra: dict[str, Any] = Field(default_factory=dict)  # any other `trl.SFTConfig` argument


class ExpertLoad(_Strict):
    """Record per-domain expert load every `every` steps on the first `samples_per_domain` docs per domain."""

    every: int = Field(ge=1)
    samples_per_domain: int = Field(8, ge=1)


class TrainConfig(_Strict):
    name: str
    objective: Objective = Objective.CAUSAL_LM
    data: str | None = None  # mixture folder (or hub dataset id); `--data` overrides
    output: str | None = None  # default: runs/<name>
    seed: int = 42
    tokenizer: str | TrainTokenizer | None = None  # default: the pretrained model's own tokenizer
    model: ModelSection
    training: TrainingSection = Field(default_factory=TrainingSection)
    expert_load: ExpertLoad | None = None  # MoE only; needs the mixture's `domain` column

    @model_validator(mode="after")
    def _tokenizer_known(self) -> TrainConfig:
        if self.tokenizer is None and self.model.from_pretrained is None:
            raise ValueError("`tokenizer` is required for a `from_config` model: a path / hub id, or "
                             "{train: {vocab_size: N}} to train one on the mixture")
        return self


# Keys that tracemix sets itself; `training.extra` may not override them.
_MANAGED = {"output_dir", "seed", "bf16", "fp16", "assistant_only_loss", "dataset_text_field",
            "router_aux_loss_coef", "max_length", "packing", "report_to", "activation_checkpointing",
            "gradient_checkpointing"}


def _check_extra(cfg: TrainConfig, source: str) -> None:
    from trl import SFTConfig

    valid = [f.name for f in dataclasses.fields(SFTConfig)]
    for key in cfg.training.extra:
        if key in _MANAGED or key in TrainingSection.model_fields:
            raise RecipeError(f"{source}: training.extra.{key}: set by tracemix; use the config key for it "
                              "instead (e.g. `training.precision`, top-level `seed`)")
        if key not in valid:
            raise RecipeError(f"{source}: training.extra.{key}: not a trl.SFTConfig argument{key_hint(key, valid)}")


def read_config_file(path: str | Path) -> dict[str, Any]:
    return read_yaml_mapping(path, "training config", hint=" (see recipes/train/ for examples)", keys=CONFIG_KEYS)


def load_config(config: str | Path | dict[str, Any], overrides: dict[str, Any] | None = None) -> TrainConfig:
    """Parse and validate a training config (a YAML path or a dict); `overrides` may use dotted keys."""
    source = "training config" if isinstance(config, dict) else str(config)
    cfg = load_config_file(config, TrainConfig, overrides=overrides, what="training config", keys=CONFIG_KEYS,
                           hint=" (see recipes/train/ for examples)", name=source)
    _check_extra(cfg, source)
    validate_model_section(cfg.model, source)
    return cfg


# Checks that need the model's config class (transformers), still before any data or weights.


def _config_class_instance(model_type: str, source: str):
    from transformers import AutoConfig
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    if model_type not in CONFIG_MAPPING:
        hint = key_hint(model_type, CONFIG_MAPPING.keys(), list_valid=False)
        raise RecipeError(f"{source}: model.from_config.model_type: unknown model type `{model_type}`{hint}")
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


def check_moe(config, section: ModelSection, source: str) -> None:
    """A dense type with MoE options is an error; so is an aux-loss coefficient for a router without one."""
    moe = section.moe
    if moe is None:
        return
    set_keys = [k for k, v in moe.model_dump().items() if v is not None]
    if not set_keys:
        return
    if not is_moe_config(config):
        moe_types = ", ".join(sorted(MOE_FAMILIES)[:6])
        raise RecipeError(f"{source}: model.moe: sets {', '.join(set_keys)} but `{config.model_type}` is a dense "
                          f"model type; remove `model.moe` or use a MoE type ({moe_types}, ...)")
    if moe.router_aux_loss_coef and not hasattr(config, "router_aux_loss_coef"):
        raise RecipeError(f"{source}: model.moe.router_aux_loss_coef: `{config.model_type}` has no auxiliary "
                          "load-balancing loss (its router balances load another way); remove the key")
    if section.from_pretrained is not None and moe.num_experts is not None:
        experts_attr, _ = moe_attributes(config)
        if config_attr(config, experts_attr) != moe.num_experts:
            raise RecipeError(f"{source}: model.moe.num_experts: {moe.num_experts} differs from the pretrained "
                              f"checkpoint's {config_attr(config, experts_attr)}; the expert weights cannot change")


# Attributes many modeling files read with `getattr(config, name, default)` without declaring them.
_OPTIONAL_ATTRIBUTES = {"head_dim"}


def _check_sizes(config, sizes: dict[str, Any], source: str) -> None:
    declared = {k for cls in type(config).__mro__ for k in getattr(cls, "__annotations__", {})}
    known = set(config.to_dict()) | set(getattr(config, "attribute_map", {})) | declared | _OPTIONAL_ATTRIBUTES
    for key in sizes:
        if key != "model_type" and key not in known and not hasattr(config, key):
            hint = key_hint(key, sorted(known), list_valid=False)
            raise RecipeError(f"{source}: model.from_config.{key}: not a `{config.model_type}` config "
                              f"attribute{hint}")


def validate_model_section(section: ModelSection, source: str) -> None:
    """Checks that need the model's config class; runs at config load, before any data or weights."""
    if section.from_config is not None:
        config = _config_class_instance(section.from_config["model_type"], source)
        _check_sizes(config, section.from_config, source)
        check_moe(config, section, source)
        return
    local = Path(section.from_pretrained) / "config.json"
    if local.is_file():  # hub ids are checked once their config is fetched, still before training
        model_type = json.loads(local.read_text()).get("model_type")
        if model_type:
            config = _config_class_instance(model_type, source)
            check_moe(config, section, source)
