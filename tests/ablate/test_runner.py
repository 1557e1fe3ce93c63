"""A small sweep end to end: mix -> train -> eval -> probe, then the cache at work."""

import json

import pytest
import yaml

from ablate import run_sweep

TRAIN = {
    "name": "tiny", "objective": "causal_lm", "seed": 0,
    "tokenizer": {"train": {"vocab_size": 512, "min_frequency": 2}},
    "model": {"from_config": {"model_type": "qwen3_moe", "hidden_size": 32, "intermediate_size": 64,
                              "moe_intermediate_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
                              "num_key_value_heads": 1, "head_dim": 16, "max_position_embeddings": 128,
                              "decoder_sparse_step": 1},
              "moe": {"num_experts": 4, "top_k": 2, "router_aux_loss_coef": 0.01}},
    "training": {"max_steps": 2, "per_device_train_batch_size": 4, "learning_rate": 1e-3, "max_length": 64,
                 "packing": True, "logging_steps": 1, "save_steps": 100},
}


@pytest.fixture(scope="module")
def tagged(tmp_path_factory):
    from curation.demo.data import write_demo
    from curation.tagging.tag import run_tag

    root = tmp_path_factory.mktemp("sweep-data")
    write_demo(root / "raw", docs=300, chats_n=0, seed=0)
    run_tag(str(root / "raw" / "corpus.jsonl"), root / "tagged")
    return root


def _write(root, values):
    recipe = {"name": "m", "sources": [str(root / "tagged")], "budget": {"unit": "bytes", "total": 20_000},
              "mixture": {"general": 0.4, "pure_code": 0.2, "code_text": 0.2, "math_text": 0.2},
              "density": {"math_text": {"by": "scaffold_score", "threshold": 0.4, "share": 0.5}},
              "max_repeats": 3, "seed": 0, "output": {"path": str(root / "unused"), "format": "parquet"}}
    (root / "recipe.yaml").write_text(yaml.safe_dump(recipe))
    (root / "train.yaml").write_text(yaml.safe_dump(TRAIN))
    sweep = {"name": "t", "recipe": str(root / "recipe.yaml"), "axes": {"density.math_text.share": values},
             "train": {"config": str(root / "train.yaml")},
             "eval": {"tasks": ["coin_flip"], "limit": 4, "max_new_tokens": 4, "batch_size": 4},
             "perplexity": {"data": str(root / "tagged"), "max_tokens_per_domain": 128, "seq_len": 32},
             "probe": {"data": str(root / "tagged"), "max_tokens_per_domain": 128, "seq_len": 32, "batch_size": 4},
             "seed": 0}
    (root / "sweep.yaml").write_text(yaml.safe_dump(sweep))
    return root / "sweep.yaml"


def test_sweep_runs_caches_and_extends(tagged, tmp_path):
    out = tmp_path / "run"
    first = run_sweep(_write(tagged, [0.0, 1.0]), out)
    assert (first["ran"], first["cached"]) == (10, 0)
    report = (out / "report.md").read_text()
    assert "| math_text=0.0 |" in report and "| math_text=1.0 |" in report
    for plot in ("accuracy_vs_axis.png", "loss_vs_axis.png", "jsd_vs_axis.png", "displacement_vs_axis.png"):
        assert (out / "plots" / plot).stat().st_size > 0
    summary = json.loads((out / "summary.json").read_text())
    rows = summary["rows"]
    assert [r["label"] for r in rows] == [{"density.math_text.share": 0.0}, {"density.math_text.share": 1.0}]
    assert set(rows[0]["accuracy"]) == {"symbolic", "overall"}
    assert set(rows[0]["loss"]) == {"pure_code", "code_text", "math_text", "general"}
    assert all(0 < v < 10 for v in rows[0]["loss"].values())
    assert rows[0]["displacement_by_layer"] == {} and set(rows[1]["displacement_by_layer"]) == {"0", "1"}
    # the density axis changed what was selected: scaffold share of the math budget follows the axis
    manifests = [json.loads((out / "cache" / "mix" / v["stages"]["mix"]["key"] / "manifest.json").read_text())
                 for v in summary["variants"]]
    assert manifests[0] != manifests[1]

    again = run_sweep(_write(tagged, [0.0, 1.0]), out)
    assert (again["ran"], again["cached"]) == (0, 10)

    extended = run_sweep(_write(tagged, [0.0, 0.5, 1.0]), out)
    assert (extended["ran"], extended["cached"]) == (5, 10)
