import time
from pathlib import Path

import pytest
import yaml

from ablate import run_sweep
from ablate.sweep import Sweep, load_sweep
from eval.settings import Backend
from probes.settings import ProbeSettings
from tracemix.errors import RecipeError

BASE = {"name": "s", "recipe": "recipes/demo/math_density.yaml", "axes": {"density.math_text.share": [0.0, 1.0]},
        "train": {"config": "recipes/train/tiny_moe.yaml"}}


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
    with pytest.raises(RecipeError, match=r"sweep\.yaml: evaluate: unknown key; did you mean `eval`\?"):
        load_sweep(path)


def test_load_sweep_reports_missing_recipe(tmp_path):
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump({"name": "s", "recipe": "nope.yaml", "axes": {"x": [1]},
                                    "train": {"config": "recipes/train/tiny_moe.yaml"}}))
    with pytest.raises(RecipeError, match=r"sweep\.yaml: recipe: nope\.yaml does not exist"):
        load_sweep(path)


@pytest.mark.parametrize("path", sorted(__import__("pathlib").Path("recipes/ablations").rglob("*.yaml")))
def test_shipped_sweeps_validate(path):
    sweep = load_sweep(path)
    assert sweep.variants()


def _file(tmp_path, **sections):
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump({**BASE, **sections}))
    return path


def test_stage_sections_are_the_areas_settings(tmp_path):
    sweep = load_sweep(_file(tmp_path, eval={"tasks": "symbolic", "backend": "openai"},
                             probe={"data": "d", "seq_len": 128, "shard": "1/2"}))
    assert sweep.eval.backend is Backend.OPENAI and sweep.eval.batch_size == 8
    assert sweep.probe == ProbeSettings(data="d", seq_len=128, shard=(1, 2))
    assert ProbeSettings().seq_len == 512  # the library's default; the demo sweep sets 128 itself


@pytest.mark.parametrize(("sections", "message"), [
    ({"eval": {"tasks": "symbolic", "backend": "hff"}},
     r"sweep\.yaml: eval\.backend: 'hff' is not one of hf, vllm, openai \(did you mean 'hf'\?\)"),
    ({"probe": {"dta": "data/tagged/demo"}}, r"sweep\.yaml: probe\.dta: unknown key; did you mean `data`\?"),
    ({"probe": {"seq_len": "128"}}, r"sweep\.yaml: probe\.seq_len: expected an integer, got a string"),
    ({"eval": {"tasks": "symbolic", "limit": True}}, r"sweep\.yaml: eval\.limit: expected an integer, got a boolean"),
    ({"perplexity": {"exclude": "x"}}, r"sweep\.yaml: perplexity: `data` and `exclude` are set by the sweep"),
    ({"perplexity": {"data": "x"}}, r"sweep\.yaml: perplexity: .*measured on the sweep's held-out set"),
    ({"seeds": [1, 1]}, r"sweep\.yaml: seeds: seeds must differ"),
    ({"heldout": {"math_txt": 0.1}}, r"sweep\.yaml: heldout: .*unknown domain 'math_txt'"),
    ({"correction": "bonferroni"}, r"sweep\.yaml: correction: "),
    ({"seed": 1.5}, r"sweep\.yaml: seed: expected an integer, got a number \(1\.5\)"),
])
def test_mistyped_stage_settings_fail_at_load_naming_the_key(tmp_path, sections, message):
    with pytest.raises(RecipeError, match=message):
        load_sweep(_file(tmp_path, **sections))


@pytest.mark.parametrize(("sections", "message"), [
    ({"probe": {"data": "no/such/folder"}},
     r"sweep\.yaml: probe\.data: probe data folder 'no/such/folder' does not exist"),
    ({"eval": {"tasks": "symbolic,coin_flp"}}, r"sweep\.yaml: eval\.tasks: unknown task or suite 'coin_flp'\. "
                                               r"Did you mean 'coin_flip'"),
    ({"eval": {"tasks": "symbolic", "backend": "openai"}}, r"sweep\.yaml: eval\.base_url: no endpoint is set"),
    ({"probe": {"data": "recipes", "domains": ["math_txt"]}}, r"sweep\.yaml: probe\.data: no \*\.parquet"),
])
def test_a_sweep_fails_in_seconds_before_any_stage_runs(tmp_path, monkeypatch, sections, message):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    start = time.perf_counter()
    with pytest.raises(RecipeError, match=message):
        run_sweep(_file(tmp_path, **sections), tmp_path / "run")
    assert time.perf_counter() - start < 20
    assert not (tmp_path / "run").exists()  # nothing was mixed or trained


def test_check_names_the_variant_whose_recipe_is_wrong(tmp_path):
    tagged = tmp_path / "tagged"
    tagged.mkdir()
    (tagged / "part.parquet").write_bytes(b"")
    recipe = yaml.safe_load(Path("recipes/demo/math_density.yaml").read_text())
    recipe["sources"] = [str(tagged)]
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(recipe))
    sweep = load_sweep(_file(tmp_path, recipe=str(tmp_path / "r.yaml"),
                             axes={"density.math_text.share": [0.5, 1.5]}))
    with pytest.raises(RecipeError, match=r"sweep\.yaml: variant math_text=1\.5: .*r\.yaml: "
                                          r"density\.math_text\.share: Input should be less than or equal to 1"):
        sweep.check()
