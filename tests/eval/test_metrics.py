import math

import pytest

from eval.metrics import accuracy, pass_at_1, pass_at_k, standard_error


def test_accuracy_and_standard_error():
    outcomes = [True, False, True, True]
    assert accuracy(outcomes) == 0.75
    assert standard_error(outcomes) == pytest.approx(math.sqrt(0.75 * 0.25 / 3))
    assert standard_error([True]) == 0.0 and accuracy([]) == 0.0


def test_pass_at_k():
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)
    assert pass_at_k(5, 0, 2) == 0.0 and pass_at_k(5, 4, 2) == 1.0
    assert pass_at_k(4, 1, 2) == pytest.approx(1 - math.comb(3, 2) / math.comb(4, 2))
    assert pass_at_1([True, False]) == 0.5
    with pytest.raises(ValueError, match="at least 3 samples"):
        pass_at_k(2, 1, 3)
