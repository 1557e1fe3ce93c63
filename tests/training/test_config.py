from pathlib import Path

import pytest

from tracemix.errors import RecipeError
from training.config import Objective, load_config

RECIPES = sorted((Path(__file__).resolve().parents[2] / "recipes" / "train").rglob("*.yaml"))


def _base(**changes):
    cfg = {"name": "t", "tokenizer": "tok", "model": {"from_config": {"model_type": "llama", "hidden_size": 32}}}
    cfg.update(changes)
    return cfg


def test_recipes_exist():
    names = {p.name for p in RECIPES}
    assert {"tiny_moe.yaml", "tiny_dense.yaml", "moe_100m_16e_top2_pretrain.yaml"} <= names


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.name)
def test_every_recipe_validates_and_starts_with_its_command(path):
    assert load_config(path).name
    command = ""
    for line in path.read_text().splitlines():  # the first comment, with its `\` continuation lines
        assert line.startswith("# "), f"{path.name} must start with the command that runs it"
        command += line[2:].rstrip("\\").strip() + " "
        if not line.endswith("\\"):
            break
    assert "tracemix train" in command and f"recipes/train/{path.name}" in command


def test_unknown_key_has_did_you_mean_and_names_the_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: t\ntokenizer: tok\nmodel: {from_config: {model_type: llama}}\n"
                    "training: {lerning_rate: 0.1}\n")
    with pytest.raises(RecipeError, match=r"bad\.yaml: training\.lerning_rate: unknown key; did you mean "
                                          r"`learning_rate`\?"):
        load_config(path)
    with pytest.raises(RecipeError, match=r"objectiv: unknown key; did you mean `objective`"):
        load_config(_base(objectiv="sft"))


def test_dense_model_type_with_moe_options_is_an_error():
    cfg = _base(model={"from_config": {"model_type": "llama"}, "moe": {"num_experts": 4, "top_k": 2}})
    with pytest.raises(RecipeError, match=r"model\.moe: sets num_experts, top_k but `llama` is a dense model type"):
        load_config(cfg)


def test_model_checks_name_the_key():
    with pytest.raises(RecipeError, match=r"model\.from_config\.model_type: unknown model type `qwen3moe`; did you mean `qwen3_moe`"):
        load_config(_base(model={"from_config": {"model_type": "qwen3moe"}}))
    with pytest.raises(RecipeError, match=r"model\.from_config\.hiden_size: not a `llama` config attribute; "
                                          r"did you mean `hidden_size`"):
        load_config(_base(model={"from_config": {"model_type": "llama", "hiden_size": 32}}))
    with pytest.raises(RecipeError, match=r"top_k \(4\) cannot exceed num_experts \(2\)"):
        load_config(_base(model={"from_config": {"model_type": "olmoe"}, "moe": {"num_experts": 2, "top_k": 4}}))
    with pytest.raises(RecipeError, match=r"model\.moe\.router_aux_loss_coef: `deepseek_v3` has no auxiliary load-balancing loss"):
        load_config(_base(model={"from_config": {"model_type": "deepseek_v3"},
                                 "moe": {"router_aux_loss_coef": 0.01}}))
    with pytest.raises(RecipeError, match="set exactly one of `from_pretrained`"):
        load_config(_base(model={"from_pretrained": "x", "from_config": {"model_type": "llama"}}))
    with pytest.raises(RecipeError, match="`tokenizer` is required for a `from_config` model"):
        load_config({"name": "t", "model": {"from_config": {"model_type": "llama"}}})


def test_extra_sft_arguments_are_checked_against_trl():
    with pytest.raises(RecipeError, match=r"training\.extra\.packing_strategi: not a trl.SFTConfig argument; "
                                          r"did you mean `packing_strategy`"):
        load_config(_base(training={"extra": {"packing_strategi": "wrapped"}}))
    with pytest.raises(RecipeError, match=r"training\.extra\.bf16: set by tracemix"):
        load_config(_base(training={"extra": {"bf16": True}}))
    assert load_config(_base(training={"extra": {"packing_strategy": "wrapped"}})).training.extra


def test_overrides_accept_dotted_and_nested_keys():
    cfg = load_config(_base(), {"training.learning_rate": 0.5, "objective": "sft", "training": {"max_steps": 3}})
    assert (cfg.training.learning_rate, cfg.training.max_steps, cfg.objective) == (0.5, 3, Objective.SFT)
    with pytest.raises(RecipeError, match="training.nope: unknown key"):
        load_config(_base(), {"training.nope": 1})


def test_numbers_in_a_file_are_numbers(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("name: t\ntokenizer: tok\nmodel: {from_config: {model_type: llama}}\n"
                    "training: {learning_rate: 1e-3, max_steps: '30'}\n")
    with pytest.raises(RecipeError, match=r"t\.yaml: training\.max_steps: expected an integer, got a string "
                                          r"\(\"30\"\); write the number without quotes"):
        load_config(path)
    path.write_text(path.read_text().replace("'30'", "30"))
    assert load_config(path).training.learning_rate == 1e-3  # YAML 1.2 exponent: a number, not a string
    with pytest.raises(RecipeError, match=r"training\.gradient_checkpointing: expected true or false, got an "
                                          r"integer \(1\)"):
        load_config(path, {"training.gradient_checkpointing": 1})
