from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from curation.mixing.recipe import is_mixing_recipe, load_recipe, read_recipe_file
from tests.curation.mixing.conftest import recipe_dict
from tracemix.errors import RecipeError

REPO = Path(__file__).resolve().parents[3]
NOT_MIXING = ("train", "ablations")  # folders of recipes that belong to other verbs


def _write(tmp_path: Path, data: dict, name: str = "r.yaml") -> Path:
    path = tmp_path / name
    path.write_text("# tracemix mix r.yaml\n" + yaml.safe_dump(data))
    return path


def _error(tmp_path: Path, data: dict, **kw) -> str:
    with pytest.raises(RecipeError) as err:
        load_recipe(_write(tmp_path, data), **kw)
    return str(err.value)


def test_valid_recipe_round_trip(tmp_path, tagged):
    r = load_recipe(_write(tmp_path, recipe_dict(tagged)), check_sources=True)
    assert r.budget.unit == "documents" and r.max_repeats == 1 and r.output.format == "parquet"
    assert r.file.endswith("r.yaml")
    assert load_recipe(r.resolved()).resolved() == r.resolved()


def test_unknown_key_names_file_key_and_suggestion(tmp_path, tagged):
    msg = _error(tmp_path, recipe_dict(tagged, max_repeat=2))
    assert "r.yaml: max_repeat: unknown key; did you mean `max_repeats`?" in msg
    msg = _error(tmp_path, recipe_dict(tagged, budget={"unit": "tokens", "totl": 5}))
    assert "budget.totl: unknown key; did you mean `total`?" in msg


def test_unknown_domain_with_suggestion(tmp_path, tagged):
    data = recipe_dict(tagged, mixture={"general": 0.5, "math_txt": 0.5})
    msg = _error(tmp_path, data)
    assert "r.yaml: mixture.math_txt: unknown domain or group 'math_txt' (did you mean 'math_text'?)" in msg


def test_shares_must_sum_to_one(tmp_path, tagged):
    msg = _error(tmp_path, recipe_dict(tagged, mixture={"general": 0.5, "math_text": 0.3}))
    assert "r.yaml: mixture: shares sum to 0.8, not 1" in msg and "redistribute: proportional" in msg
    msg = _error(tmp_path, recipe_dict(tagged, mixture={"general": 0.9, "math_text": 0.3},
                                       redistribute="proportional"))
    assert "more than 1" in msg


def test_density_share_out_of_range_and_unknown_key(tmp_path, tagged):
    msg = _error(tmp_path, recipe_dict(tagged, density={"math_text": {"threshold": 0.5, "share": 1.5}}))
    assert "density.math_text.share" in msg and "less than or equal to 1" in msg
    msg = _error(tmp_path, recipe_dict(tagged, density={"math": {"threshold": 0.5, "share": 0.5}}))
    assert "r.yaml: density: 'math' is not a mixture key (did you mean 'math_text'?); add 'math' to mixture" in msg


def test_density_on_a_domain_inside_a_group_points_to_the_group(tmp_path, tagged):
    data = recipe_dict(tagged, groups={"coding": ["pure_code", "code_text"], "other": ["general", "math_text"]},
                       mixture={"coding": 0.5, "other": 0.5},
                       density={"math_text": {"threshold": 0.5, "share": 0.5}})
    assert "put the density on 'density.other'" in _error(tmp_path, data)


def test_group_overlap_and_bad_group(tmp_path, tagged):
    data = recipe_dict(tagged, groups={"coding": ["pure_code", "code_text"]},
                       mixture={"coding": 0.5, "pure_code": 0.2, "general": 0.3})
    assert "already covered by mixture.coding" in _error(tmp_path, data)
    data = recipe_dict(tagged, groups={"coding": ["pure_cod"]}, mixture={"coding": 1.0})
    assert "groups.coding: unknown domain 'pure_cod' (did you mean 'pure_code'?)" in _error(tmp_path, data)


