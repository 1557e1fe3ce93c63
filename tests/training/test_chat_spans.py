import json
from pathlib import Path

import pytest

from tests.training.chat_templates import FAMILIES, GEMMA1, QWEN3, QWEN25, family_tokenizer
from tests.training.conftest import CHATS, tiny_config
from tracemix.errors import RecipeError
from training.chat_spans import assistant_mask, derive_assistant_masks
from training.config import load_config, read_config_file
from training.data import load_mixture
from training.model import build_model
from training.run import run_training
from training.trainer import build_trainer, loss_token_share

# What the loss sees of CHATS[0] and CHATS[1]: each reply and its end-of-turn token, nothing else.
EXPECTED = {
    "mistral": ([" hello</s>", " 2 + 3 = 5</s>"], [" r</s>"]),
    "llama3": (["hello<|eot_id|>", "2 + 3 = 5<|eot_id|>"], ["r<|eot_id|>"]),
    "gemma": (["hello<end_of_turn>", "2 + 3 = 5<end_of_turn>"], ["r<end_of_turn>"]),
    "qwen2.5": (["hello<|im_end|>", "2 + 3 = 5<|im_end|>"], ["r<|im_end|>"]),
    "olmoe": (["hello<|endoftext|>", "2 + 3 = 5<|endoftext|>"], ["r<|endoftext|>"]),
}


def _runs(tokenizer, ids, mask) -> list[str]:
    runs, current = [], []
    for token, bit in [*zip(ids, mask, strict=True), (None, 0)]:
        if bit:
            current.append(token)
        elif current:
            runs.append(tokenizer.decode(current))
            current = []
    return runs


@pytest.mark.parametrize("family", list(FAMILIES))
def test_spans_are_each_reply_and_its_end_of_turn_token(family, tmp_path):
    from trl.chat_template_utils import get_training_chat_template

    tok = family_tokenizer(family, tmp_path)
    with pytest.raises(ValueError):  # TRL cannot patch it: the spans must be derived
        get_training_chat_template(tok)
    for chat, expected in zip(CHATS[:2], EXPECTED[family], strict=True):
        ids, mask = assistant_mask(tok, chat)
        assert ids == tok(tok.apply_chat_template(chat, tokenize=False), add_special_tokens=False)["input_ids"]
        assert _runs(tok, ids, mask) == expected


def test_turns_beyond_max_length_are_not_rendered_and_trailing_user_turns_are_dropped(tmp_path):
    tok = family_tokenizer("llama3", tmp_path)
    chat = [*CHATS[0], {"role": "user", "content": "thanks"}]
    ids, mask = assistant_mask(tok, chat)
    assert "thanks" not in tok.decode(ids)
    first = mask.index(1)
    first_end = mask.index(0, first)
    short_ids, short_mask = assistant_mask(tok, CHATS[0], max_length=first_end + 3)
    assert short_ids == ids  # the row is truncated later, by TRL
    assert sum(short_mask) == first_end - first  # the second reply starts past max_length: not rendered


def test_a_template_that_renders_the_last_reply_differently_is_diffed_on_the_whole_conversation(tmp_path):
    tok = family_tokenizer("qwen2.5", tmp_path, template=QWEN3)  # thoughts only around the last reply
    ids, mask = assistant_mask(tok, CHATS[0])
    assert "<think>" in tok.decode(ids) and _runs(tok, ids, mask) == ["hello<|im_end|>", "2 + 3 = 5<|im_end|>"]


def test_a_template_that_renders_earlier_replies_differently_names_itself(tmp_path):
    # Drops every reply but the last (as reasoning templates do with their thoughts): no span can be placed.
    hiding = QWEN25.replace("message.content + '<|im_end|>'",
                            "(message.content if loop.last or message.role != 'assistant' else '') + '<|im_end|>'")
    tok = family_tokenizer("qwen2.5", tmp_path, template=hiding)
    from datasets import Dataset

    with pytest.raises(RecipeError, match=r"mix/x: row 0: cannot derive the assistant spans from the chat "
                                          r"template of `.*` \(sha256 [0-9a-f]{12}\): turn 1 renders differently "
                                          r".*training.assistant_only_loss: false"):
        derive_assistant_masks(Dataset.from_dict({"messages": [CHATS[0]]}), tok, where="mix/x")


