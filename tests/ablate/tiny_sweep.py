"""A two-variant sweep small enough to run each stage as a Slurm job or Ray task in seconds: mix -> train."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

TRAIN = {
    "name": "tiny", "objective": "causal_lm", "seed": 0,
    "tokenizer": {"train": {"vocab_size": 300, "min_frequency": 2}},
    "model": {"from_config": {"model_type": "llama", "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1,
                              "num_attention_heads": 2, "num_key_value_heads": 1, "max_position_embeddings": 64}},
    "training": {"max_steps": 2, "per_device_train_batch_size": 4, "learning_rate": 1e-3, "max_length": 32,
                 "packing": True, "logging_steps": 1, "save_steps": 100, "precision": "fp32"},
}


def tagged_corpus(root: Path) -> Path:
    from curation.demo.data import write_demo
    from curation.tagging.tag import run_tag

    write_demo(root / "raw", docs=150, chats_n=0, seed=0)
    run_tag(str(root / "raw" / "corpus.jsonl"), root / "tagged", quiet=True)
    return root / "tagged"


def write_sweep(root: Path, tagged: Path, name: str = "tiny", **extra) -> Path:
    """The sweep under `root`; its stage keys depend only on `tagged` and the settings (not on `root`)."""
    recipe = {"name": "m", "sources": [str(tagged)], "budget": {"unit": "bytes", "total": 6_000},
              "mixture": {"general": 0.4, "pure_code": 0.2, "code_text": 0.2, "math_text": 0.2},
              "density": {"math_text": {"by": "scaffold_score", "threshold": 0.4, "share": 0.5}},
              "max_repeats": 3, "seed": 0, "output": {"path": str(tagged.parent / "unused"), "format": "parquet"}}
    root.mkdir(parents=True, exist_ok=True)
    (root / "recipe.yaml").write_text(yaml.safe_dump(recipe))
    (root / "train.yaml").write_text(yaml.safe_dump(TRAIN))
    sweep = {"name": name, "recipe": str(root / "recipe.yaml"), "axes": {"density.math_text.share": [0.0, 1.0]},
             "train": {"config": str(root / "train.yaml")}, "seed": 0,
             "resources": {"default": {"cpus": 1}},  # one torch thread on every engine: identical results
             **extra}
    (root / "sweep.yaml").write_text(yaml.safe_dump(sweep))
    return root / "sweep.yaml"


def stage_records(output: Path, stage: str) -> dict[str, dict]:
    """Stage key -> its `stage.json` record."""
    return {p.parent.name: json.loads(p.read_text()) for p in (output / "cache" / stage).glob("*/stage.json")}


def final_losses(output: Path) -> dict[tuple[str, int], float]:
    """(mixture key, seed) -> final training loss. Mixture keys hash the data and the recipe's content only,
    so they match across output folders and sweep files."""
    return {(r["inputs"]["mix"], r["inputs"]["seed"]): r["result"]["final_loss"]
            for r in stage_records(output, "train").values()}
