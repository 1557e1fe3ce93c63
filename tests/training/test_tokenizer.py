import polars as pl
import pytest

from tests.training.conftest import CHATS, write_chat_mixture, write_text_mixture
from tracemix.artifacts import write_manifest
from tracemix.cli import main as tracemix
from tracemix.errors import DataError
from training.data import iter_texts, read_dataset
from training.tokenizer import iter_mixture_texts


def test_tokenizer_round_trips_and_marks_assistant_turns(tiny_tokenizer):
    text = "def add(a, b):\n    return a + b\n"
    assert tiny_tokenizer.decode(tiny_tokenizer(text)["input_ids"]) == text
    messages = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    out = tiny_tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True,
                                             return_assistant_tokens_mask=True)
    ids, mask = out["input_ids"], out["assistant_masks"]
    marked = tiny_tokenizer.decode([i for i, m in zip(ids, mask, strict=True) if m])
    assert marked == "hello<|im_end|>"


def test_mixture_texts_are_the_shards_training_loads(tmp_path):
    root = write_text_mixture(tmp_path / "mix", ["alpha", "beta"])
    # a nested folder (another mixture, a staging dir) is not part of this mixture
    write_text_mixture(root / "nested", ["gamma"])
    assert list(iter_mixture_texts(root)) == list(iter_texts(read_dataset(root))) == ["alpha", "beta"]
    chats = write_chat_mixture(tmp_path / "chats", CHATS[:1])
    assert list(iter_mixture_texts(chats)) == ["hi", "hello", "add 2 and 3", "2 + 3 = 5"]


def test_a_parent_of_mixture_folders_is_refused_and_names_them(tmp_path):
    write_text_mixture(tmp_path / "demo" / "code_050", ["a"])
    write_text_mixture(tmp_path / "demo" / "math_density", ["b"])
    with pytest.raises(DataError, match=r"holds mixture folders \(code_050, math_density\): pass one of them"):
        iter_mixture_texts(tmp_path / "demo")  # fails on the call, before any tokenizer training
    assert tracemix(["tokenizer", "train", "--data", str(tmp_path / "demo"), "--vocab-size", "300",
                     "--output", str(tmp_path / "tok")]) == 2
    assert not (tmp_path / "tok").exists()


def test_shards_without_text_or_messages_are_refused(tmp_path):
    root = tmp_path / "ids"
    root.mkdir()
    pl.DataFrame({"id": ["1", "2"], "score": [0.1, 0.2]}).write_parquet(root / "00000.parquet")
    write_manifest(root, "mixture", {})
    with pytest.raises(DataError, match=r"no `text` or `messages` column \(found id, score\)"):
        iter_mixture_texts(root)


def test_tokenizer_verb_trains_on_one_mixture(tmp_path, capsys):
    root = write_text_mixture(tmp_path / "mix")
    assert tracemix(["tokenizer", "train", "--data", str(root), "--vocab-size", "300", "--min-frequency", "1",
                     "--output", str(tmp_path / "tok")]) == 0
    assert "tokenizer with 300 tokens" in capsys.readouterr().out
