import yaml

from tests.training.conftest import tiny_config
from tracemix.cli import main as tracemix


def test_train_verb_trains_and_reports(tiny_tokenizer_dir, text_mixture, tmp_path, capsys):
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(tiny_config(tiny_tokenizer_dir, "mixtral")))
    out = tmp_path / "run"
    assert tracemix(["train", str(path), "--data", str(text_mixture), "--output", str(out), "--max-steps", "2",
                     "--seed", "3", "--set", "training.learning_rate=0.005"]) == 0
    assert "trained tiny_mixtral: 2 steps" in capsys.readouterr().out
    saved = yaml.safe_load((out / "train_config.json").read_text())
    assert (saved["seed"], saved["training"]["learning_rate"]) == (3, 0.005)
    assert tracemix(["train", str(path), "--data", str(text_mixture), "--output", str(out), "--max-steps", "3",
                     "--seed", "3", "--set", "training.learning_rate=0.005", "--resume"]) == 0
    assert "trained tiny_mixtral: 3 steps" in capsys.readouterr().out


def test_check_and_errors_exit_2_without_traceback(tiny_tokenizer_dir, text_mixture, tmp_path, capsys):
    path = tmp_path / "cfg.yaml"
    raw = tiny_config(tiny_tokenizer_dir, "llama")
    path.write_text(yaml.safe_dump(raw))
    assert tracemix(["train", str(path), "--data", str(text_mixture), "--check"]) == 0
    assert "valid; 32 rows for objective causal_lm" in capsys.readouterr().out
    raw["model"]["moe"] = {"top_k": 2}
    path.write_text(yaml.safe_dump(raw))
    assert tracemix(["train", str(path), "--check"]) == 2
    err = capsys.readouterr().err
    assert "model.moe: sets top_k but `llama` is a dense model type" in err and "Traceback" not in err
