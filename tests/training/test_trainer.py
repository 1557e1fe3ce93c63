import json

import pytest

from tests.training.conftest import tiny_config
from training.config import load_config
from training.data import load_mixture
from training.model import build_model
from training.run import run_training
from training.trainer import build_trainer, loss_history, sft_config


def test_assistant_only_loss_masks_exact_token_positions(tiny_tokenizer, tiny_tokenizer_dir, chat_mixture,
                                                         tmp_path):
    cfg = load_config(tiny_config(tiny_tokenizer_dir, "llama", objective="sft", max_length=128))
    dataset, _ = load_mixture(chat_mixture, cfg.objective)
    model = build_model(cfg.model, tiny_tokenizer, cfg.seed)
    trainer = build_trainer(cfg, model, tiny_tokenizer, dataset, tmp_path / "out")
    row = trainer.train_dataset[0]
    ids, labels = row["input_ids"], row["labels"]

    # Expected spans, computed independently: each assistant reply plus its <|im_end|>, nothing else.
    turns = dataset[0]["messages"]
    rendered, spans = "", []
    for turn in turns:
        head = f"<|im_start|>{turn['role']}\n"
        body = f"{turn['content']}<|im_end|>"
        start = len(tiny_tokenizer(rendered + head)["input_ids"])
        rendered += head + body
        if turn["role"] == "assistant":
            spans.append((start, len(tiny_tokenizer(rendered)["input_ids"])))
        rendered += "\n"
    assert ids == tiny_tokenizer(rendered)["input_ids"]
    trained = {i for a, b in spans for i in range(a, b)}
    assert [i for i, lab in enumerate(labels) if lab != -100] == sorted(trained)
    assert all(labels[i] == ids[i] for i in trained)
    assert tiny_tokenizer.decode([ids[i] for i in sorted(trained)]) == "hello<|im_end|>2 + 3 = 5<|im_end|>"


def test_causal_lm_packs_text_and_sft_does_not(tiny_tokenizer_dir):
    lm = sft_config(load_config(tiny_config(tiny_tokenizer_dir, "llama")), "/tmp/x")
    sft = sft_config(load_config(tiny_config(tiny_tokenizer_dir, "llama", objective="sft")), "/tmp/x")
    assert (lm.packing, lm.assistant_only_loss, lm.max_length) == (True, False, 64)
    assert (sft.packing, sft.assistant_only_loss) == (False, True)


@pytest.mark.parametrize("model_type", ["llama", "qwen3_moe", "olmoe", "mixtral"])
def test_tiny_models_learn_a_memorisable_set(tiny_tokenizer_dir, text_mixture, tmp_path, model_type):
    manifest = run_training(tiny_config(tiny_tokenizer_dir, model_type), data=text_mixture,
                            output=tmp_path / "run", max_steps=10)
    assert manifest["global_step"] == 10
    assert manifest["final_loss"] < 0.6 * manifest["first_loss"], manifest
    if model_type == "llama":
        assert manifest["final_aux_loss"] is None
    else:  # the load-balancing loss is logged; ~1.0 * num_experts * top_k / num_experts when balanced
        assert 1.5 < manifest["final_aux_loss"] < 4.0


def test_sft_trains_on_chats(tiny_tokenizer_dir, chat_mixture, tmp_path):
    manifest = run_training(tiny_config(tiny_tokenizer_dir, "qwen2", objective="sft", max_length=128),
                            data=chat_mixture, output=tmp_path / "sft", max_steps=8)
    assert manifest["objective"] == "sft" and manifest["final_loss"] < 0.7 * manifest["first_loss"]


def test_loss_history_keeps_training_records_only():
    logs = [{"step": 1, "loss": 2.0, "aux_loss": 1.9, "epoch": 0.1}, {"step": 2, "train_runtime": 1.0}]
    assert loss_history(logs) == [{"step": 1, "loss": 2.0, "aux_loss": 1.9}]


def test_trl_token_metrics_path_gives_the_same_loss(tiny_tokenizer_dir, text_mixture, tmp_path):
    """The fast path (the model's own loss) and TRL's fused loss agree, aux loss included."""
    fast = run_training(tiny_config(tiny_tokenizer_dir, "olmoe"), data=text_mixture, output=tmp_path / "a",
                        max_steps=2)
    trl = run_training(tiny_config(tiny_tokenizer_dir, "olmoe", token_metrics=True), data=text_mixture,
                       output=tmp_path / "b", max_steps=2)
    assert trl["first_loss"] == pytest.approx(fast["first_loss"], rel=1e-5)
    assert trl["final_loss"] == pytest.approx(fast["final_loss"], rel=1e-4)
    logged = [json.loads(line) for line in (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()]
    assert "entropy" in logged[0] and "mean_token_accuracy" in logged[0] and "aux_loss" in logged[0]


def test_tensorboard_gets_the_training_log(tiny_tokenizer_dir, text_mixture, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run_training(tiny_config(tiny_tokenizer_dir, "llama", report_to="tensorboard"), data=text_mixture,
                 output=tmp_path / "run", max_steps=3)
    events = list((tmp_path / "run" / "tensorboard").glob("events.out.tfevents.*"))
    assert len(events) == 1
    acc = EventAccumulator(str(events[0]))
    acc.Reload()
    assert [e.step for e in acc.Scalars("train/loss")] == [1, 2, 3]


def test_report_to_is_validated(tiny_tokenizer_dir):
    from tracemix.errors import RecipeError

    assert sft_config(load_config(tiny_config(tiny_tokenizer_dir, "llama")), "/tmp/x").report_to == []
    with pytest.raises(RecipeError, match="report_to.*cannot be combined"):
        load_config(tiny_config(tiny_tokenizer_dir, "llama", report_to=["none", "wandb"]))
    with pytest.raises(RecipeError, match="report_to"):
        load_config(tiny_config(tiny_tokenizer_dir, "llama", report_to="mlflow"))


def test_wandb_without_the_package_says_what_to_install(tiny_tokenizer_dir, monkeypatch):
    import importlib.util

    from tracemix.errors import RecipeError

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "wandb" else real(name, *a))
    cfg = load_config(tiny_config(tiny_tokenizer_dir, "llama", report_to=["tensorboard", "wandb"]))
    with pytest.raises(RecipeError, match=r"report_to: wandb` needs the wandb package: `pip install wandb`"):
        sft_config(cfg, "/tmp/x")
