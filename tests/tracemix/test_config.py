import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tracemix.config import (
    did_you_mean,
    format_validation_error,
    key_hint,
    model_keys,
    parse_set_overrides,
    read_yaml_mapping,
)
from tracemix.errors import RecipeError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Leaf(_Strict):
    share: float = Field(ge=0.0, le=1.0)
    threshold: float = 0.5


class Root(_Strict):
    name: str
    budget: Leaf | None = None
    density: dict[str, Leaf] = Field(default_factory=dict)
    stages: list[Leaf] = Field(default_factory=list)


def _error(data: dict) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        Root.model_validate(data)
    return info.value


def test_read_yaml_mapping_returns_the_mapping(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("name: x\nnested: {a: 1}\n")
    assert read_yaml_mapping(path, "config") == {"name": "x", "nested": {"a": 1}}


def test_read_yaml_mapping_names_a_missing_file_with_the_hint(tmp_path):
    with pytest.raises(RecipeError, match=r"nope\.yaml: training config not found \(see recipes/\)$"):
        read_yaml_mapping(tmp_path / "nope.yaml", "training config", hint=" (see recipes/)")


def test_read_yaml_mapping_gives_the_line_of_invalid_yaml(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nbudget: [1, 2\nseed: 3\n")
    with pytest.raises(RecipeError, match=r"bad\.yaml: line [34]: invalid YAML: "):
        read_yaml_mapping(path, "recipe file")


@pytest.mark.parametrize(("text", "found"), [("- a\n- b\n", "a list"), ("", "an empty file"), ("3\n", "a number")])
def test_read_yaml_mapping_rejects_a_non_mapping(tmp_path, text, found):
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(RecipeError, match=rf"s\.yaml: a sweep file is a YAML mapping \(name, axes\), found {found}"):
        read_yaml_mapping(path, "sweep file", keys="name, axes")


def test_did_you_mean_suggests_only_close_words():
    assert did_you_mean("math_txt", ["math_text", "pure_code"]) == " (did you mean 'math_text'?)"
    assert did_you_mean("zzz", ["math_text", "pure_code"]) == ""
    assert did_you_mean("x", []) == ""


def test_key_hint_falls_back_to_the_valid_keys():
    assert key_hint("lerning_rate", ["learning_rate", "seed"]) == "; did you mean `learning_rate`?"
    assert key_hint("zzz", ["seed", "name"]) == "; valid keys: name, seed"
    assert key_hint("zzz", ["seed", "name"], list_valid=False) == ""


def test_model_keys_walks_optional_mapping_and_list_fields():
    assert model_keys(Root, []) == ["name", "budget", "density", "stages"]
    assert model_keys(Root, ["budget"]) == ["share", "threshold"]
    assert model_keys(Root, ["density", "math_text"]) == ["share", "threshold"]
    assert model_keys(Root, ["stages", 0]) == ["share", "threshold"]
    assert model_keys(Root, ["name"]) == []


def test_format_validation_error_names_source_and_key_path():
    err = _error({"name": "x", "budget": {"share": 2.0}})
    assert format_validation_error(err, "r.yaml") == (
        "r.yaml: budget.share: Input should be less than or equal to 1 (got 2.0)")


def test_format_validation_error_suggests_keys_of_the_nested_model():
    err = _error({"name": "x", "density": {"math": {"shar": 0.5}}, "stages": [{"share": 0.1, "treshold": 1}],
                  "nmae": "y"})
    lines = format_validation_error(err, "r.yaml", Root).splitlines()
    assert "r.yaml: density.math.shar: unknown key; did you mean `share`?" in lines
    assert "r.yaml: stages.treshold: unknown key; did you mean `threshold`?" in lines
    assert "r.yaml: nmae: unknown key; did you mean `name`?" in lines
    assert "r.yaml: density.math.share: required key missing" in lines
    # without the model the valid keys are unknown
    assert "r.yaml: nmae: unknown key" in format_validation_error(err, "r.yaml").splitlines()


def test_parse_set_overrides_reads_yaml_values():
    assert parse_set_overrides(["a.b=0.25", "flag=true", "names=[x, y]", "lr=1e-3", "word=hello", "n=3",
                                "empty=", "text=a=b"]) == {
        "a.b": 0.25, "flag": True, "names": ["x", "y"], "lr": 1e-3, "word": "hello", "n": 3, "empty": None,
        "text": "a=b"}
    assert parse_set_overrides(["broken=[a"]) == {"broken": "[a"}  # not YAML: kept as the string


@pytest.mark.parametrize("item", ["novalue", "=3"])
def test_parse_set_overrides_rejects_items_without_a_key(item):
    with pytest.raises(RecipeError, match=rf"--set {item}: expected KEY=VALUE"):
        parse_set_overrides([item])
