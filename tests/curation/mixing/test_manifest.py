from __future__ import annotations

import json

import pytest
from rich.console import Console

from curation.mixing import build_mixture, load_recipe, plan_table
from tests.curation.mixing.conftest import make_tagged, recipe_dict
from tests.curation.mixing.test_write import read_mixture


@pytest.fixture
def ift(tmp_path):
    src = make_tagged(tmp_path / "t", {"pure_code": 30, "code_text": 30, "general": 50, "math_text": 20}, chats=True)
    recipe = load_recipe(recipe_dict(src, budget={"unit": "documents", "total": 60},
                                     groups={"coding": ["pure_code", "code_text"], "other": ["general", "math_text"]},
                                     mixture={"coding": 0.25, "other": 0.75}))
    return recipe, tmp_path / "out"


def test_manifest_reports_targets_and_achieved_per_domain_group_and_bucket(ift):
    recipe, out = ift
    m = build_mixture(recipe, out, export_weights=True)
    assert json.loads((out / "manifest.json").read_text()) == m
    assert m["groups"]["coding"] == {"domains": ["pure_code", "code_text"], "target": 15, "achieved": 15,
                                     "documents": 15}
    assert m["groups"]["other"]["achieved"] == 45 and m["budget"]["achieved"] == 60
    df = read_mixture(out)
    for d, info in m["domains"].items():
        assert info["documents"] == df.filter(df["domain"] == d).height
    assert m["domains"]["general"]["target"] is None  # inside a group: only the group has a target
    assert m["entries"]["coding"]["buckets"]["all"]["supply_documents"] == 60
    assert m["repeats"] == {"max_repeats": 1, "copies_max": 1, "upsampled": False}
    assert len(m["config_hash"]) == 64 and m["seed"] == 7 and m["unit"] == "documents"
    assert {"versions", "git_commit", "created", "parents"} <= set(m)
    assert next(iter(m["supply"].values()))["general"]["documents"] == 50


def test_exported_weights_are_the_achieved_domain_shares(ift):
    recipe, out = ift
    build_mixture(recipe, out, export_weights=True)
    w = json.loads((out / "weights.json").read_text())
    assert set(w) == {"pure_code", "code_text", "math_text", "general"}
    assert abs(sum(w.values()) - 1) < 1e-6 and w["pure_code"] + w["code_text"] == pytest.approx(0.25)


def test_plan_table_lists_every_bucket(tagged):
    recipe = load_recipe(recipe_dict(tagged, density={"math_text": {"threshold": 0.5, "share": 0.5}}))
    console = Console(record=True, width=160)
    console.print(plan_table(build_mixture(recipe, dry_run=True)))
    text = console.export_text()
    for cell in ("general", "scaffold", "plain", "supply docs", "copies"):
        assert cell in text
