import numpy as np
import pyarrow.parquet as pq
import torch

from probes.counts import RoutingCounts
from probes.report import ROUTING_SCHEMA, write_run
from tracemix.artifacts import external_ref


def test_write_run_files_and_report_text(tmp_path):
    c = RoutingCounts([0, 1], ["pure_code", "general"], 4, 2, sample_tokens=2)
    idx = torch.tensor([[0, 1], [0, 1], [2, 3], [2, 3]]).expand(2, 4, 2).contiguous()
    c.update(idx, None, None, torch.ones(2, 2, dtype=torch.long), torch.tensor([0, 1]))
    m = write_run(tmp_path, "toy", c, {"family": "toy"}, [external_ref("toy", "model")])
    table = pq.read_table(tmp_path / "routing.parquet")
    assert table.schema.equals(ROUTING_SCHEMA) and table.num_rows == 2 * 2 * 4
    assert table.column("n_selected").to_pylist()[:4] == [2, 2, 0, 0]
    report = (tmp_path / "report.md").read_text()
    assert report.startswith("# Routing probe: toy")
    assert "| pure_code | 2 | 0.500 | 1.000 |" in report
    assert m["summary"]["mean_jsd_by_pair"] == {"pure_code|general": 1.0}
    with np.load(tmp_path / "tokens.npz") as z:
        assert z["experts"].shape == (4, 2, 2) and z["domain_names"].tolist() == ["pure_code", "general"]
    assert (tmp_path / "heatmaps" / "layer_001.png").stat().st_size > 1000
