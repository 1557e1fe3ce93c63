"""TRL `SFTTrainer` set up from a `TrainConfig`: packed causal LM on `text`, or assistant-only SFT on `messages`.

Distribution is accelerate's job: the same code runs under `python`, `torchrun` or `accelerate launch`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from tracemix.errors import RecipeError
from training.config import Objective, Precision, ReportTo, TrainConfig


class MetricsLogCallback(TrainerCallback):
    """Append every logged record (loss, aux_loss, lr, grad_norm, ...) to `metrics.jsonl` as it happens."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and state.is_world_process_zero:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as f:
                f.write(json.dumps({"step": state.global_step, **logs}) + "\n")


def _load_weights_like_from_pretrained(model, checkpoint: str) -> None:
    """Checkpoints are written in the hub layout (e.g. one tensor per expert), which `Trainer`'s raw
    state-dict load does not convert back to the fused in-memory layout of MoE models; load them the way
    `from_pretrained` does, then copy the weights in (strict: every tensor must match)."""
    loaded = type(model).from_pretrained(checkpoint, dtype=next(model.parameters()).dtype)
    model.load_state_dict(loaded.state_dict(), strict=True)


def _precision(precision: Precision) -> dict[str, bool]:
    import torch

    if precision == Precision.AUTO:
        bf16 = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
        return {"bf16": bf16, "fp16": False}
    return {"bf16": precision == Precision.BF16, "fp16": precision == Precision.FP16}


def router_aux_loss_coef(model_config) -> float | None:
    """The coefficient TRL adds the aux loss with: the model's own, 0.0 when router logits are off."""
    if getattr(model_config, "output_router_logits", False):
        return getattr(model_config, "router_aux_loss_coef", None)
    return 0.0 if hasattr(model_config, "router_aux_loss_coef") else None


def _report_to(targets: list[ReportTo]) -> list[str]:
    """Integrations for `TrainingArguments.report_to`; TensorBoard is added by `build_trainer` instead, so its
    event files land in a fixed folder (OUTPUT/tensorboard/) rather than a timestamped one."""
    import importlib.util

    if ReportTo.WANDB in targets and importlib.util.find_spec("wandb") is None:
        raise RecipeError("`training.report_to: wandb` needs the wandb package: `pip install wandb`, then "
                          "`wandb login` (or set WANDB_API_KEY and WANDB_PROJECT in the environment)")
    if ReportTo.TENSORBOARD in targets and importlib.util.find_spec("tensorboard") is None:
        raise RecipeError("`training.report_to: tensorboard` needs the tensorboard package: `pip install tensorboard`")
    return [t.value for t in targets if t not in (ReportTo.NONE, ReportTo.TENSORBOARD)] or ["none"]


def tensorboard_callback(output_dir: str | Path):
    from transformers.integrations import TensorBoardCallback

    callback = TensorBoardCallback()
    callback.logging_dir = str(Path(output_dir) / "tensorboard")
    return callback


def sft_config(cfg: TrainConfig, output_dir: str | Path, **extra: Any):
    """The `trl.SFTConfig` for this run; `extra` (e.g. `use_cpu=True`) wins over the config's `training.extra`.

    Building it sets up the distributed state (accelerate), so build it before any per-process work.
    """
    import torch
    from trl import SFTConfig

    t = cfg.training
    sft = cfg.objective == Objective.SFT
    warmup = t.warmup_steps if t.warmup_steps < 1 else int(t.warmup_steps)
    kwargs: dict[str, Any] = {
        "output_dir": str(output_dir), "seed": cfg.seed, "data_seed": cfg.seed,
        "max_steps": t.max_steps, "num_train_epochs": t.num_train_epochs,
        "per_device_train_batch_size": t.per_device_train_batch_size,
        "gradient_accumulation_steps": t.gradient_accumulation_steps,
        "learning_rate": t.learning_rate, "lr_scheduler_type": t.lr_scheduler_type, "warmup_steps": warmup,
        "weight_decay": t.weight_decay, "max_grad_norm": t.max_grad_norm, "optim": t.optim,
        "max_length": t.max_length,
        # Packing: documents joined with EOS and cut into full max_length blocks, as in GPT/Llama pretraining
        # (`wrapped`: no token dropped, no padding, plain causal attention). `bfd_split` keeps documents
        # apart (padding-free, per-document attention), which pays off with flash attention on a GPU.
        "packing": (not sft) if t.packing is None else t.packing, "packing_strategy": "wrapped",
        "assistant_only_loss": sft and t.assistant_only_loss, "activation_checkpointing": t.gradient_checkpointing,
        "logging_steps": t.logging_steps, "logging_first_step": True,
        "include_num_input_tokens_seen": "non_padding",
        "save_strategy": "steps", "save_steps": t.save_steps, "save_total_limit": t.save_total_limit,
        "dataloader_num_workers": t.dataloader_num_workers, "report_to": _report_to(t.report_to),
        # Without a GPU, `use_cpu` makes torchrun / accelerate launch set up gloo DDP instead of N lone runs.
        "use_cpu": not torch.cuda.is_available(), "dataloader_pin_memory": torch.cuda.is_available(),
        **_precision(t.precision), **t.extra, **extra,
    }
    return SFTConfig(**kwargs)


