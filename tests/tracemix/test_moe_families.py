from pathlib import Path

import pytest

from tracemix.errors import TracemixError
from tracemix.moe_families import MOE_FAMILIES, READ_MODES, family_of, get_family, supported, supported_text
from training.model import is_moe_config, moe_attributes

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_entry_is_consistent():
    for family in MOE_FAMILIES.values():
        assert family.read in READ_MODES and family.scoring in (None, "sigmoid", "softmax")
    names = [f.name for f in MOE_FAMILIES.values()]
    assert len(set(names)) == len(names)
    assert {"llama4_text", "jetmoe", "dbrx", "mixtral", "deepseek_v3", "gpt_oss"} <= {f.model_type for f in supported()}
    assert "zaya" not in supported_text() and "(zaya)" not in supported_text()


def test_tiny_config_sets_experts_and_k_even_in_nested_configs():
    dbrx = MOE_FAMILIES["dbrx"].tiny_config(num_experts=6, top_k=3)
    assert (dbrx.ffn_config.moe_num_experts, dbrx.ffn_config.moe_top_k, dbrx.d_model) == (6, 3, 32)
    assert MOE_FAMILIES["dbrx"].num_experts(dbrx) == 6 and MOE_FAMILIES["dbrx"].top_k(dbrx) == 3
    longcat = MOE_FAMILIES["longcat_flash"].tiny_config()
    assert MOE_FAMILIES["longcat_flash"].num_experts(longcat) == 8 + 2  # zero-computation experts are choices
    assert family_of(MOE_FAMILIES["mixtral"].tiny_config()).name == "Mixtral"


def test_training_reads_the_same_table():
    config = MOE_FAMILIES["ernie4_5_moe"].tiny_config()
    assert is_moe_config(config) and moe_attributes(config) == ("moe_num_experts", "moe_k")


def test_unknown_family_gets_a_did_you_mean():
    with pytest.raises(TracemixError, match="`mixtrall` is not a MoE family tracemix knows; did you mean `mixtral`"):
        get_family("mixtrall")


def test_readme_lists_the_table():
    text = " ".join(README.read_text().split())
    assert f"{supported_text()}." in text, "README's family list is stale: paste `python -m tracemix.moe_families`"
