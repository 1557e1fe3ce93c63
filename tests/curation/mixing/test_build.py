from __future__ import annotations

import json

import pytest

from curation.mixing import build_mixture, weights
from curation.mixing.write import GatherShard, ScatterSelected
from tests.curation.mixing.test_write import read_mixture, tokens_recipe
from tracemix.errors import DataError, RecipeError


def test_interrupted_run_resumes_without_redoing_finished_tasks(tagged, tmp_path, monkeypatch):
    clean = build_mixture(tokens_recipe(tagged), tmp_path / "clean")
    calls = {"scatter": 0}
    real_scatter, real_gather = ScatterSelected.run, GatherShard.run

    def counting_scatter(self, data=None, rank=0, world_size=1):
        calls["scatter"] += 1
        yield from real_scatter(self, data, rank, world_size)

    def failing_gather(self, data=None, rank=0, world_size=1):
        if rank == 1:
            raise RuntimeError("node lost")
        yield from real_gather(self, data, rank, world_size)

    monkeypatch.setattr(ScatterSelected, "run", counting_scatter)
    monkeypatch.setattr(GatherShard, "run", failing_gather)
    out = tmp_path / "out"
    with pytest.raises(Exception, match="node lost"):
        build_mixture(tokens_recipe(tagged), out, tasks=2)
    assert not (out / "manifest.json").exists() and (tmp_path / ".out.mix").exists()
    first = calls["scatter"]
    monkeypatch.setattr(GatherShard, "run", real_gather)
    resumed = build_mixture(tokens_recipe(tagged), out, tasks=2)
    assert calls["scatter"] == first  # the scatter stage had completed: not run again
    assert read_mixture(out).equals(read_mixture(tmp_path / "clean"))
    assert resumed["entries"] == clean["entries"]


def test_finished_output_is_reused_and_other_recipes_need_overwrite(tagged, tmp_path):
    out = tmp_path / "m"
    first = build_mixture(tokens_recipe(tagged), out)
    again = build_mixture(tokens_recipe(tagged), out)
    assert again["created"] == first["created"] and again["reused"] and "reused" not in first
    assert not (out / "weights.json").exists()
    build_mixture(tokens_recipe(tagged), out, export_weights=True)  # asked for on a reused mixture: written
    assert json.loads((out / "weights.json").read_text()) == pytest.approx(weights(first))
    with pytest.raises(DataError, match="pass --overwrite"):
        build_mixture(tokens_recipe(tagged, seed=99), out)
    other = build_mixture(tokens_recipe(tagged, seed=99), out, overwrite=True)
    assert other["seed"] == 99 and other["fingerprint"] != first["fingerprint"]
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "notes.txt").write_text("mine")
    with pytest.raises(DataError, match="not empty"):
        build_mixture(tokens_recipe(tagged), tmp_path / "x")


def test_dry_run_writes_nothing(tagged, tmp_path):
    m = build_mixture(tokens_recipe(tagged), tmp_path / "m", dry_run=True)
    assert m["dry_run"] and not (tmp_path / "m").exists()


def test_output_path_executor_and_tasks_are_checked(tagged, tmp_path):
    with pytest.raises(RecipeError, match="output.path: no output folder"):
        build_mixture(tokens_recipe(tagged))
    with pytest.raises(RecipeError, match="unknown executor 'spark'"):
        build_mixture(tokens_recipe(tagged), tmp_path / "m", executor="spark")
    with pytest.raises(RecipeError, match="at least 1"):
        build_mixture(tokens_recipe(tagged), tmp_path / "m", tasks=0)


def test_overrides_and_recipe_files_are_accepted(tagged, tmp_path):
    m = build_mixture(tokens_recipe(tagged), dry_run=True,
                      overrides={"density.math_text.share": 0.0, "budget.total": 1000})
    assert m["entries"]["math_text"]["buckets"]["scaffold"]["target"] == 0
    assert m["entries"]["math_text"]["buckets"]["plain"]["target"] == 300
    assert m["config"]["density"]["math_text"]["share"] == 0.0