def build_trainer(cfg: TrainConfig, model, tokenizer, dataset, output_dir: str | Path,
                  callbacks: list | None = None, peft_config=None, args=None, **sft_overrides: Any):
    """An `SFTTrainer` ready to `train()`; tokenisation, masking and packing happen here (TRL)."""
    from transformers import Trainer as BaseTrainer
    from trl import SFTTrainer

    class Trainer(SFTTrainer):
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            if cfg.training.token_metrics or not model.training:
                return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
            # The model's own loss (mean NLL on label tokens, plus coef * aux loss for MoE), as in a plain
            # `transformers.Trainer`; TRL's per-token entropy/accuracy metrics are skipped for speed.
            inputs["use_cache"] = False
            if self.aux_loss_enabled:
                inputs["output_router_logits"] = True
            loss, outputs = BaseTrainer.compute_loss(self, model, inputs, True, num_items_in_batch)
            if self.aux_loss_enabled:
                aux = self.accelerator.gather_for_metrics(outputs.aux_loss.detach()).mean().item()
                self._metrics["train"]["aux_loss"].append(aux)
            return (loss, outputs) if return_outputs else loss

        def _load_from_checkpoint(self, resume_from_checkpoint, model=None):
            target = model if model is not None else self.model
            plain = not (self.is_fsdp_enabled or self.is_deepspeed_enabled or hasattr(target, "peft_config"))
            if plain and (Path(resume_from_checkpoint) / "config.json").is_file():
                _load_weights_like_from_pretrained(target, resume_from_checkpoint)
            else:
                super()._load_from_checkpoint(resume_from_checkpoint, model)

    args = args or sft_config(cfg, output_dir, **sft_overrides)
    args.router_aux_loss_coef = router_aux_loss_coef(model.config)
    if args.assistant_only_loss and not _trl_can_mask(tokenizer):
        from training.chat_spans import derive_assistant_masks

        # Pre-tokenised rows with `assistant_masks`: TRL builds the labels from them and truncates.
        dataset = derive_assistant_masks(dataset, tokenizer, args.max_length, where=str(cfg.data or cfg.name))
        args.assistant_only_loss = False  # the masks are already in the data; TRL must not look for markers
    callbacks = [MetricsLogCallback(Path(output_dir) / "metrics.jsonl"), *(callbacks or [])]
    if ReportTo.TENSORBOARD in cfg.training.report_to:
        callbacks.append(tensorboard_callback(output_dir))
    return Trainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer,
                   callbacks=callbacks, peft_config=peft_config)


def _trl_can_mask(tokenizer) -> bool:
    """TRL masks assistant turns itself when the template has `{% generation %}` markers or is one it patches."""
    from trl.chat_template_utils import get_training_chat_template, has_generation_markers

    if has_generation_markers(tokenizer.chat_template):
        return True
    try:
        return get_training_chat_template(tokenizer) is not None
    except ValueError:  # an unknown template: derive the spans instead
        return False


def loss_token_share(dataset) -> float:
    """Share of the trained tokens whose label counts in the loss (1.0 without masking)."""
    if "labels" not in dataset.column_names:
        return 1.0
    counted = total = 0
    for batch in dataset.select_columns(["labels"]).iter(batch_size=1024):
        for labels in batch["labels"]:
            total += len(labels)
            counted += sum(1 for label in labels if label != -100)
    return round(counted / total, 6) if total else 0.0


def checkpoint_complete(folder: str | Path) -> bool:
    """Whether `Trainer` finished writing `checkpoint-N`: it writes `trainer_state.json` last, so a complete
    one has that file, readable, at step N (a kill while saving leaves it missing or cut short)."""
    folder = Path(folder)
    try:
        state = json.loads((folder / "trainer_state.json").read_text())
        return state.get("global_step") == int(folder.name.rsplit("-", 1)[1])
    except (OSError, ValueError, IndexError, AttributeError):
        return False


def last_checkpoint(output_dir: str | Path) -> str | None:
    """The newest complete `checkpoint-N` folder. Newer ones a crash left half-written are removed (they are
    not resumable and would be taken for the latest by the next save's rotation)."""
    import re
    import shutil
    import sys

    output_dir = Path(output_dir)
    if not output_dir.is_dir():
        return None
    found = [p for p in output_dir.iterdir() if p.is_dir() and re.fullmatch(r"checkpoint-\d+", p.name)]
    for folder in sorted(found, key=lambda p: int(p.name.split("-")[1]), reverse=True):
        if checkpoint_complete(folder):
            return str(folder)
        print(f"[train] {folder} was being written when a run stopped; removing it and resuming from the "
              "last complete checkpoint", file=sys.stderr, flush=True)
        shutil.rmtree(folder, ignore_errors=True)  # every rank may get here
    return None


def loss_history(log_history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per-step training records (step, loss, aux_loss when logged), from `trainer_state.json`'s history."""
    keys = ("loss", "aux_loss", "learning_rate", "grad_norm", "num_tokens")
    return [{"step": rec["step"], **{k: rec[k] for k in keys if k in rec}}
            for rec in log_history if "loss" in rec and "step" in rec]
