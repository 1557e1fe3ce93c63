"""Sweeps end to end in one frame, three training seeds per variant: an A/A sweep finds nothing, a planted
effect is found, every run shares the tokenizer and no held-out document is ever trained on.

Both sweeps write to one output folder, so the baseline variant they share (math_text 0.05, selection seed 0)
is mixed and trained once."""

import json
from pathlib import Path

import polars as pl
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
    "training": {"max_steps": 24, "per_device_train_batch_size": 4, "learning_rate": 3e-3, "max_length": 64,
                 "packing": True, "logging_steps": 4, "save_steps": 1000},
}
SEEDS = [1, 2, 3]
pytestmark = pytest.mark.slow  # nine tiny training runs: the end-to-end proof of the frame and the statistics


def _sweep(root, name, axis, **stages):
    recipe = {"name": "m", "sources": [str(root / "tagged")], "budget": {"unit": "bytes", "total": 20_000},
              "mixture": {"general": 0.6, "pure_code": 0.1, "code_text": 0.1, "math_text": 0.2},
              "max_repeats": 3, "seed": 0, "output": {"path": str(root / "unused"), "format": "parquet"}}
    (root / "recipe.yaml").write_text(yaml.safe_dump(recipe))
    (root / "train.yaml").write_text(yaml.safe_dump(TRAIN))
    sweep = {"name": name, "recipe": str(root / "recipe.yaml"), "axes": axis,
             "train": {"config": str(root / "train.yaml")},
             "perplexity": {"max_tokens_per_domain": 1500, "seq_len": 64, "batch_size": 8},
             "seeds": SEEDS, "heldout": 0.2, **stages}
    (root / f"{name}.yaml").write_text(yaml.safe_dump(sweep, sort_keys=False))
    return root / f"{name}.yaml"


@pytest.fixture(scope="module")
def sweeps(tmp_path_factory):
    from curation.demo.data import write_demo
    from curation.tagging.tag import run_tag

    root = tmp_path_factory.mktemp("sweeps")
    write_demo(root / "raw", docs=300, chats_n=0, seed=0)
    run_tag(str(root / "raw" / "corpus.jsonl"), root / "tagged")
    out = root / "run"
    # A/A: the same shares, only the mixture's selection seed differs; it also runs eval and probe stages
    aa = run_sweep(_sweep(root, "aa", {"selection": {"seed": [0, 1], "mixture.math_text": [0.05, 0.05],
                                                     "mixture.general": [0.75, 0.75]}},
                          eval={"tasks": ["coin_flip"], "limit": 4, "max_new_tokens": 4, "batch_size": 4},
                          probe={"max_tokens_per_domain": 256, "seq_len": 32, "batch_size": 8}), out)
    for name in ("summary.json", "report.md"):  # the A/A sweep's own, before the planted sweep replaces them
        (root / f"aa.{name.split('.')[1]}").write_text((out / name).read_text())
    planted = run_sweep(_sweep(root, "planted", {"math": {"mixture.math_text": [0.05, 0.35],
                                                          "mixture.general": [0.75, 0.45], "seed": [0, 0]}}), out)
    return root, out, aa, planted


def test_an_aa_sweep_reports_no_significant_comparison(sweeps):
    _, _, aa, _ = sweeps
    assert [v["name"] for v in aa["variants"]] == ["selection=0", "selection=1"]
    bpb = [c for c in aa["comparisons"] if c["metric"].startswith("bpb/")]
    assert len(bpb) == 5 and all(c["test"] == "paired t" and c["n"] == 3 for c in bpb)
    assert {c["metric"] for c in aa["comparisons"]} >= {"accuracy/coin_flip", "accuracy/all", "jsd/layer0", "jsd/layer1"}
    assert not any(c["significant"] for c in aa["comparisons"]), aa["comparisons"]


