import math

import numpy as np
import pytest
from scipy import stats as sp

from ablate.stats import (
    benjamini_hochberg,
    bootstrap_documents,
    compare,
    correct,
    holm,
    mean_ci,
    paired_accuracy,
    paired_t,
    welch_t,
)
from probes.metrics import jsd


def test_mean_ci_is_the_t_interval_over_seeds():
    ci = mean_ci([1.0, 2.0, 3.0])
    half = sp.t.ppf(0.975, 2) * 1.0 / math.sqrt(3)
    assert ci == {"mean": 2.0, "ci_low": pytest.approx(2 - half, abs=1e-6), "ci_high": pytest.approx(2 + half, abs=1e-6),
                  "n": 3}
    assert mean_ci([4.0]) == {"mean": 4.0, "ci_low": None, "ci_high": None, "n": 1}


def test_welch_and_paired_agree_with_scipy():
    a, b = [1.0, 1.2, 0.9, 1.1], [1.5, 1.3, 1.7, 1.6]
    w = welch_t(a, b)
    assert w["effect"] == pytest.approx(0.475) and w["p_value"] == pytest.approx(sp.ttest_ind(b, a, equal_var=False).pvalue,
                                                                                 abs=1e-6)
    p = paired_t(a, b)
    assert p["p_value"] == pytest.approx(sp.ttest_rel(b, a).pvalue, abs=1e-6)
    assert p["ci_low"] < p["effect"] < p["ci_high"]


def test_compare_pairs_matching_seeds_and_falls_back_to_welch():
    assert compare({1: 1.0, 2: 2.0, 3: 3.0}, {1: 1.5, 2: 2.4, 3: 3.6})["test"] == "paired t"
    assert compare({1: 1.0, 2: 2.0, 3: 3.0}, {4: 1.5, 5: 2.4, 6: 3.6})["test"] == "Welch t"
    flat = compare({1: 0.0, 2: 0.0}, {1: 0.0, 2: 0.0})  # accuracy stuck at zero: nothing to test
    assert (flat["effect"], flat["ci_low"], flat["ci_high"], flat["p_value"]) == (0.0, 0.0, 0.0, None)
    assert flat["test"] == "none (no variation)"
    assert compare({1: 0.0, 2: 0.0}, {1: 0.5, 2: 0.5})["p_value"] == 0.0  # the same gain in every seed
    one = compare({1: 1.0}, {1: 2.0})
    assert one["effect"] == 1.0 and one["p_value"] is None


def test_paired_accuracy_uses_the_items_both_runs_answered():
    a = {"q1": True, "q2": False, "q3": True}
    b = {"q2": True, "q3": True, "q4": False}
    assert paired_accuracy(a, b) == (0.5, 1.0, 2)


def test_holm_and_bh_adjust_over_all_comparisons():
    p = [0.01, 0.04, 0.03, None, 0.005]
    assert holm(p) == pytest.approx([0.03, 0.06, 0.06, None, 0.02])
    assert benjamini_hochberg(p) == pytest.approx([0.02, 0.04, 0.04, None, 0.02])
    marked = correct([{"p_value": x} for x in p], alpha=0.05)
    assert [c["significant"] for c in marked] == [True, False, False, False, True]
    assert [c["significant"] for c in correct([{"p_value": x} for x in p], 0.05, "bh")] == [True] * 3 + [False, True]


def _documents(rng, dist, n):
    """n documents of 20-200 routed tokens whose own expert distributions scatter around `dist`."""
    own = rng.dirichlet(50 * dist, size=n)
    return np.array([rng.multinomial(m, d) for m, d in zip(rng.integers(20, 200, size=n), own, strict=True)])


def test_bootstrap_interval_of_jsd_is_calibrated():
    rng = np.random.default_rng(0)
    p, q = rng.dirichlet(np.ones(8)), rng.dirichlet(np.ones(8))
    truth = float(jsd(p, q))

    def statistic(t):
        return jsd(t[0] / t[0].sum(-1, keepdims=True), t[1] / t[1].sum(-1, keepdims=True))

    reps, covered = 300, 0
    for r in range(reps):
        _, low, high = bootstrap_documents([_documents(rng, p, 60), _documents(rng, q, 60)], statistic,
                                           n_boot=400, seed=r)
        covered += low <= truth <= high
    assert 0.90 <= covered / reps <= 0.99
