import pytest

from eval.generators import GENERATORS, coin_flip, first_letter_concat, last_letter_concat, reverse_list


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_same_seed_same_examples_other_seed_other_examples(name):
    gen = GENERATORS[name]
    assert gen(20, seed=1) == gen(20, seed=1)
    assert gen(20, seed=1) != gen(20, seed=2)
    assert len({ex["id"] for ex in gen(50)}) == 50


def test_answers_are_right():
    for ex in first_letter_concat(30):
        assert ex["answer"] == "".join(w[0] for w in ex["words"].split())
    for ex in last_letter_concat(30):
        assert ex["answer"] == "".join(w[-1] for w in ex["words"].split())
        assert 2 <= len(ex["words"].split()) <= 4
    for ex in reverse_list(30):
        assert ex["answer"].split(", ") == ex["items"].split(", ")[::-1]
    for ex in coin_flip(30):
        flips = ex["story"].count(" flips the coin.")
        assert ex["answer"] == ("yes" if flips % 2 == 0 else "no")


def test_coin_flip_is_balanced():
    answers = [ex["answer"] for ex in coin_flip(500)]
    assert 200 < answers.count("yes") < 300
