import argparse
from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tracemix.config import (
    ConfigModel,
    apply_overrides,
    did_you_mean,
    format_validation_error,
    key_hint,
    load_config,
    model_keys,
    parse_set_overrides,
    parse_yaml,
    read_yaml_mapping,
    settings_from_args,
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


class Budget(ConfigModel):
    total: int = Field(gt=0)
    share: float = 0.5
    on: bool = False


class File(ConfigModel):
    name: str
    budget: Budget
    sources: list[str] = Field(default_factory=list)


def test_load_config_reads_overrides_and_validates_strictly(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_text("name: x\nbudget: {total: 5, share: 1}\nsources: [a, b]\n")
    cfg = load_config(path, File, overrides={"budget.share": 0.25, "sources.1": "c", "budget": {"on": True}})
    assert cfg == File(name="x", budget=Budget(total=5, share=0.25, on=True), sources=["a", "c"])
    with pytest.raises(RecipeError) as err:
        load_config(path, File, overrides={"budget.total": True, "budget.tota": 3, "name": 7})
    assert str(err.value).splitlines() == [
        f"{path}: name: expected a string, got an integer (7)",
        f"{path}: budget.total: expected an integer, got a boolean (true)",
        f"{path}: budget.tota: unknown key; did you mean `total`?"]


def test_load_config_names_dict_sources_and_keeps_code_lenient():
    with pytest.raises(RecipeError, match=r"^<config file>: budget: required key missing$"):
        load_config({"name": "x"}, File)
    with pytest.raises(RecipeError, match=r"^cfg: budget\.total: expected an integer, got a string"):
        load_config({"name": "x", "budget": {"total": "5"}}, File, name="cfg")
    assert Budget(total="5").total == 5  # objects built in code keep pydantic's conversions


@pytest.mark.parametrize(("overrides", "message"), [
    ({"name.first": 1}, r"f: name\.first: cannot override inside `name`, which is a single value"),
    ({"sources.5": "x"}, r"f: sources\.5: `sources` is a list; index it by position \(0 to 1\)"),
])
def test_apply_overrides_refuses_impossible_paths(overrides, message):
    with pytest.raises(RecipeError, match=message):
        apply_overrides({"name": "x", "sources": ["a", "b"]}, overrides, "f")


def test_yaml_duplicate_keys_and_exponent_numbers(tmp_path):
    assert parse_yaml("a: 1e-3\nb: 2E5\nc: 1.5e3\nd: '1e3'\ne: 1_000\n") == {
        "a": 1e-3, "b": 2e5, "c": 1500.0, "d": "1e3", "e": 1000}
    assert parse_yaml("base: &b {x: 1}\nother:\n  <<: *b\n  x: 2\n") == {"base": {"x": 1}, "other": {"x": 2}}
    path = tmp_path / "d.yaml"
    path.write_text("a:\n  b: 1\n  c: 2\n  b: 3\n")
    with pytest.raises(RecipeError, match=r"d\.yaml: line 4: key 'b' appears twice \(lines 2 and 4\); keep one"):
        read_yaml_mapping(path, "config")


def test_enum_choices_suggest_the_closest():
    class Pick(ConfigModel):
        backend: Literal["hf", "vllm", "openai"] = "hf"

    with pytest.raises(RecipeError, match=r"c: backend: 'hff' is not one of hf, vllm, openai \(did you mean 'hf'\?\)"):
        load_config({"backend": "hff"}, Pick, name="c")


def test_settings_from_args_reads_matching_flags():
    args = argparse.Namespace(total=3, share=0.1, output="x")
    assert settings_from_args(Budget, args, on=True) == Budget(total=3, share=0.1, on=True)
    with pytest.raises(RecipeError, match=r"command line: total: Input should be greater than 0 \(got 0\)"):
        settings_from_args(Budget, argparse.Namespace(total=0))


def test_a_rule_across_keys_is_reported_without_a_key_path():
    class Pair(ConfigModel):
        low: int = 0
        high: int = 1

        @model_validator(mode="after")
        def _ordered(self):
            if self.low > self.high:
                raise ValueError("`low` must not exceed `high`")
            return self

    with pytest.raises(RecipeError, match=r"^p\.yaml: `low` must not exceed `high`$"):
        load_config({"low": 2}, Pair, name="p.yaml")
