import pytest
import yaml

from eval.registry import TASK_DIR
from eval.task import load_task_file, parse_task
from tracemix.errors import RecipeError

BASE = {"name": "t", "domain": "symbolic", "source": "generator:coin_flip", "prompt": "Q: {story}",
        "answer_type": "string"}


@pytest.mark.parametrize("path", sorted(p for p in TASK_DIR.rglob("*.yaml") if p.name != "suites.yaml"),
                         ids=lambda p: p.stem)
def test_every_shipped_task_file_validates(path):
    task = load_task_file(path)
    assert task.name == path.stem
    assert path.read_text().startswith(f"# tracemix eval --model MODEL --tasks {path.stem} ")
    assert parse_task(task.to_dict(), "roundtrip").to_dict() == task.to_dict()


@pytest.mark.parametrize(("change", "message"), [
    ({"promt": "x"}, r"bad\.yaml: promt: unknown key; did you mean `prompt`\?"),
    ({"domain": "poetry"}, r"bad\.yaml: domain: 'poetry' is not one of symbolic, logical"),
    ({"answer_type": "code"}, r"bad\.yaml: metric: code tasks are scored by execution"),
    ({"metric": "pass@1"}, r"bad\.yaml: metric: `metric: pass@1` needs `answer_type: code`"),
    ({"extractor": "magic"}, r"bad\.yaml: extractor: 'magic' is unknown; use one of"),
    ({"source": "ftp:x"}, r"bad\.yaml: source: 'ftp:x' must look like KIND:PATH"),
    ({"source": "hf:"}, r"bad\.yaml: source\.path: empty; give a hub id"),
    ({"source": {"kind": "hf", "path": "x", "splitt": "test"}}, r"source\.splitt: unknown key; did you mean `split`"),
    ({"source": {"kind": "generator", "path": "coin_flip", "n": "50"}}, r"source\.n: expected an integer, got a string"),
    ({"gold_transform": "nope"}, r"gold_transform: 'nope' is not one of after_hashes, leading_number"),
    ({"prompt": "no placeholder"}, r"prompt: no \{field\} placeholder"),
    ({"version": True}, r"version: expected an integer, got a boolean \(true\)"),
])
def test_bad_task_files_name_the_key(change, message):
    with pytest.raises(RecipeError, match=message):
        parse_task({**BASE, **change}, "bad.yaml")


def test_missing_required_key(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump({k: v for k, v in BASE.items() if k != "prompt"}))
    with pytest.raises(RecipeError, match=r"t\.yaml: prompt: required key missing"):
        load_task_file(path)


def test_defaults_follow_the_answer_type():
    task = parse_task(BASE, "t.yaml")
    assert task.extractor == "normalized_string" and task.metric == "exact_match" and task.version == 1


def test_every_gold_transform_has_an_implementation():
    from eval.sources import GOLD_TRANSFORMS
    from eval.task import GoldTransform

    assert set(GOLD_TRANSFORMS) == set(GoldTransform)


def test_a_task_remembers_its_file_but_does_not_accept_it_as_a_key(tmp_path):
    assert parse_task(BASE, "t.yaml").path == "t.yaml"
    with pytest.raises(RecipeError, match="path: unknown key"):
        parse_task({**BASE, "path": "x"}, "t.yaml")