def test_a_planted_effect_is_detected_in_both_directions(sweeps):
    _, _, aa, planted = sweeps
    by_metric = {c["metric"]: c for c in planted["comparisons"]}
    math, general = by_metric["bpb/math_text"], by_metric["bpb/general"]
    assert math["effect"] < 0 and math["significant"], math  # more math in training: math text is cheaper
    assert general["effect"] > 0 and general["significant"], general  # ... and general text costs more
    assert planted["ran"] == 1 + 3 * 2  # the baseline's mixture, training and loss came from the A/A sweep
    report = (sweeps[1] / "report.md").read_text()
    assert (sweeps[1] / "plots" / "bpb_vs_axis.png").stat().st_size > 0
    assert "**Detected**: held-out bits per byte (math_text) is lower at `math=0.35` than at `math=0.05`" in report
    assert "No detectable effect on" in report


def test_every_run_of_a_sweep_uses_the_frame_tokenizer(sweeps):
    _, out, aa, planted = sweeps
    frame = planted["frame"]
    assert frame == aa["frame"] and frame["heldout_documents"] > 0
    vocab = json.loads((Path(frame["tokenizer_path"]) / "tokenizer.json").read_text())
    runs = [r for s in (aa, planted) for v in s["variants"] for r in v["runs"]]
    assert len(runs) == 12
    for run in runs:
        ckpt = Path(run["stages"]["train"]["result"]["path"])
        assert json.loads((ckpt / "tokenizer.json").read_text())["model"] == vocab["model"]
        assert json.loads((ckpt / "manifest.json").read_text())["tokenizer"]["source"] == frame["tokenizer_path"]


def test_no_heldout_document_appears_in_any_mixture(sweeps):
    _, out, aa, planted = sweeps
    held = pl.read_parquet(out / planted["frame"]["heldout"])
    assert held.columns[:2] == ["id", "domain"]
    for variant in aa["variants"] + planted["variants"]:
        mix = pl.read_parquet(f"{variant['stages']['mix']['result']['path']}/*.parquet")
        assert mix.height and not set(mix["id"]) & set(held["id"])
        run = variant["runs"][0]["stages"]["perplexity"]["result"]["path"]
        scored = pl.read_parquet(f"{run}/documents.parquet")
        assert set(scored["id"]) <= set(held["id"])  # every variant is scored on the held-out set


def test_summary_contract_intervals_and_routing_bootstrap(sweeps):
    root, _, aa, _ = sweeps
    summary = json.loads((root / "aa.json").read_text())
    assert summary["comparisons"] == aa["comparisons"]
    assert set(summary["frame"]) >= {"tokenizer", "heldout", "heldout_hash", "heldout_documents"}
    variant = summary["variants"][1]
    assert variant["seeds"] == SEEDS and variant["label"] == {"selection": 1}
    assert {"bpb/math_text", "bpb/all", "accuracy/coin_flip", "accuracy/all", "jsd/layer0", "jsd/layer1"} <= set(
        variant["metrics"])
    for m in variant["metrics"].values():
        assert m["n"] == 3 and m["ci_low"] <= m["mean"] <= m["ci_high"]
    assert set(summary["comparisons"][0]) >= {"metric", "a", "b", "effect", "ci_low", "ci_high", "p_value",
                                              "significant"}
    run = variant["runs"][0]
    probe = json.loads((Path(run["stages"]["probe"]["result"]["path"]) / "metrics.json").read_text())
    for layer in probe["per_layer"]:  # the document bootstrap starts from the probe's own estimate
        assert run["metrics"][f"jsd/layer{layer['layer']}"] == pytest.approx(layer["mean_jsd"], abs=1e-5)
        boot = run["intervals"][f"jsd/layer{layer['layer']}"]
        assert boot["ci_low"] < boot["ci_high"] and boot["value"] == run["metrics"][f"jsd/layer{layer['layer']}"]
        assert run["intervals"][f"gjsd/layer{layer['layer']}"]["value"] == pytest.approx(layer["generalised_jsd"],
                                                                                          abs=1e-5)
    report = (root / "aa.md").read_text()
    assert "## Frame" in report and "No detectable effect on held-out bits per byte (general)" in report
    if all(r["metrics"]["accuracy/all"] == 0 for v in summary["variants"] for r in v["runs"]):
        assert "accuracy cannot move at this scale" in report


def test_a_finished_sweep_reruns_from_the_cache(sweeps):
    root, out, _, planted = sweeps
    again = run_sweep(root / "planted.yaml", out)
    assert (again["ran"], again["comparisons"]) == (0, planted["comparisons"])
