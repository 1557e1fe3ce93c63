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
    ({"promt": "x"}, r"unknown key\(s\): promt"),
    ({"domain": "poetry"}, r"`domain` is 'poetry'; use one of symbolic"),
    ({"answer_type": "code"}, "code tasks are scored by execution"),
    ({"metric": "pass@1"}, "`metric: pass@1` needs `answer_type: code`"),
    ({"extractor": "magic"}, "`extractor` 'magic' is unknown"),
    ({"source": "ftp:x"}, "must look like KIND:PATH"),
    ({"source": {"kind": "hf", "path": "x", "splitt": "test"}}, r"unknown key\(s\) in `source`: splitt"),
    ({"gold_transform": "nope"}, "`gold_transform` 'nope' is unknown"),
    ({"prompt": "no placeholder"}, "has no {field} placeholder"),
])
def test_bad_task_files_name_the_key(change, message):
    with pytest.raises(RecipeError, match=message):
        parse_task({**BASE, **change}, "bad.yaml")


def test_missing_required_key(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump({k: v for k, v in BASE.items() if k != "prompt"}))
    with pytest.raises(RecipeError, match=r"t\.yaml: missing required key `prompt`"):
        load_task_file(path)


def test_defaults_follow_the_answer_type():
    task = parse_task(BASE, "t.yaml")
    assert task.extractor == "normalized_string" and task.metric == "exact_match" and task.version == 1