def test_a_template_that_refuses_the_conversation_says_so(tmp_path):
    from datasets import Dataset

    tok = family_tokenizer("gemma", tmp_path, template=GEMMA1)
    with pytest.raises(RecipeError, match="row 0: the chat template .* cannot render this conversation "
                                          r"\(TemplateError: System role not supported\)"):
        derive_assistant_masks(Dataset.from_dict({"messages": [CHATS[1]]}), tok)


@pytest.mark.parametrize("family", ["mistral", "llama3", "gemma"])
def test_sft_trains_with_assistant_only_loss_on_real_template_shapes(family, chat_mixture, tmp_path):
    family_tokenizer(family, tmp_path / "tok")
    manifest = run_training(tiny_config(tmp_path / "tok", "llama", objective="sft", max_length=96),
                            data=chat_mixture, output=tmp_path / "run", max_steps=6)
    assert manifest["assistant_only_loss"] is True
    assert 0.05 < manifest["loss_token_share"] < 0.5, manifest["loss_token_share"]
    assert manifest["final_loss"] < manifest["first_loss"]
    assert json.loads((tmp_path / "run" / "manifest.json").read_text())["loss_token_share"] == \
        manifest["loss_token_share"]


def test_assistant_only_loss_can_be_turned_off(chat_mixture, tmp_path):
    family_tokenizer("gemma", tmp_path / "tok")
    cfg = load_config(tiny_config(tmp_path / "tok", "llama", objective="sft", assistant_only_loss=False))
    dataset, _ = load_mixture(chat_mixture, cfg.objective)
    tok = __import__("transformers").AutoTokenizer.from_pretrained(str(tmp_path / "tok"))
    trainer = build_trainer(cfg, build_model(cfg.model, tok, cfg.seed), tok, dataset, tmp_path / "out")
    assert trainer.args.assistant_only_loss is False and loss_token_share(trainer.train_dataset) == 1.0


SHIPPED_SFT = sorted(Path("recipes/train").glob("*sft*.yaml"))
STAND_IN = {"mistral": "mistral", "olmoe": "olmoe", "qwen3": "qwen2.5", "tiny": None}


@pytest.mark.parametrize("path", SHIPPED_SFT, ids=lambda p: p.stem)
def test_shipped_sft_configs_build_their_trainer_with_a_real_template_shape(path, chat_mixture, tmp_path,
                                                                          tiny_tokenizer_dir):
    """Everything but the hub checkpoint: the config's own training and LoRA settings, a stand-in model and a
    tokenizer with its family's template."""
    from transformers import AutoTokenizer

    family = STAND_IN[path.stem.split("_")[0]]
    tok_dir = tiny_tokenizer_dir if family is None else tmp_path / "tok"
    if family:
        family_tokenizer(family, tok_dir)
    arch = {"olmoe": "olmoe", "qwen3": "qwen3_moe"}.get(path.stem.split("_")[0], "llama")
    stand_in = tiny_config(tok_dir, arch)["model"]
    lora = load_config(path).model.lora
    raw = read_config_file(path)
    raw["model"] = {**stand_in, **({"lora": {**lora.model_dump(), "merge": True}} if lora else {})}
    cfg = load_config(raw, {"tokenizer": str(tok_dir), "training.precision": "fp32", "training.max_length": 96})
    assert cfg.objective.value == "sft" and cfg.training.assistant_only_loss
    tok = AutoTokenizer.from_pretrained(str(tok_dir))
    dataset, _ = load_mixture(chat_mixture, cfg.objective)
    from training.model import lora_config

    trainer = build_trainer(cfg, build_model(cfg.model, tok, cfg.seed), tok, dataset, tmp_path / "out",
                            peft_config=lora_config(cfg.model))
    assert 0 < loss_token_share(trainer.train_dataset) < 0.5
