import numpy as np
import pytest

from probes import metrics as M


def test_jsd_identical_is_zero_and_disjoint_is_one():
    p = np.array([0.2, 0.3, 0.5, 0.0])
    assert M.jsd(p, p) == pytest.approx(0.0, abs=1e-12)
    assert M.jsd(np.array([0.5, 0.5, 0, 0]), np.array([0, 0, 0.5, 0.5])) == pytest.approx(1.0)
    # symmetric, bounded
    q = np.array([0.1, 0.1, 0.1, 0.7])
    assert M.jsd(p, q) == pytest.approx(M.jsd(q, p))
    assert 0 < M.jsd(p, q) < 1


def test_jsd_matrix_and_generalised_jsd():
    f = np.array([[[0.5, 0.5, 0, 0], [0, 0, 0.5, 0.5]]])  # [L=1, D=2, E=4]
    assert M.jsd_matrix(f)[0].tolist() == [[0.0, 1.0], [1.0, 0.0]]
    assert M.generalised_jsd(f, np.array([1, 1]))[0] == pytest.approx(1.0)  # I(D;E) = H(D) = 1 bit
    assert M.generalised_jsd(f, np.array([3, 1]))[0] == pytest.approx(-(0.75 * np.log2(0.75) + 0.25 * np.log2(0.25)))
    same = np.array([[[0.25] * 4, [0.25] * 4]])
    assert M.generalised_jsd(same, np.array([1, 1]))[0] == pytest.approx(0.0)


def test_load_specialization_entropy():
    sel = np.array([[[6, 2, 0, 0]]])
    n = np.array([[4]])
    f = M.load(sel, n, top_k=2)
    assert f.tolist() == [[[0.75, 0.25, 0.0, 0.0]]]
    assert M.specialization(f, 2).tolist() == [[[1.5, 0.5, 0.0, 0.0]]]
    assert M.normalised_entropy(np.array([0.25] * 4)) == pytest.approx(1.0)
    assert M.normalised_entropy(np.array([1.0, 0, 0, 0])) == pytest.approx(0.0)
    assert M.load(sel, np.array([[0]]), 2).sum() == 0  # unprobed domain: zeros, not NaN


def test_repeat_baseline_matches_mixtral_formula():
    assert M.repeat_baseline(8, 2) == pytest.approx(1 - 15 / 28)
    assert M.repeat_baseline(16, 1) == pytest.approx(1 / 16)


def test_coactivation():
    coact = np.zeros((1, 1, 3, 3))
    coact[0, 0] = [[4, 3, 1], [3, 3, 0], [1, 0, 1]]
    ca = M.coactivation(coact)[0]
    assert ca[0, 1] == pytest.approx(0.75) and ca[1, 0] == pytest.approx(1.0) and ca[0, 0] == 0


def test_coactivation_per_domain_differs_from_pooled():
    coact = np.zeros((1, 2, 3, 3))
    coact[0, 0] = [[2, 2, 0], [2, 2, 0], [0, 0, 0]]  # domain 0: experts 0 and 1 always together
    coact[0, 1] = [[2, 0, 2], [0, 0, 0], [2, 0, 2]]  # domain 1: experts 0 and 2 always together
    pooled, by_domain = M.coactivation(coact)[0], M.coactivation(coact, by_domain=True)[0]
    assert pooled[0, 1] == pytest.approx(0.5) and pooled[0, 2] == pytest.approx(0.5)
    assert by_domain[0, 0, 1] == 1.0 and by_domain[0, 0, 2] == 0.0 and by_domain[1, 0, 2] == 1.0
    assert M.top_pairs(by_domain[1], 2) == [[0, 2, 1.0], [2, 0, 1.0]]


def test_contested_and_core_experts():
    f = np.array([[[0.4, 0.4, 0.1, 0.1], [0.4, 0.05, 0.45, 0.1], [0.05, 0.05, 0.05, 0.85]]])
    # lift of expert 0: 0.4 / 0.283 = 1.41 for two domains; lower threshold makes it contested
    assert M.contested_experts(f, 1.5)[0].tolist() == [False, False, False, False]
    assert M.contested_experts(f, 1.4)[0].tolist() == [True, False, False, False]
    assert M.contested_share(f, M.contested_experts(f, 1.4))[0].tolist() == pytest.approx([0.4, 0.4, 0.05])
    assert M.core_experts(f[0, 0]) == [0, 1]
    assert M.core_experts(np.array([0.1, 0.6, 0.3])) == [1]
    assert M.core_experts(np.array([0.3, 0.3, 0.4])) == [0, 2]
    assert M.jaccard([0, 2], [2, 3]) == pytest.approx(1 / 3)


def test_router_saturation():
    a = np.array([[[0, 1]], [[2, 3]]])  # [N=2, L=1, k=2]
    b = np.array([[[1, 0]], [[3, 4]]])
    assert M.router_saturation(a, b, 2).tolist() == [0.75]
    assert M.router_saturation(a, a, 2).tolist() == [1.0]
