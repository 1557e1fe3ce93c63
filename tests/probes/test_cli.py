import json

import pytest

from probes.cli import main
from tests.probes.conftest import planted_mixtral


@pytest.fixture
def checkpoint(tmp_path, planted_data, tiny_tokenizer):
    folder, ids_code, ids_math = planted_data
    ckpt = tmp_path / "ckpt"
    planted_mixtral(ids_code, ids_math).save_pretrained(ckpt)
    tiny_tokenizer.save_pretrained(ckpt)
    return ckpt, folder


def test_probe_and_compare_from_the_command_line(tmp_path, checkpoint, capsys):
    ckpt, data = checkpoint
    args = ["--model", str(ckpt), "--data", str(data), "--max-tokens-per-domain", "50", "--batch-size", "4",
            "--seq-len", "16", "--device", "cpu", "--no-progress"]
    assert main([*args, "--output", str(tmp_path / "a")]) == 0
    assert "probed pure_code 50, math_text 50 tokens over 2 MoE layers" in capsys.readouterr().out
    metrics = json.loads((tmp_path / "a" / "metrics.json").read_text())
    assert metrics["model"] == str(ckpt) and metrics["per_layer"][0]["mean_jsd"] == pytest.approx(1.0)
    assert main([*args, "--device-map", "auto", "--output", str(tmp_path / "b")]) == 0  # accelerate placement
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--output", str(tmp_path / "c")]) == 0
    assert "mean displacement (bits): pure_code 0.000, math_text 0.000" in capsys.readouterr().out


def test_errors_exit_2_without_traceback(tmp_path, checkpoint, capsys):
    from tracemix.cli import main as tracemix_main

    ckpt, _ = checkpoint
    (tmp_path / "bad").mkdir()
    code = tracemix_main(["probe", "--model", str(ckpt), "--data", str(tmp_path / "bad"), "--output",
                          str(tmp_path / "o"), "--no-progress", "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 2 and "no *.parquet or *.jsonl shards" in err and "Traceback" not in err
    code = tracemix_main(["probe", "compare", str(tmp_path / "bad"), str(tmp_path / "bad"), "--output", "x"])
    assert code == 2 and "has no counts.npz" in capsys.readouterr().err


def test_audit_from_the_command_line(tmp_path, checkpoint, capsys):
    import pyarrow.parquet as pq

    ckpt, data = checkpoint
    assert main(["audit", "--model", str(ckpt), "--data", str(data), "--output", str(tmp_path / "a"), "--export",
                 "--seq-len", "16", "--device", "cpu", "--no-progress"]) == 0
    assert "audited 24 documents: 0 route more like another domain than their tag" in capsys.readouterr().out
    assert pq.read_table(tmp_path / "a" / "audit.parquet").num_rows == 24
    assert pq.read_table(tmp_path / "a" / "exclude" / "suspicious_ids.parquet").num_rows == 0  # nothing contradicts its tag


def test_help_mentions_compare_audit_and_every_family(capsys):
    from tracemix.moe_families import supported

    with pytest.raises(SystemExit):
        main(["--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "tracemix probe compare" in out and "tracemix probe audit" in out
    assert all(f"{f.name} ({f.model_type})" in out for f in supported())
