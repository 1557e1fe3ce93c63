"""`tag` and `mix` on a real Slurm cluster give the same output as local runs."""

import json

import polars as pl
import pytest
import yaml

from tests.cluster.fixtures import slurm_cluster, wait_until  # noqa: F401 (fixture)
from tracemix.cli import main

pytestmark = pytest.mark.slurm


def _rows(folder):
    frame = pl.concat([pl.read_parquet(p) for p in sorted(folder.glob("*.parquet"))], how="diagonal_relaxed")
    return frame.sort("id")


def test_tag_and_mix_on_slurm_match_local(slurm_cluster, tmp_path):  # noqa: F811 (the fixture)
    from curation.demo.data import write_demo

    write_demo(tmp_path / "raw", docs=120, chats_n=0, seed=3)
    (tmp_path / "raw" / "more.jsonl").write_text(  # two input files: two datatrove tasks
        "".join(json.dumps({"id": f"x{i}", "text": f"Step {i}: {i} + {i} = {2 * i}. The answer is {2 * i}."}) + "\n"
                for i in range(30)))
    for where, flags in (("local", []), ("slurm", ["--executor", "slurm", "--partition", slurm_cluster])):
        assert main(["tag", "--input", str(tmp_path / "raw"), "--output", str(tmp_path / f"tag_{where}"),
                     "--tasks", "2", "--workers", "2", *flags]) == 0
    completions = tmp_path / "tag_slurm" / "logs" / "completions"
    wait_until(lambda: completions.is_dir() and len(list(completions.iterdir())) == 2, "tagging jobs not done")
    assert main(["stats", str(tmp_path / "tag_slurm")]) == 0  # checks every task finished, writes the manifest
    local, slurm = _rows(tmp_path / "tag_local"), _rows(tmp_path / "tag_slurm")
    assert len(local) == 150 and local.equals(slurm)

    recipe = {"name": "clustermix", "sources": [str(tmp_path / "tag_local")], "budget": {"unit": "bytes",
                                                                                         "total": 12_000},
              "mixture": {"general": 0.4, "pure_code": 0.2, "code_text": 0.2, "math_text": 0.2},
              "density": {"math_text": {"by": "scaffold_score", "threshold": 0.4, "share": 0.5}},
              "max_repeats": 2, "seed": 5, "output": {"path": str(tmp_path / "unused"), "format": "parquet"}}
    (tmp_path / "recipe.yaml").write_text(yaml.safe_dump(recipe))
    for where, flags in (("local", []), ("slurm", ["--executor", "slurm", "--partition", slurm_cluster])):
        assert main(["mix", str(tmp_path / "recipe.yaml"), "--output", str(tmp_path / f"mix_{where}"),
                     "--tasks", "2", *flags]) == 0
    wait_until((tmp_path / "mix_slurm" / "manifest.json").is_file, "mixing jobs not done")
    manifests = [json.loads((tmp_path / f"mix_{w}" / "manifest.json").read_text()) for w in ("local", "slurm")]
    for key in ("budget", "entries", "domains", "fingerprint"):
        assert manifests[0][key] == manifests[1][key], key
    assert _rows(tmp_path / "mix_local").equals(_rows(tmp_path / "mix_slurm"))
