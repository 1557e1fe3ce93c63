import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from probes import run_probe
from tests.probes.conftest import planted_mixtral, tiny_model
from tracemix.errors import TracemixError


def test_planted_routing_is_recovered_exactly(tmp_path, planted_data, tiny_tokenizer):
    from probes.data import iter_batches, read_documents

    folder, ids_code, ids_math = planted_data
    # padding routes like math; the code batches below are padded, so counting it would show up
    model = planted_mixtral(ids_code, ids_math + [tiny_tokenizer.pad_token_id])
    batches = iter_batches(read_documents(folder), tiny_tokenizer, 150, 3, 16, tiny_tokenizer.pad_token_id)
    assert any(not b.attention_mask.all() for b in batches if b.domain == "pure_code")
    m = run_probe(model, folder, tmp_path / "probe", tokenizer=tiny_tokenizer, max_tokens_per_domain=150,
                  batch_size=3, seq_len=16, progress=False)
    assert m["domains"] == ["pure_code", "math_text"]
    assert m["n_tokens"] == {"pure_code": 150, "math_text": 150}  # budgets exact, padding not counted
    table = pq.read_table(tmp_path / "probe" / "routing.parquet").to_pandas()
    for layer in (0, 1):
        code = table[(table.layer == layer) & (table.domain == "pure_code")].sort_values("expert")
        math = table[(table.layer == layer) & (table.domain == "math_text")].sort_values("expert")
        assert code.n_selected.tolist() == [150, 150, 0, 0]
        assert math.n_selected.tolist() == [0, 0, 150, 150]
        assert code.n_selected.sum() == 150 * 2  # tokens x k
    for row in m["per_layer"]:
        assert row["jsd"]["pure_code"]["math_text"] == pytest.approx(1.0)
        assert row["generalised_jsd"] == pytest.approx(1.0)
        assert row["core_experts"] == {"pure_code": [0], "math_text": [2]}
        assert row["core_jaccard"] == {"pure_code|math_text": 0.0}
        assert [0, 1, 1.0] in row["top_coactivation"] and [2, 3, 1.0] in row["top_coactivation"]
    for row in m["per_layer_domain"]:
        assert row["max_specialization"] == pytest.approx(1.0)  # every token of the domain uses expert 0 / 2
        assert row["normalised_entropy"] == pytest.approx(0.5)  # two of four experts, evenly
        assert row["repeat_rate"] == 1.0 and row["first_choice_repeat_rate"] == 1.0
    assert m["baselines"]["specialization_uniform"] == 0.5
    saved = json.loads((tmp_path / "probe" / "metrics.json").read_text())
    assert saved["summary"] == m["summary"] and "config_hash" in saved


def test_artifacts_and_manifest(tmp_path, planted_data, tiny_tokenizer):
    folder, ids_code, ids_math = planted_data
    out = tmp_path / "probe"
    run_probe(planted_mixtral(ids_code, ids_math), folder, out, tokenizer=tiny_tokenizer,
              max_tokens_per_domain=40, batch_size=2, seq_len=8, sample_tokens=10, progress=False)
    names = {p.name for p in out.iterdir()}
    assert {"routing.parquet", "metrics.json", "report.md", "manifest.json", "counts.npz", "tokens.npz",
            "jsd_by_layer.png", "heatmaps"} <= names
    assert sorted(p.name for p in (out / "heatmaps").iterdir()) == ["layer_000.png", "layer_001.png"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["max_tokens_per_domain"] == 40 and manifest["config"]["family"] == "mixtral"
    assert manifest["config"]["routers"] == ["model.layers.0.mlp.gate", "model.layers.1.mlp.gate"]
    with np.load(out / "tokens.npz") as z:
        assert z["experts"].shape == (20, 2, 2)  # 10 sampled tokens per domain, 2 layers, k = 2
        assert z["doc"][0] == "code-0" and z["position"][:3].tolist() == [0, 1, 2]
    text = (out / "report.md").read_text()
    assert "pure_code and math_text (mean JSD 1.000 bits)" in text


def test_deepseek_v3_probe_counts_the_bias_corrected_choice(tmp_path, planted_data, tiny_tokenizer):
    folder, _, _ = planted_data
    model = tiny_model("deepseek_v3")
    for layer in model.model.layers:
        layer.mlp.gate.e_score_correction_bias[[1, 6]] = 50.0  # forces experts {1, 6} whatever the logits
    m = run_probe(model, folder, tmp_path / "ds", tokenizer=tiny_tokenizer,
                  max_tokens_per_domain=30, batch_size=4, seq_len=8, progress=False)
    assert m["num_experts"] == 8 and m["n_tokens"] == {"pure_code": 30, "math_text": 30}
    table = pq.read_table(tmp_path / "ds" / "routing.parquet").to_pandas()
    assert set(table[table.n_selected > 0].expert) == {1, 6}
    assert (table[table.expert.isin([1, 6])].n_selected == 30).all()


def test_dense_model_is_refused_before_any_work(tmp_path, planted_data, tiny_tokenizer):
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.for_model("llama", vocab_size=512, hidden_size=32, intermediate_size=64,
                                  num_hidden_layers=1, num_attention_heads=4, num_key_value_heads=2)
    with pytest.raises(TracemixError, match="Supported families: Mixtral"):
        run_probe(AutoModelForCausalLM.from_config(config), planted_data[0], tmp_path / "x",
                  tokenizer=tiny_tokenizer, progress=False)
    assert not (tmp_path / "x").exists()


def test_domain_filter(tmp_path, planted_data, tiny_tokenizer):
    from tracemix.errors import DataError

    folder, ids_code, ids_math = planted_data
    m = run_probe(planted_mixtral(ids_code, ids_math), folder, tmp_path / "p", tokenizer=tiny_tokenizer,
                  max_tokens_per_domain=20, batch_size=4, seq_len=8, domains=["math_text"], progress=False)
    assert m["n_tokens"] == {"math_text": 20}
    with pytest.raises(DataError, match=r"domain\(s\) \['maths'\] not in .* it has \['pure_code', 'math_text'\]"):
        run_probe(planted_mixtral(ids_code, ids_math), folder, tmp_path / "q", tokenizer=tiny_tokenizer,
                  domains=["maths"], progress=False)