def test_bad_unit_and_tokens_need_tokenizer(tmp_path, tagged):
    msg = _error(tmp_path, recipe_dict(tagged, budget={"unit": "words", "total": 10}))
    assert "r.yaml: budget.unit: 'words' is not one of tokens, documents, bytes" in msg
    msg = _error(tmp_path, recipe_dict(tagged, budget={"unit": "tokens", "total": 10}))
    assert "r.yaml: tokenizer: budget.unit is 'tokens' but no tokenizer is named" in msg


def test_missing_source_named(tmp_path):
    data = recipe_dict(tmp_path / "nowhere")
    msg = _error(tmp_path, data, check_sources=True)
    assert "r.yaml: sources[0]: source folder" in msg and "tracemix tag" in msg
    load_recipe(_write(tmp_path, data))  # without the check, the recipe itself is valid


def test_yaml_error_names_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nmixture: {general: 1.0\n")
    with pytest.raises(RecipeError, match=r"bad.yaml: line \d+: invalid YAML"):
        load_recipe(path)


def test_overrides_apply_before_validation(tagged):
    base = recipe_dict(tagged, density={"math_text": {"threshold": 0.5, "share": 0.5}})
    r = load_recipe(base, {"density.math_text.share": 0.25, "seed": 3})
    assert r.density["math_text"].share == 0.25 and r.seed == 3
    with pytest.raises(RecipeError, match="shares sum to 0.8"):
        load_recipe(base, {"mixture.pure_code": 0.0})
    r = load_recipe(base, {"mixture.pure_code": 0.0, "redistribute": "proportional"})
    shares = r.effective_shares()
    assert shares["pure_code"] == 0 and abs(sum(shares.values()) - 1) < 1e-12
    assert shares["general"] == pytest.approx(0.4 / 0.8)
    with pytest.raises(RecipeError, match="density.math_text.shares: unknown key"):
        load_recipe(base, {"density.math_text.shares": 0.1})
    with pytest.raises(RecipeError, match=r"<recipe>: density: 'math_txt' is not a mixture key \(did you mean "
                       r"'math_text'\?\); add 'math_txt' to mixture$"):
        load_recipe(base, {"density.math_txt.share": 0.1})


def _recipe_files() -> list[Path]:
    return sorted(p for p in (REPO / "recipes").rglob("*.yaml")
                  if not any(part in NOT_MIXING for part in p.relative_to(REPO / "recipes").parts[:-1]))


def test_shipped_recipes_exist():
    names = {p.relative_to(REPO / "recipes").as_posix() for p in _recipe_files()}
    for k in ("000", "025", "050", "075", "100"):
        assert f"ift/code_{k}.yaml" in names and f"pretrain/math_density_{k}.yaml" in names
    assert {"pretrain/without_code.yaml", "pretrain/without_math.yaml", "demo/math_density.yaml"} <= names


@pytest.mark.parametrize("path", _recipe_files(), ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_shipped_mixing_recipe_validates(path):
    data = read_recipe_file(path)
    if not is_mixing_recipe(data):
        pytest.skip("not a mixing recipe")
    first = path.read_text().splitlines()[0]
    assert first.startswith("# tracemix mix ") and path.relative_to(REPO).as_posix() in first
    recipe = load_recipe(path)
    assert recipe.name == path.stem


@pytest.mark.parametrize(("budget", "message"), [
    ({"unit": "documents", "total": True}, "budget.total: expected an integer, got a boolean (true)"),
    ({"unit": "documents", "total": "100"}, "budget.total: expected an integer, got a string (\"100\"); write the "
                                            "number without quotes"),
    ({"unit": "documents", "total": 10.5}, "budget.total: expected an integer, got a number (10.5)"),
])
def test_numbers_must_be_numbers(tmp_path, tagged, budget, message):
    assert f"r.yaml: {message}" in _error(tmp_path, recipe_dict(tagged, budget=budget))


def test_a_key_written_twice_names_the_key_and_lines(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("name: x\nseed: 1\nbudget: {unit: documents, total: 10}\nseed: 2\n")
    with pytest.raises(RecipeError, match=r"r\.yaml: line 4: key 'seed' appears twice \(lines 2 and 4\); keep one"):
        load_recipe(path)
