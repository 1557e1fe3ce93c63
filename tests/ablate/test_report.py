from ablate.report import write_report
from ablate.stats import correct


def _variant(name, value, bpb, acc=0.0):
    runs = [{"seed": s, "metrics": {"bpb/math_text": b, "accuracy/all": acc}, "intervals": {}, "stages": {}}
            for s, b in zip([1, 2, 3], bpb, strict=True)]
    return {"name": name, "label": {"math": value}, "seeds": [1, 2, 3], "runs": runs,
            "metrics": {"bpb/math_text": {"mean": sum(bpb) / 3, "ci_low": min(bpb), "ci_high": max(bpb), "n": 3},
                        "accuracy/all": {"mean": acc, "ci_low": acc, "ci_high": acc, "n": 3}}}


def _summary(comparisons):
    return {"name": "s", "sweep": {"recipe": "r.yaml", "train": {"config": "t.yaml"}}, "ran": 9, "cached": 0,
            "alpha": 0.05, "correction": "holm",
            "frame": {"tokenizer": "ab" * 32, "tokenizer_path": "runs/x/cache/frame/k/tokenizer",
                      "heldout": "cache/frame/k/heldout.parquet", "heldout_hash": "c" * 64, "heldout_documents": 12,
                      "heldout_by_domain": {"general": 7, "math_text": 5},
                      "heldout_fraction": {"general": 0.1, "math_text": 0.1}},
            "variants": [_variant("math=0.05", 0.05, [4.9, 4.91, 4.92]), _variant("math=0.35", 0.35, [4.8, 4.8, 4.81]),
                         _variant("math=0.2", 0.2, [4.9, 4.95, 4.85])],
            "comparisons": correct(comparisons)}


def test_report_states_detected_and_undetectable_effects_and_why_accuracy_is_flat(tmp_path):
    comps = [
        {"metric": "bpb/math_text", "a": "math=0.05", "b": "math=0.35", "effect": -0.107, "ci_low": -0.12,
         "ci_high": -0.09, "p_value": 0.001, "test": "paired t", "n": 3},
        {"metric": "bpb/math_text", "a": "math=0.05", "b": "math=0.2", "effect": -0.01, "ci_low": -0.2,
         "ci_high": 0.18, "p_value": 0.6, "test": "paired t", "n": 3},
        {"metric": "accuracy/all", "a": "math=0.05", "b": "math=0.35", "effect": 0.0, "ci_low": 0.0,
         "ci_high": 0.0, "p_value": None, "test": "none (no variation)", "n": 3},
    ]
    plots = write_report(_summary(comps), tmp_path)
    report = (tmp_path / "report.md").read_text()
    assert ("- **Detected**: held-out bits per byte (math_text) is lower at `math=0.35` than at `math=0.05`: "
            "-0.107 bits/byte, 95% CI [-0.120, -0.090] (paired t over 3 seeds, Holm-adjusted p = 0.002).") in report
    assert "- No detectable effect on held-out bits per byte (math_text) at `math=0.2` vs `math=0.05`" in report
    assert "- No test on accuracy (all) at `math=0.35` vs `math=0.05`: +0.000; no variation" in report
    assert "Accuracy is 0.000 on every task in every run" in report
    assert "(3 comparisons, Holm correction at alpha = 0.05); 1 detected." in report
    assert "12 documents (general: 7, math_text: 5" in report
    assert "| bpb/math_text | 4.910 [4.900, 4.920] |" in report
    assert set(plots) == {"bpb", "accuracy"} and all((tmp_path / "plots" / f"{k}_vs_axis.png").stat().st_size
                                                     for k in plots)
