"""The sweep as a graph of stages, run locally: plan, subsets, stages by hand, leases and failures."""

import pytest

from ablate import lease as leases
from ablate.graph import build_graph, select, status
from ablate.sweep import load_sweep
from tests.ablate.tiny_sweep import final_losses, tagged_corpus, write_sweep
from tracemix.cli import main
from tracemix.errors import RecipeError


@pytest.fixture(scope="module")
def sweep_file(tmp_path_factory):
    root = tmp_path_factory.mktemp("graph")
    return write_sweep(root / "sweep", tagged_corpus(root))


def test_stages_depend_on_the_stages_whose_keys_they_hash(sweep_file, tmp_path):
    graph = build_graph(load_sweep(sweep_file), tmp_path)
    by_stage = {}
    for node in graph.values():
        by_stage.setdefault(node.stage.name, []).append(node)
    assert {s: len(n) for s, n in by_stage.items()} == {"frame": 1, "mix": 2, "train": 2}
    frame = by_stage["frame"][0]
    assert frame.variants == ["math_text=0.0", "math_text=1.0"] and frame.deps == []
    for mix, train in zip(by_stage["mix"], by_stage["train"], strict=True):
        assert mix.deps == [frame.id] and sorted(train.deps) == sorted([mix.id, frame.id])
        assert mix.variants == train.variants
    only = select(graph, ["math_text=1.0/train"])
    assert [n.stage.name for n in only] == ["frame", "mix", "train"] and only[-1].variants == ["math_text=1.0"]
    with pytest.raises(RecipeError, match=r"--only math_text=1/train: no variant `math_text=1` \(did you mean "
                                          r"'math_text=1.0'\?\); the variants are math_text=0.0, math_text=1.0"):
        select(graph, ["math_text=1/train"])
    with pytest.raises(RecipeError, match="no stage `probe` in this sweep; stages: frame, mix, train"):
        select(graph, ["math_text=1.0/probe"])


def test_plan_by_hand_subsets_leases_and_failures(sweep_file, tmp_path, capsys, monkeypatch):
    out = tmp_path / "run"
    assert main(["ablate", str(sweep_file), "--output", str(out), "--plan"]) == 0
    plan = capsys.readouterr().out
    assert plan.count("  pending  ") == 5 and plan.endswith("  5 pending\n")
    frame_cmd = next(line.split("run by hand: ")[1] for line in plan.splitlines() if "--run-stage frame/" in line)
    assert frame_cmd.startswith(f"tracemix ablate {sweep_file.resolve()} --output {out.resolve()} --run-stage frame/")

    # A stage run by hand with the printed command is picked up by the sweep.
    assert main(frame_cmd.split()[1:]) == 0
    graph = build_graph(load_sweep(sweep_file), out)
    assert [status(n)[0] for n in graph.values()].count("cached") == 1

    # A live lease (another launch) is left alone, shown as running, and refused by hand.
    mix = next(n for n in graph.values() if n.stage.name == "mix" and n.variants == ["math_text=0.0"])
    held = leases.claim(mix.lease_path, "local")
    assert main(["ablate", str(sweep_file), "--output", str(out), "--plan"]) == 0
    assert f"running  {mix.id}" in capsys.readouterr().out
    assert main(["ablate", str(sweep_file), "--output", str(out), "--run-stage", mix.id]) == 2
    assert "is already running (pid" in capsys.readouterr().err
    held.release()

    # --only runs one variant's stages; a failing stage is recorded with its log and blocks what needs it.
    import ablate.stages

    def broken(*args, **kwargs):
        raise RuntimeError("out of disk")

    monkeypatch.setattr(ablate.stages, "run_train", broken)
    assert main(["ablate", str(sweep_file), "--output", str(out), "--only", "math_text=0.0"]) == 1
    monkeypatch.undo()
    assert main(["ablate", str(sweep_file), "--output", str(out), "--plan"]) == 0
    plan = capsys.readouterr().out
    assert "failed   train/" in plan and "RuntimeError: out of disk; log " in plan and "2 cached" in plan

    # The relaunch runs only what is missing or failed, then writes the report.
    assert main(["ablate", str(sweep_file), "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "tiny: 5 stages, 2 cached, 3 to run on local" in printed  # frame by hand, one mix via --only
    assert (out / "report.md").is_file() and len(final_losses(out)) == 2


def test_a_training_stage_with_several_gpus_runs_under_torchrun(sweep_file, tmp_path, capsys):
    """`gpus: 2` launches `tracemix train` under torchrun inside the stage (gloo DDP on a machine without GPUs)."""
    tagged = sweep_file.parent.parent / "tagged"
    sweep_file = write_sweep(tmp_path / "sweep", tagged, resources={"default": {"cpus": 1}, "train": {"gpus": 2}})
    out = tmp_path / "run"
    assert main(["ablate", str(sweep_file), "--output", str(out), "--only", "math_text=0.0/train"]) == 0
    train = next(n for n in build_graph(load_sweep(sweep_file), out).values() if n.stage.name == "train"
                 and n.variants == ["math_text=0.0"])
    assert status(train)[0] == "cached"
    manifest = __import__("json").loads((train.stage.dir / "manifest.json").read_text())
    assert manifest["global_step"] == 2 and train.stage.result()["result"]["final_loss"] == manifest["final_loss"]
    assert "-m torch.distributed.run --standalone --nproc-per-node=2 -m tracemix train" in capsys.readouterr().out
    assert manifest["tokens_seen"] == 2 * 2 * 4 * 32  # two processes x 2 steps x batch 4 x 32 tokens
