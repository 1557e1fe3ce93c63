import pytest
import yaml

from ablate.sweep import Sweep, load_sweep
from tracemix.errors import RecipeError


def _sweep(**over):
    base = {"name": "s", "recipe": "r.yaml", "axes": {"density.math_text.share": [0.0, 0.5]},
            "train": {"config": "t.yaml"}}
    return Sweep.model_validate({**base, **over})


def test_single_key_axis_makes_one_variant_per_value():
    variants = _sweep().variants()
    assert [v["overrides"] for v in variants] == [{"density.math_text.share": 0.0}, {"density.math_text.share": 0.5}]
    assert [v["name"] for v in variants] == ["math_text=0.0", "math_text=0.5"]


def test_named_axis_moves_its_keys_together_and_axes_form_a_grid():
    sweep = _sweep(axes={"coding": {"mixture.coding": [0.0, 1.0], "mixture.other": [1.0, 0.0]},
                         "seed": [1, 2]})
    variants = sweep.variants()
    assert len(variants) == 4
    assert variants[1]["overrides"] == {"mixture.coding": 0.0, "mixture.other": 1.0, "seed": 2}
    assert variants[1]["label"] == {"coding": 0.0, "seed": 2}


def test_named_axis_with_uneven_lists_is_an_error():
    with pytest.raises(ValueError, match="same number of values"):
        _sweep(axes={"coding": {"mixture.coding": [0.0, 1.0], "mixture.other": [1.0]}})


def test_load_sweep_names_the_file_and_key(tmp_path):
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump({"name": "s", "recipe": "recipes/demo/math_density.yaml",
                                    "axes": {"x": [1]}, "train": {"config": "recipes/train/tiny_moe.yaml"},
                                    "evaluate": {}}))
    with pytest.raises(RecipeError, match=r"sweep.yaml: `evaluate`"):
        load_sweep(path)


def test_load_sweep_reports_missing_recipe(tmp_path):
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump({"name": "s", "recipe": "nope.yaml", "axes": {"x": [1]},
                                    "train": {"config": "recipes/train/tiny_moe.yaml"}}))
    with pytest.raises(RecipeError, match="`recipe` points to nope.yaml"):
        load_sweep(path)


@pytest.mark.parametrize("path", sorted(__import__("pathlib").Path("recipes/ablations").rglob("*.yaml")))
def test_shipped_sweeps_validate(path):
    sweep = load_sweep(path)
    assert sweep.variants()
