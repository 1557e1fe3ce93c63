"""Replay: config files say what they mean or are refused, through the commands a user runs.

Reproduced on main before the fix: a key written twice in a recipe silently kept the last value;
`budget.total: true` built a one-document mixture; quoted numbers and booleans were coerced in training
configs and sweeps. Each is now an error (exit status 2) naming the file, the line or key, and what to do.
"""

import textwrap

import pytest
import yaml

from tracemix.cli import main

RECIPE = """\
# tracemix mix {path}
name: r
sources: [{source}]
budget: {{unit: documents, total: {total}}}
mixture: {{general: 1.0}}
seed: 1
"""


def _run(capsys, *argv) -> str:
    assert main(list(argv)) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    return err


@pytest.fixture
def source(tmp_path):
    folder = tmp_path / "tagged"
    folder.mkdir()
    return folder


def test_a_key_written_twice_in_a_recipe_is_refused_with_both_lines(tmp_path, source, capsys):
    path = tmp_path / "r.yaml"
    path.write_text(RECIPE.format(path=path, source=source, total=10) + "seed: 2\n")
    err = _run(capsys, "mix", str(path), "--dry-run")
    assert f"{path}: line 7: key 'seed' appears twice (lines 6 and 7); keep one" in err


def test_a_key_written_twice_inside_a_section_is_refused(tmp_path, source, capsys):
    path = tmp_path / "r.yaml"
    path.write_text(RECIPE.format(path=path, source=source, total=10).replace(
        "mixture: {general: 1.0}", "mixture:\n  general: 0.5\n  general: 1.0"))
    assert "key 'general' appears twice (lines 6 and 7)" in _run(capsys, "mix", str(path), "--dry-run")


@pytest.mark.parametrize(("total", "message"), [
    ("true", "budget.total: expected an integer, got a boolean (true)"),
    ("'1000'", "budget.total: expected an integer, got a string (\"1000\"); write the number without quotes"),
    ("1e3", "budget.total: expected an integer, got a number (1000.0)"),
])
def test_budget_total_must_be_a_whole_number(tmp_path, source, capsys, total, message):
    path = tmp_path / "r.yaml"
    path.write_text(RECIPE.format(path=path, source=source, total=total))
    assert f"{path}: {message}" in _run(capsys, "mix", str(path), "--dry-run")


def test_a_set_override_is_held_to_the_same_rules(tmp_path, source, capsys):
    path = tmp_path / "r.yaml"
    path.write_text(RECIPE.format(path=path, source=source, total=10))
    err = _run(capsys, "mix", str(path), "--dry-run", "--set", "budget.total=yes")
    assert f"{path}: budget.total: expected an integer, got a boolean (true)" in err


@pytest.mark.parametrize(("line", "message"), [
    ("training: {learning_rate: 'fast'}", "training.learning_rate: expected a number, got a string (\"fast\")"),
    ("training: {max_steps: true}", "training.max_steps: expected an integer, got a boolean (true)"),
    ("training: {packing: 1}", "training.packing: expected true or false, got an integer (1)"),
    ("seed: '42'", "seed: expected an integer, got a string (\"42\"); write the number without quotes"),
])
def test_training_config_numbers_and_booleans(tmp_path, capsys, line, message):
    path = tmp_path / "t.yaml"
    path.write_text(textwrap.dedent("""\
        name: t
        tokenizer: tok
        model: {from_config: {model_type: llama}}
        """) + line + "\n")
    assert f"{path}: {message}" in _run(capsys, "train", str(path), "--check")


@pytest.mark.parametrize(("change", "message"), [
    ({"seed": "1234"}, "seed: expected an integer, got a string (\"1234\")"),
    ({"train": {"config": "recipes/train/tiny_moe.yaml", "max_steps": True}},
     "train.max_steps: expected an integer, got a boolean (true)"),
    ({"probe": {"max_tokens_per_domain": "4000"}}, "probe.max_tokens_per_domain: expected an integer, got a string"),
    ({"eval": {"tasks": "symbolic", "batch_size": 1.5}}, "eval.batch_size: expected an integer, got a number (1.5)"),
])
def test_sweep_numbers(tmp_path, capsys, change, message):
    sweep = {"name": "s", "recipe": "recipes/demo/math_density.yaml", "axes": {"seed": [1, 2]},
             "train": {"config": "recipes/train/tiny_moe.yaml"}, **change}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(sweep))
    assert f"{path}: {message}" in _run(capsys, "ablate", str(path), "--output", str(tmp_path / "run"))
    assert not (tmp_path / "run").exists()
