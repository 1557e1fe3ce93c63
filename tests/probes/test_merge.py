import numpy as np
import pyarrow.parquet as pq
import pytest

from probes import run_probe
from probes.cli import main as probe_main
from probes.merge import merge_runs
from tests.probes.conftest import tiny_model
from tracemix.errors import TracemixError


def _counts(run):
    table = pq.read_table(run / "routing.parquet").to_pandas().sort_values(["layer", "domain", "expert"])
    return table.n_selected.tolist(), table.prob_sum.to_numpy()


def test_shards_sum_to_the_whole(tmp_path, planted_data, tiny_tokenizer):
    folder, _, _ = planted_data
    model = tiny_model("olmoe", seed=3)
    kw = dict(tokenizer=tiny_tokenizer, max_tokens_per_domain=10**6, batch_size=4, seq_len=16, progress=False)
    whole = run_probe(model, folder, tmp_path / "whole", **kw)
    parts = [run_probe(model, folder, tmp_path / f"s{i}", shard=(i, 3), **kw) for i in range(3)]
    assert sum(p["n_tokens"]["pure_code"] for p in parts) == whole["n_tokens"]["pure_code"]
    assert all(0 < p["n_tokens"]["math_text"] < whole["n_tokens"]["math_text"] for p in parts)
    merged = merge_runs([tmp_path / f"s{i}" for i in range(3)], tmp_path / "merged")
    assert merged["n_tokens"] == whole["n_tokens"]
    sel_whole, prob_whole = _counts(tmp_path / "whole")
    sel_merged, prob_merged = _counts(tmp_path / "merged")
    assert sel_merged == sel_whole
    np.testing.assert_allclose(prob_merged, prob_whole, rtol=1e-6)
    assert merged["summary"]["mean_jsd_by_pair"] == pytest.approx(whole["summary"]["mean_jsd_by_pair"], abs=1e-6)


def test_merge_refuses_a_repeated_shard_and_other_models(tmp_path, planted_data, tiny_tokenizer):
    folder, _, _ = planted_data
    kw = dict(tokenizer=tiny_tokenizer, max_tokens_per_domain=200, batch_size=4, seq_len=16, progress=False)
    run_probe(tiny_model("olmoe"), folder, tmp_path / "a", shard=(0, 2), **kw)
    run_probe(tiny_model("olmoe"), folder, tmp_path / "b", shard=(0, 2), **kw)
    with pytest.raises(TracemixError, match="repeat a data shard"):
        merge_runs([tmp_path / "a", tmp_path / "b"], tmp_path / "m")
    run_probe(tiny_model("mixtral"), folder, tmp_path / "c", shard=(1, 2), **kw)
    with pytest.raises(TracemixError, match="differs from"):
        merge_runs([tmp_path / "a", tmp_path / "c"], tmp_path / "m")
    with pytest.raises(TracemixError, match="has no counts.npz"):
        merge_runs([tmp_path / "a", tmp_path / "nope"], tmp_path / "m")


def test_bad_shard_spec_is_a_usage_error(capsys):
    with pytest.raises(SystemExit):
        probe_main(["--model", "m", "--data", "d", "--output", "o", "--shard", "2/2"])
    assert "need 0 <= I < N" in capsys.readouterr().err
