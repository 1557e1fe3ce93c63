import json
import math

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from eval.cli import main as eval_main
from eval.perplexity import domain_loss


def _tagged(folder, rows):
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"id": [r[0] for r in rows], "text": [r[1] for r in rows],
                             "domain": [r[2] for r in rows]}), folder / "00000.parquet")
    return folder


ROWS = [("g1", "The river flows through the old town and the market opens at dawn.", "general"),
        ("c1", "def add(a, b):\n    return a + b\n", "pure_code"),
        ("c2", "for i in range(10):\n    print(i * i)\n", "pure_code")]


def test_loss_matches_the_model_own_loss(tmp_path, tiny_model_dir, tiny_tokenizer):
    from transformers import AutoModelForCausalLM

    data = _tagged(tmp_path / "t", ROWS[:1])
    result = domain_loss(str(tiny_model_dir), data, tmp_path / "out", progress=False, device="cpu")
    model = AutoModelForCausalLM.from_pretrained(str(tiny_model_dir)).eval()
    ids = torch.tensor([tiny_tokenizer(ROWS[0][1])["input_ids"]])
    with torch.no_grad():
        expected = float(model(input_ids=ids, labels=ids).loss)
    general = result["domains"]["general"]
    assert general["loss"] == pytest.approx(expected, abs=1e-4)
    assert general["n_tokens"] == ids.shape[1] - 1
    assert general["perplexity"] == pytest.approx(math.exp(expected), rel=1e-3)
    assert json.loads((tmp_path / "out" / "perplexity.json").read_text())["domains"]["general"] == general


def test_padding_predicts_nothing_and_training_documents_are_held_out(tmp_path, tiny_model_dir):
    data = _tagged(tmp_path / "t", ROWS)
    alone = domain_loss(str(tiny_model_dir), _tagged(tmp_path / "c1", ROWS[1:2]), progress=False, device="cpu")
    batched = domain_loss(str(tiny_model_dir), data, batch_size=4, progress=False, device="cpu")
    mixture = _tagged(tmp_path / "mix", ROWS[2:])  # c2 was trained on
    held_out = domain_loss(str(tiny_model_dir), data, exclude=mixture, progress=False, device="cpu")
    assert held_out["domains"]["pure_code"] == alone["domains"]["pure_code"]
    assert batched["domains"]["pure_code"]["n_tokens"] > held_out["domains"]["pure_code"]["n_tokens"]
    assert held_out["manifest"]["config"]["n_excluded_ids"] == 1


def test_cli_writes_the_report(tmp_path, tiny_model_dir, capsys):
    data = _tagged(tmp_path / "t", ROWS)
    assert eval_main(["perplexity", "--model", str(tiny_model_dir), "--data", str(data), "--device", "cpu",
                      "--output", str(tmp_path / "out")]) == 0
    assert "pure_code" in capsys.readouterr().out
    assert "| pure_code |" in (tmp_path / "out" / "report.md").read_text()
