"""One training run: validate config and data, build tokenizer and model, train with TRL, write the checkpoint.

Output folder: HF model + tokenizer, `trainer_state.json` (loss history), `metrics.jsonl`, `loss.png`,
`train_config.json` (resolved config) and `manifest.json` (written last: the file list, the mixture as parent,
config, seed, versions). Checkpoints `checkpoint-N/` are written every `training.save_steps`; a rerun into the
same folder resumes from the last complete one.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from tracemix.artifacts import begin, write_manifest
from tracemix.atomic import write_json
from tracemix.errors import DataError, RecipeError
from tracemix.provenance import config_hash, provenance
from training.config import Objective, TrainConfig, TrainTokenizer, load_config


def resolve_config(config, data=None, output=None, max_steps=None, seed=None, overrides=None) -> TrainConfig:
    """The validated config with the command-line style overrides applied (what `run_training` trains)."""
    extra: dict[str, Any] = dict(overrides or {})
    for key, value in (("data", data), ("output", output), ("seed", seed), ("training.max_steps", max_steps)):
        if value is not None:
            extra[key] = str(value) if key in ("data", "output") else value
    return load_config(config, extra)


def _check_resume(cfg: TrainConfig, output_dir: Path, resume: bool | None) -> str | None:
    """The checkpoint to resume from: the last one when present (resume=None), required (True) or refused."""
    from training.trainer import last_checkpoint

    ckpt = last_checkpoint(output_dir)
    if resume is True and ckpt is None:
        raise RecipeError(f"{output_dir}: no checkpoint-N folder to resume from; drop --resume to start fresh")
    if resume is False and ckpt is not None:
        raise RecipeError(f"{output_dir}: already holds {Path(ckpt).name}; resume (the default) or choose a new "
                          "--output")
    previous = output_dir / "train_config.json"
    if ckpt is not None and previous.is_file():
        def comparable(c: dict) -> dict:  # extending max_steps, or moving the folder, is allowed
            training = {k: v for k, v in c.get("training", {}).items() if k != "max_steps"}
            return {**{k: v for k, v in c.items() if k != "output"}, "training": training}

        old = json.loads(previous.read_text())
        if config_hash(comparable(old)) != config_hash(comparable(cfg.model_dump(mode="json"))):
            raise RecipeError(f"{output_dir}: its checkpoints come from a different config "
                              f"(see {previous.name}); use a new --output for this one")
    return ckpt


def load_tokenizer(cfg: TrainConfig, dataset, output_dir: Path, args=None):
    """The configured tokenizer; `{train: ...}` trains one on the mixture (once: reused when resuming)."""
    from transformers import AutoTokenizer

    spec = cfg.tokenizer
    if isinstance(spec, TrainTokenizer):
        from contextlib import nullcontext

        from training.data import iter_texts
        from training.tokenizer import train_tokenizer

        tok_dir = output_dir / "tokenizer"
        # One process trains, the others wait and load its files.
        first = args.main_process_first(local=False, desc="train tokenizer") if args else nullcontext()
        with first:
            if not (tok_dir / "tokenizer.json").is_file():
                import shutil

                tmp = output_dir / ".tokenizer.partial"  # renamed when complete: a crash leaves no half folder
                shutil.rmtree(tmp, ignore_errors=True)
                train_tokenizer(iter_texts(dataset), spec.train.vocab_size, tmp, spec.train.min_frequency)
                shutil.rmtree(tok_dir, ignore_errors=True)
                tmp.rename(tok_dir)
        tokenizer = AutoTokenizer.from_pretrained(str(tok_dir))
    else:
        source = spec or cfg.model.from_pretrained
        tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=cfg.model.trust_remote_code)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if cfg.objective == Objective.SFT and not tokenizer.chat_template:
        raise RecipeError(f"tokenizer `{spec}` has no chat template; SFT on `messages` needs one (a tokenizer "
                          "trained by tracemix has a ChatML template)")
    return tokenizer


def _expert_load(cfg: TrainConfig, raw, model, tokenizer, output_dir: Path) -> list:
    if cfg.expert_load is None:
        return []
    from training.callbacks import ExpertLoadCallback, domain_samples
    from training.model import check_expert_load

    check_expert_load(model.config, f"training config `{cfg.name}`")
    samples = domain_samples(raw, cfg.expert_load.samples_per_domain)
    if not samples:
        raise DataError(f"{cfg.data}: `expert_load` needs `domain` and `text` columns (a tagged mixture)")
    return [ExpertLoadCallback(samples, tokenizer, cfg.expert_load.every, output_dir / "expert_load.jsonl",
                               max_length=cfg.training.max_length)]


def load_result(folder: str | Path) -> dict[str, Any]:
    """The verified manifest of a finished training run (name, global_step, first/final loss, tokens_seen,
    model, tokenizer, `data` with the mixture's hashes, config, parents) plus `path` and `history` (per-step
    loss records from trainer_state.json)."""
    from tracemix.artifacts import read_manifest
    from training.trainer import loss_history

    manifest = read_manifest(folder, "checkpoint")
    state = json.loads((Path(folder) / "trainer_state.json").read_text())
    return {**manifest, "path": str(Path(folder)), "history": loss_history(state.get("log_history", []))}


def run_training(config: str | Path | dict[str, Any], data: str | Path | None = None,
                 output: str | Path | None = None, max_steps: int | None = None, seed: int | None = None,
                 overrides: dict[str, Any] | None = None, *, resume: bool | None = None,
                 callbacks: list | None = None) -> dict[str, Any]:
    """Train one model on one mixture and return its manifest (also written to `OUTPUT/manifest.json`).

    `config` is a YAML path or a dict; `data`, `output`, `max_steps` and `seed` override the config, and
    `overrides` sets any other key (dotted keys allowed: {"training.learning_rate": 1e-3}). `resume`:
    None resumes from the last checkpoint in the output folder when there is one, True requires one,
    False refuses to train into a folder that holds checkpoints.
    """
    from training.data import load_mixture
    from training.model import build_model, describe_model, lora_config
    from training.plots import plot_loss
    from training.trainer import build_trainer, loss_history, loss_token_share, sft_config

    cfg = resolve_config(config, data, output, max_steps, seed, overrides)
    if cfg.data is None:
        raise RecipeError(f"training config `{cfg.name}`: no data; set `data:` or pass --data MIXTURE_DIR")
    output_dir = Path(cfg.output or f"runs/{cfg.name}")
    ckpt = _check_resume(cfg, output_dir, resume)
    resolved = cfg.model_dump(mode="json")

    dataset, mixture, raw = load_mixture(cfg.data, cfg.objective, with_raw=True)
    args = sft_config(cfg, output_dir)
    if args.should_save:
        begin(output_dir, "checkpoint")  # readers refuse the folder until its manifest is written again
    tokenizer = load_tokenizer(cfg, dataset, output_dir, args)
    model = build_model(cfg.model, tokenizer, cfg.seed)
    model_info = describe_model(model)
    callbacks = [*(callbacks or []), *_expert_load(cfg, raw, model, tokenizer, output_dir)]
    trainer = build_trainer(cfg, model, tokenizer, dataset, output_dir, callbacks=callbacks,
                            peft_config=lora_config(cfg.model), args=args)
    if trainer.is_world_process_zero():
        write_json(output_dir / "train_config.json", resolved)

    start = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=ckpt)
    runtime = time.perf_counter() - start

    if cfg.model.lora is not None and cfg.model.lora.merge:
        merged = trainer.model.merge_and_unload()
        if trainer.is_world_process_zero():
            merged.save_pretrained(str(output_dir))
            tokenizer.save_pretrained(str(output_dir))
    else:
        trainer.save_model(str(output_dir))  # model (or adapter) + tokenizer
    trainer.save_state()  # trainer_state.json with the full log history

    history = loss_history(trainer.state.log_history)
    if not history:
        raise DataError(f"{cfg.data}: training logged no loss (0 steps?); check max_steps and the mixture size")
    tokens = trainer.state.num_input_tokens_seen
    trained_tok = isinstance(cfg.tokenizer, TrainTokenizer)
    tok_source = str(output_dir / "tokenizer") if trained_tok else (cfg.tokenizer or cfg.model.from_pretrained)
    parents = [mixture.pop("parent")]
    extra: dict[str, Any] = {
        "name": cfg.name, "objective": cfg.objective.value, "output": str(output_dir),
        "seed": cfg.seed, "global_step": trainer.state.global_step, "final_loss": history[-1]["loss"],
        "first_loss": history[0]["loss"], "train_loss": result.training_loss,
        "final_aux_loss": history[-1].get("aux_loss"), "resumed_from": ckpt,
        "tokens_seen": tokens, "train_runtime_s": round(runtime, 3),
        "assistant_only_loss": cfg.objective == Objective.SFT and cfg.training.assistant_only_loss,
        "loss_token_share": loss_token_share(trainer.train_dataset),
        "train_loop_s": result.metrics.get("train_runtime"),
        "model": model_info, "tokenizer": {"source": tok_source, "size": len(tokenizer)},
        "data": mixture,
    }
    if trainer.is_world_process_zero():
        plot_loss(history, output_dir / "loss.png", title=f"{cfg.name} ({model_info['model_type']})")
        # intermediate checkpoint-N folders are resume state, not part of the artifact
        return write_manifest(output_dir, "checkpoint", resolved, parents, extra=extra, skip=("checkpoint-*",))
    return {"kind": "checkpoint", **extra, **provenance(resolved), "parents": parents}
