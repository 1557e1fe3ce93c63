import json

import pytest

from eval.registry import get_task
from eval.sources import GOLD_TRANSFORMS, build_prompt, load_examples
from eval.task import parse_task
from tracemix.errors import DataError


def write_bigbench(tmp_path, examples, **meta):
    folder = tmp_path / "my_task"
    folder.mkdir()
    (folder / "task.json").write_text(json.dumps({"name": "my_task", "description": "d", "examples": examples,
                                                  **meta}))
    return folder / "task.json"


def test_bigbench_generative_task_loads_with_its_targets(tmp_path):
    path = write_bigbench(tmp_path, [{"input": "2 + 2 =", "target": "4"},
                                     {"input": "Capital of France?", "target": ["Paris", "paris, France"]}],
                          keywords=["arithmetic"])
    task = get_task(f"bigbench:{path}")
    examples = load_examples(task)
    assert task.name == "bigbench_my_task" and task.domain == "arithmetic" and task.answer_type == "string"
    assert [ex.gold for ex in examples] == [["4"], ["Paris", "paris, France"]]
    assert build_prompt(task, examples[0]).startswith("2 + 2 =\n")


def test_bigbench_multiple_choice_uses_target_scores(tmp_path):
    path = write_bigbench(tmp_path, [{"input": "Sky colour?", "target_scores": {"green": 0, "blue": 1, "red": 0}}],
                          keywords=["logical reasoning"])
    task = get_task(f"bigbench:{path.parent}")
    (ex,) = load_examples(task)
    assert task.answer_type == "choice" and task.domain == "logical"
    assert ex.gold == ["B"] and ex.options == ["green", "blue", "red"]
    assert "A. green\nB. blue\nC. red" in build_prompt(task, ex)


def test_bigbench_without_examples_is_rejected(tmp_path):
    path = write_bigbench(tmp_path, [])
    with pytest.raises(DataError, match="no `examples` list"):
        load_examples(get_task(f"bigbench:{path}"))


def _jsonl_task(path, **extra):
    return parse_task({"name": "local", "domain": "arithmetic", "source": f"jsonl:{path}",
                       "prompt": "Q: {question}\nA:", "answer_type": "number", **extra}, "local.yaml")


def test_jsonl_source_with_gold_transform_and_limit(tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_text("\n".join(json.dumps({"question": f"q{i}", "answer": f"work\n#### {i},000"}) for i in range(5)))
    examples = load_examples(_jsonl_task(path, gold_transform="after_hashes"), limit=3)
    assert [ex.gold for ex in examples] == ["0000", "1000", "2000"]
    assert [ex.id for ex in examples] == ["0", "1", "2"]


def test_jsonl_errors_name_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"question": "q", "answer": "1"}\n{not json}\n')
    with pytest.raises(DataError, match=r"bad\.jsonl:2: not valid JSON"):
        load_examples(_jsonl_task(path))
    path.write_text('{"question": "q", "solution": "1"}\n')
    with pytest.raises(DataError, match="no field `answer`.*set `gold:`"):
        load_examples(_jsonl_task(path))


def test_filter_keeps_matching_rows(tmp_path):
    path = tmp_path / "babi.jsonl"
    path.write_text("\n".join(json.dumps({"question": str(i), "answer": "1", "task": i % 3}) for i in range(9)))
    task = parse_task({"name": "f", "domain": "logical", "prompt": "{question}", "answer_type": "string",
                       "source": {"kind": "jsonl", "path": str(path), "filter": {"task": [1, 2]}}}, "f.yaml")
    assert [ex.fields["question"] for ex in load_examples(task)] == ["1", "2", "4", "5", "7", "8"]


def test_gold_transforms():
    assert GOLD_TRANSFORMS["leading_number"]("9 (apples)", {}) == "9"
    assert GOLD_TRANSFORMS["index_to_letter"](2, {}) == "C"
    assert GOLD_TRANSFORMS["parenthesised_letter"]("(B)", {}) == "B"
    assert GOLD_TRANSFORMS["number"](12.0, {}) == "12"
    gold = GOLD_TRANSFORMS["humaneval"](None, {"prompt": "def f():\n", "test": "def check(c): pass",
                                              "entry_point": "f"})
    assert gold["tests"].endswith("check(f)\n") and gold["entry_point"] == "f"
    mbpp = GOLD_TRANSFORMS["mbpp"](None, {"test_list": ["assert set(similar_elements((3, 4), (4, 5))) == {4}"]})
    assert mbpp["entry_point"] == "similar_elements"  # the tested function, not the builtin around it


def test_gzipped_jsonl_source_and_a_truncated_one(tmp_path):
    import gzip

    path = tmp_path / "t.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"question": "q", "answer": "1"}\n'))
    task = parse_task({"name": "t", "domain": "arithmetic", "source": f"jsonl:{path}", "prompt": "{question}",
                       "answer_type": "number"}, "t.yaml")
    assert [ex.gold for ex in load_examples(task)] == ["1"]
    path.write_bytes(path.read_bytes()[:-6])
    with pytest.raises(DataError, match="cannot decompress"):
        load_examples(task)
