import json

import pytest

from probes import compare_runs, run_probe
from tests.probes.conftest import planted_mixtral
from tracemix.errors import TracemixError


def _probe(model, folder, out, tok):
    run_probe(model, folder, out, tokenizer=tok, max_tokens_per_domain=60, batch_size=4, seq_len=12,
              sample_tokens=30, progress=False)
    return out


def test_identical_and_swapped_routing(tmp_path, planted_data, tiny_tokenizer):
    folder, ids_code, ids_math = planted_data
    a = _probe(planted_mixtral(ids_code, ids_math), folder, tmp_path / "a", tiny_tokenizer)
    a2 = _probe(planted_mixtral(ids_code, ids_math), folder, tmp_path / "a2", tiny_tokenizer)
    b = _probe(planted_mixtral(ids_math, ids_code), folder, tmp_path / "b", tiny_tokenizer)  # domains swap

    same = compare_runs(a, a2, tmp_path / "same")
    assert same["displacement"] == {"pure_code": [0.0, 0.0], "math_text": [0.0, 0.0]}
    assert same["router_saturation"]["n_tokens"] == 60
    assert same["router_saturation"]["per_layer"] == [1.0, 1.0]

    moved = compare_runs(a, b, tmp_path / "moved")
    assert moved["mean_displacement"] == {"pure_code": pytest.approx(1.0), "math_text": pytest.approx(1.0)}
    assert moved["router_saturation"]["per_domain"] == {"pure_code": [0.0, 0.0], "math_text": [0.0, 0.0]}
    assert {p.name for p in (tmp_path / "moved").iterdir()} >= {"metrics.json", "report.md", "displacement.png",
                                                                "manifest.json"}
    assert json.loads((tmp_path / "moved" / "metrics.json").read_text())["domains"] == ["pure_code", "math_text"]
    assert "Routing moved most for" in (tmp_path / "moved" / "report.md").read_text()


def test_compare_needs_probe_folders(tmp_path):
    (tmp_path / "a").mkdir()
    with pytest.raises(TracemixError, match="has no counts.npz"):
        compare_runs(tmp_path / "a", tmp_path / "a", tmp_path / "c")
