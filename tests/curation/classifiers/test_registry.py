import pytest

from curation.classifiers.registry import check_spec, load_classifier, parse_spec
from tracemix.errors import DataError, RecipeError


def test_heuristic_is_loaded_lazily_by_name():
    clf = load_classifier("heuristic")
    scores = clf.predict("def f(x):\n    return x * 2\n")
    assert isinstance(clf.name, str) and abs(sum(scores.values()) - 1) < 1e-9
    assert set(scores) == {"pure_code", "code_text", "math_text", "general"}


def test_unknown_spec_says_did_you_mean():
    with pytest.raises(RecipeError, match="unknown classifier 'heuristc'. Did you mean 'heuristic'"):
        load_classifier("heuristc")
    with pytest.raises(RecipeError, match="Did you mean 'fasttext'"):
        parse_spec("fastext:m.bin")


def test_fasttext_needs_an_existing_file(tmp_path):
    with pytest.raises(RecipeError, match="needs a PATH"):
        parse_spec("fasttext")
    with pytest.raises(DataError, match=r"not found: .*missing\.bin.*tracemix classifier train"):
        load_classifier(f"fasttext:{tmp_path / 'missing.bin'}")


def test_llm_needs_endpoint_and_model():
    with pytest.raises(RecipeError, match="--base-url --model"):
        check_spec("llm")
    with pytest.raises(RecipeError, match="takes no"):
        parse_spec("heuristic:x")


def test_objects_pass_through_and_are_checked():
    class Planted:
        name = "planted-v0"

        def predict(self, text):
            return {"pure_code": 1.0, "code_text": 0.0, "math_text": 0.0, "general": 0.0}

    obj = Planted()
    assert load_classifier(obj) is obj
    with pytest.raises(RecipeError, match="not a classifier"):
        load_classifier(object())
