import json
import shutil

import pytest
from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback

from tests.training.conftest import tiny_config
from tracemix.errors import DataError, RecipeError
from tracemix.provenance import file_hash
from training import run_training


class StopAt(TrainerCallback):
    """Simulates an interrupted run: training stops after `step` (a checkpoint was saved there)."""

    def __init__(self, step):
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step >= self.step:
            control.should_training_stop = True


def _losses(run_dir):
    history = json.loads((run_dir / "trainer_state.json").read_text())["log_history"]
    return {rec["step"]: rec["loss"] for rec in history if "loss" in rec}


def test_same_seed_same_losses_and_resume_continues_exactly(tiny_tokenizer_dir, text_mixture, tmp_path):
    cfg = tiny_config(tiny_tokenizer_dir, "qwen3_moe", save_steps=3)
    full = run_training(cfg, data=text_mixture, output=tmp_path / "full", max_steps=6)
    run_training(cfg, data=text_mixture, output=tmp_path / "cut", max_steps=6, callbacks=[StopAt(3)])
    cut = _losses(tmp_path / "cut")
    assert sorted(cut) == [1, 2, 3] and all(cut[s] == _losses(tmp_path / "full")[s] for s in cut)

    half = tmp_path / "cut" / "checkpoint-5"  # a save cut short by a kill: trainer_state.json is written last
    shutil.copytree(tmp_path / "cut" / "checkpoint-3", half)
    (half / "trainer_state.json").write_text('{"global_step": 5, "log_hist')
    resumed = run_training(cfg, data=text_mixture, output=tmp_path / "cut", max_steps=6)  # auto-resume
    assert resumed["resumed_from"].endswith("checkpoint-3") and resumed["global_step"] == 6 and not half.exists()
    assert _losses(tmp_path / "cut") == _losses(tmp_path / "full")
    assert resumed["final_loss"] == full["final_loss"]

    other_seed = run_training(cfg, data=text_mixture, output=tmp_path / "seed8", max_steps=2, seed=8)
    assert other_seed["first_loss"] != full["first_loss"]


def test_checkpoint_folder_contract(tiny_tokenizer, tiny_tokenizer_dir, text_mixture, tmp_path):
    out = tmp_path / "run"
    manifest = run_training(tiny_config(tiny_tokenizer_dir, "olmoe"), data=text_mixture, output=out, max_steps=3)
    model = AutoModelForCausalLM.from_pretrained(str(out))
    tok = AutoTokenizer.from_pretrained(str(out))
    assert model.config.model_type == "olmoe" and model.config.num_experts == 4
    assert tok.get_vocab() == tiny_tokenizer.get_vocab() and tok.chat_template == tiny_tokenizer.chat_template
    assert (out / "loss.png").read_bytes()[:4] == b"\x89PNG"
    assert json.loads((out / "manifest.json").read_text()) == json.loads(json.dumps(manifest, default=str))
    assert manifest["parents"] == [{"kind": "mixture", "path": str(text_mixture.resolve()),
                                    "manifest_hash": file_hash(text_mixture / "manifest.json")}]
    recipe_hash = json.loads((text_mixture / "manifest.json").read_text())["config_hash"]
    assert manifest["data"]["recipe_hash"] == recipe_hash and manifest["seed"] == 7
    assert "model.safetensors" in manifest["files"] and not any(f.startswith("checkpoint-") for f in manifest["files"])
    assert manifest["config"]["training"]["max_steps"] == 3 and "transformers" in manifest["versions"]
    assert [r["step"] for r in json.loads((out / "trainer_state.json").read_text())["log_history"]
            if "loss" in r] == [1, 2, 3]
    assert len((out / "metrics.jsonl").read_text().splitlines()) >= 3


def test_tokenizer_trained_on_the_mixture_ships_with_the_checkpoint(tiny_tokenizer_dir, text_mixture, tmp_path):
    cfg = tiny_config(tiny_tokenizer_dir, "llama")
    cfg["tokenizer"] = {"train": {"vocab_size": 300, "min_frequency": 1}}
    out = tmp_path / "scratch"
    manifest = run_training(cfg, data=text_mixture, output=out, max_steps=2)
    tok = AutoTokenizer.from_pretrained(str(out))
    assert len(tok) == 300 and manifest["tokenizer"] == {"source": str(out / "tokenizer"), "size": 300}
    assert AutoModelForCausalLM.from_pretrained(str(out)).config.vocab_size == 300


def test_resume_guards(tiny_tokenizer_dir, text_mixture, tmp_path):
    cfg = tiny_config(tiny_tokenizer_dir, "llama", save_steps=1)
    with pytest.raises(RecipeError, match="no checkpoint-N folder to resume from"):
        run_training(cfg, data=text_mixture, output=tmp_path / "new", resume=True)
    run_training(cfg, data=text_mixture, output=tmp_path / "r", max_steps=1)
    with pytest.raises(RecipeError, match="already holds checkpoint-1"):
        run_training(cfg, data=text_mixture, output=tmp_path / "r", max_steps=2, resume=False)
    with pytest.raises(RecipeError, match="checkpoints come from a different config"):
        run_training(cfg, data=text_mixture, output=tmp_path / "r", overrides={"training.learning_rate": 0.5})


def test_bad_data_fails_before_training(tiny_tokenizer_dir, text_mixture, tmp_path):
    cfg = tiny_config(tiny_tokenizer_dir, "llama", objective="sft")
    with pytest.raises(DataError, match="objective `sft` needs a `messages` column"):
        run_training(cfg, data=text_mixture, output=tmp_path / "x")
    assert not (tmp_path / "x").exists()
    with pytest.raises(RecipeError, match="no data; set `data:` or pass --data"):
        run_training(cfg, output=tmp_path / "x")
