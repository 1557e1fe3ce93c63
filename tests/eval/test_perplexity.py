import json
import math

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from eval.cli import main as eval_main
from eval.perplexity import domain_loss
from tracemix.artifacts import write_manifest


def _tagged(folder, rows):
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"id": [r[0] for r in rows], "text": [r[1] for r in rows],
                             "domain": [r[2] for r in rows]}), folder / "00000.parquet")
    return folder


ROWS = [("g1", "The river flows through the old town and the market opens at dawn.", "general"),
        ("c1", "def add(a, b):\n    return a + b\n", "pure_code"),
        ("c2", "for i in range(10):\n    print(i * i)\n", "pure_code")]


def test_bits_per_byte_match_the_model_own_loss(tmp_path, tiny_model_dir, tiny_tokenizer):
    from transformers import AutoModelForCausalLM

    data = _tagged(tmp_path / "t", ROWS[:1])
    result = domain_loss(str(tiny_model_dir), data, tmp_path / "out", progress=False, device="cpu")
    model = AutoModelForCausalLM.from_pretrained(str(tiny_model_dir)).eval()
    ids = torch.tensor([[tiny_tokenizer.bos_token_id, *tiny_tokenizer(ROWS[0][1])["input_ids"]]])
    with torch.no_grad():
        expected = float(model(input_ids=ids, labels=ids).loss)  # every text token predicted, the first from bos
    n_tokens, n_bytes = ids.shape[1] - 1, len(ROWS[0][1].encode())
    general = result["domains"]["general"]
    assert general["loss"] == pytest.approx(expected, abs=1e-4)
    assert (general["n_tokens"], general["n_bytes"], general["n_documents"]) == (n_tokens, n_bytes, 1)
    assert general["bpb"] == pytest.approx(expected * n_tokens / math.log(2) / n_bytes, rel=1e-4)
    assert general["perplexity"] == pytest.approx(math.exp(expected), rel=1e-3)
    assert result["all"] == general and result["bpb"] == general["bpb"]
    assert json.loads((tmp_path / "out" / "perplexity.json").read_text())["domains"]["general"] == general
    docs = pq.read_table(tmp_path / "out" / "documents.parquet").to_pylist()
    assert [(d["id"], d["domain"], d["n_bytes"], d["n_tokens"]) for d in docs] == [("g1", "general", n_bytes, n_tokens)]
    assert docs[0]["bpb"] == pytest.approx(general["bpb"], rel=1e-5)


def test_long_documents_are_scored_whole_in_windows(tmp_path, tiny_model_dir, tiny_tokenizer):
    text = " ".join(["The river flows through the old town."] * 12)
    data = _tagged(tmp_path / "t", [("g", text, "general"), ("h", "A second document.", "general")])
    # the budget is met inside the first document, which is still scored to its end; the second is not taken
    result = domain_loss(str(tiny_model_dir), data, tmp_path / "out", max_tokens_per_domain=5, seq_len=16,
                         progress=False, device="cpu")
    general = result["domains"]["general"]
    assert general["n_tokens"] == len(tiny_tokenizer(text)["input_ids"])
    assert (general["n_documents"], general["n_bytes"]) == (1, len(text.encode()))
    whole = domain_loss(str(tiny_model_dir), data, max_tokens_per_domain=5, seq_len=512, progress=False,
                        device="cpu")["domains"]["general"]
    assert whole["n_tokens"] == general["n_tokens"] and whole["bpb"] != general["bpb"]  # context restarts


def test_padding_predicts_nothing_and_training_documents_are_held_out(tmp_path, tiny_model_dir):
    data = _tagged(tmp_path / "t", ROWS)
    alone = domain_loss(str(tiny_model_dir), _tagged(tmp_path / "c1", ROWS[1:2]), progress=False, device="cpu")
    batched = domain_loss(str(tiny_model_dir), data, batch_size=4, progress=False, device="cpu")
    mixture = _tagged(tmp_path / "mix", ROWS[2:])  # c2 was trained on
    write_manifest(mixture, "mixture", {"recipe": "held-out test"})
    held_out = domain_loss(str(tiny_model_dir), data, exclude=mixture, progress=False, device="cpu")
    assert held_out["domains"]["pure_code"] == alone["domains"]["pure_code"]
    assert batched["domains"]["pure_code"]["n_tokens"] > held_out["domains"]["pure_code"]["n_tokens"]
    assert held_out["manifest"]["config"]["n_excluded_ids"] == 1


def test_cli_writes_the_report(tmp_path, tiny_model_dir, capsys):
    data = _tagged(tmp_path / "t", ROWS)
    assert eval_main(["perplexity", "--model", str(tiny_model_dir), "--data", str(data), "--device", "cpu",
                      "--output", str(tmp_path / "out")]) == 0
    assert "pure_code" in capsys.readouterr().out
    report = (tmp_path / "out" / "report.md").read_text()
    assert "| pure_code |" in report and "| all |" in report and "bits per byte" in report
