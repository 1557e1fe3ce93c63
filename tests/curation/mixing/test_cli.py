from __future__ import annotations

import json

import yaml

from tests.curation.mixing.conftest import recipe_dict
from tracemix.cli import main as tracemix


def _recipe_file(tmp_path, data):
    path = tmp_path / "r.yaml"
    path.write_text("# tracemix mix r.yaml\n" + yaml.safe_dump(data))
    return str(path)


def test_dry_run_prints_plan_and_writes_nothing(tagged, tmp_path, capsys):
    path = _recipe_file(tmp_path, recipe_dict(tagged))
    assert tracemix(["mix", path, "--dry-run", "--output", str(tmp_path / "m")]) == 0
    out = capsys.readouterr().out
    assert "supply docs" in out and "dry run: nothing written" in out
    assert not (tmp_path / "m").exists()


def test_build_with_overrides_and_weights(tagged, tmp_path, capsys):
    path = _recipe_file(tmp_path, recipe_dict(tagged))
    code = tracemix(["mix", path, "--output", str(tmp_path / "m"), "--export-weights", "--tasks", "2",
                     "--set", "mixture.pure_code=0.0", "--set", "redistribute=proportional"])
    assert code == 0 and "wrote 40 documents" in capsys.readouterr().out
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert manifest["domains"]["pure_code"]["documents"] == 0
    assert json.loads((tmp_path / "m" / "weights.json").read_text())["pure_code"] == 0
    again = tracemix(["mix", path, "--output", str(tmp_path / "m"), "--set", "mixture.pure_code=0.0",
                      "--set", "redistribute=proportional"])
    assert again == 0 and "already holds this mixture (40 documents" in capsys.readouterr().out


def test_bad_recipe_exits_2_with_file_and_key(tagged, tmp_path, capsys):
    path = _recipe_file(tmp_path, recipe_dict(tagged, mixture={"general": 0.5, "math_txt": 0.5}))
    assert tracemix(["mix", path, "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "r.yaml: mixture.math_txt: unknown domain or group 'math_txt' (did you mean 'math_text'?)" in err
    assert "Traceback" not in err


def test_short_supply_exits_2_before_writing(tagged, tmp_path, capsys):
    path = _recipe_file(tmp_path, recipe_dict(tagged, budget={"unit": "documents", "total": 500}))
    assert tracemix(["mix", path, "--output", str(tmp_path / "m")]) == 2
    assert "set `max_repeats:" in capsys.readouterr().err and not (tmp_path / "m").exists()
