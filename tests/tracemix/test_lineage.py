"""The whole chain, tiny and real: demo data -> tag -> mix -> train -> eval and probe, then walked back."""

import json

import pytest

from tests.training.conftest import tiny_config
from tracemix.cli import main as tracemix
from tracemix.lineage import lineage, render


@pytest.fixture(scope="module")
def chain(tmp_path_factory, tiny_tokenizer_dir):
    from curation.demo.data import write_demo
    from curation.mixing import build_mixture
    from curation.tagging.tag import run_tag
    from eval import run_eval
    from eval.perplexity import domain_loss
    from probes import run_probe
    from training import run_training

    root = tmp_path_factory.mktemp("chain")
    write_demo(root / "raw", docs=80, chats_n=0)
    run_tag(str(root / "raw" / "corpus.jsonl"), root / "tagged", quiet=True, progress=False)
    recipe = {"name": "tiny", "sources": [str(root / "tagged")], "budget": {"unit": "bytes", "total": 8000},
              "mixture": {"general": 0.4, "pure_code": 0.2, "code_text": 0.2, "math_text": 0.2}, "seed": 3}
    build_mixture(recipe, root / "mix")
    cfg = tiny_config(tiny_tokenizer_dir, "mixtral", max_steps=2, max_length=32)
    run_training(cfg, data=root / "mix", output=root / "ckpt")
    run_eval(str(root / "ckpt"), "coin_flip", backend="hf", output=root / "eval", limit=2, batch_size=2,
             max_new_tokens=4, progress=False, device="cpu")
    run_probe(str(root / "ckpt"), str(root / "tagged"), root / "probe", max_tokens_per_domain=32, seq_len=16,
              batch_size=2, sample_tokens=16, progress=False, device="cpu")
    domain_loss(str(root / "ckpt"), str(root / "tagged"), root / "ppl", exclude=root / "mix", max_tokens_per_domain=32,
                seq_len=16, batch_size=2, progress=False, device="cpu")
    return root


def _kinds(node):
    return [node["kind"], *(k for p in node["parents"] for k in _kinds(p))]


def test_lineage_walks_eval_and_probe_runs_back_to_the_tagged_data(chain):
    tree = lineage(chain / "eval")
    assert _kinds(tree) == ["eval", "checkpoint", "mixture", "tagged", "raw"]
    ckpt = tree["parents"][0]
    mix = ckpt["parents"][0]
    assert ckpt["path"] == str(chain / "ckpt") and ckpt["key"]["steps"] == 2 and ckpt["status"] == "ok"
    assert mix["key"]["recipe"] == "tiny" and mix["parents"][0]["path"] == str(chain / "tagged")
    assert mix["parents"][0]["parents"][0] == {
        "kind": "raw", "path": str(chain / "raw" / "corpus.jsonl"), "manifest_hash": None, "created": None,
        "config_hash": None, "key": mix["parents"][0]["parents"][0]["key"], "parents": [], "status": "external"}
    probe = lineage(chain / "probe")
    assert _kinds(probe) == ["probe", "checkpoint", "mixture", "tagged", "raw", "tagged", "raw"]
    assert [p["kind"] for p in probe["parents"]] == ["checkpoint", "tagged"]
    held_out = lineage(chain / "ppl")
    assert [p["kind"] for p in held_out["parents"]] == ["checkpoint", "tagged", "mixture"]
    assert held_out["key"]["bpb"] > 0


def test_lineage_cli_prints_the_chain_and_json(chain, capsys):
    assert tracemix(["lineage", str(chain / "eval")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("eval ") and lines[1].startswith("└─ checkpoint")
    assert lines[2].startswith("   └─ mixture") and "recipe=tiny" in lines[2] and "[external]" in lines[-1]
    assert tracemix(["lineage", str(chain / "probe"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["kind"] == "probe"
    assert tracemix(["lineage", str(chain / "nowhere")]) == 2


def test_parents_changed_or_gone_since_are_flagged(chain, tmp_path):
    import shutil

    ckpt = tmp_path / "ckpt"
    shutil.copytree(chain / "ckpt", ckpt)
    manifest = json.loads((ckpt / "manifest.json").read_text())
    manifest["parents"][0]["manifest_hash"] = "0" * 64  # trained on an earlier build of the mixture
    (ckpt / "manifest.json").write_text(json.dumps(manifest))
    tree = lineage(ckpt)
    assert tree["parents"][0]["status"] == "changed" and "[changed]" in render(tree).splitlines()[1]
    manifest["parents"][0]["path"] = str(tmp_path / "gone")
    (ckpt / "manifest.json").write_text(json.dumps(manifest))
    assert lineage(ckpt)["parents"][0]["status"] == "missing"


def test_each_area_loads_its_verified_result(chain):
    import curation.mixing
    import eval
    import probes
    import training

    assert curation.mixing.load_result(chain / "mix")["name"] == "tiny"
    assert training.load_result(chain / "ckpt")["history"][-1]["step"] == 2
    assert eval.load_result(chain / "eval")["tasks"]["coin_flip"]["n"] == 2
    probe = probes.load_result(chain / "probe")
    assert probe["manifest"]["kind"] == "probe" and probe["family"] == "mixtral"
