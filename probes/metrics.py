"""Routing metrics from counts, named as in the papers (per layer l, domain d, expert e; k of E experts).

- load f(l,d,e) = N_k(e,d) / (k N_d); soft load p(l,d,e) = mean router probability.
- specialization k f (OLMoE; uniform baseline k/E); normalised entropy H(f) / log E.
- JSD(f_a, f_b) in bits between domains; generalised JSD I(D; E_l) = H(sum_d w_d f_d) - sum_d w_d H(f_d).
- co-activation CA(i,j) = N(i,j) / N(i) (OLMoE), pooled over domains and per domain; consecutive-token repeat rate against the random
  baseline 1 - C(E-k,k)/C(E,k) (Mixtral), first-choice repeats against 1/E.
- contested experts: lift f(l,d,e) / mean_d f(l,d,e) above LIFT_THRESHOLD for two or more domains.
- core experts: the smallest set covering CORE_COVERAGE of a domain's load; synergy = Jaccard overlap.
- two checkpoints: routing displacement JSD(f^A, f^B); router saturation mean |E^A & E^B| / k (OLMoE).
"""

from __future__ import annotations

from math import comb

import numpy as np

LIFT_THRESHOLD = 1.5  # an expert is over-used by a domain at 1.5x the cross-domain mean load
CORE_COVERAGE = 0.5  # core experts cover 50% of a domain's load


def _safe_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.divide(a, b, out=np.zeros(np.broadcast_shapes(a.shape, b.shape)), where=b > 0)


def load(selected: np.ndarray, n_tokens: np.ndarray, top_k: int) -> np.ndarray:
    """f = N_k(e,d) / (k N_d): [L, D, E], sums to 1 over experts for every probed (layer, domain)."""
    return _safe_div(selected, top_k * n_tokens[..., None])


def soft_load(prob_sum: np.ndarray, n_tokens: np.ndarray) -> np.ndarray:
    return _safe_div(prob_sum, n_tokens[..., None])


def specialization(f: np.ndarray, top_k: int) -> np.ndarray:
    """k f: the share of a domain's tokens routed to each expert; uniform routing gives k/E."""
    return top_k * f


def entropy_bits(p: np.ndarray, axis: int = -1) -> np.ndarray:
    p = np.asarray(p, dtype=np.float64)
    logs = np.log2(p, out=np.zeros_like(p), where=p > 0)
    return -(p * logs).sum(axis=axis)


def normalised_entropy(f: np.ndarray) -> np.ndarray:
    """H(f) / log E in [0, 1]: 1 is uniform use of all experts, 0 is one expert."""
    n_e = f.shape[-1]
    return entropy_bits(f) / np.log2(n_e) if n_e > 1 else np.zeros(f.shape[:-1])


def jsd(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Jensen-Shannon divergence in bits over the last axis: 0 for identical, 1 for disjoint support."""
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    m = 0.5 * (p + q)
    return np.clip(entropy_bits(m) - 0.5 * (entropy_bits(p) + entropy_bits(q)), 0.0, 1.0)


def jsd_matrix(f: np.ndarray) -> np.ndarray:
    """[L, D, D] pairwise JSD between the domains' load distributions in each layer."""
    return jsd(f[:, :, None, :], f[:, None, :, :])


def generalised_jsd(f: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """I(D; E_l) = H(sum_d w_d f_d) - sum_d w_d H(f_d) in bits, per layer; weights are domain shares."""
    w = np.asarray(weights, dtype=np.float64)
    w = w / w.sum() if w.sum() > 0 else w
    mix = np.einsum("d,lde->le", w, f)
    return np.clip(entropy_bits(mix) - np.einsum("d,ld->l", w, entropy_bits(f)), 0.0, None)


def coactivation(coact: np.ndarray, by_domain: bool = False) -> np.ndarray:
    """CA(i,j) = N(i,j) / N(i), diagonal set to 0: pooled over domains [L, E, E], or per domain
    [L, D, E, E] with `by_domain` (which experts fire together for one domain's tokens)."""
    n_ij = (coact if by_domain else coact.sum(axis=1)).astype(np.float64)  # [L, (D,) E, E]
    n_i = np.diagonal(n_ij, axis1=-2, axis2=-1)  # [L, (D,) E]
    ca = _safe_div(n_ij, n_i[..., None])
    idx = np.arange(ca.shape[-1])
    ca[..., idx, idx] = 0.0
    return ca


def top_pairs(ca: np.ndarray, n: int = 5) -> list[list]:
    """The n largest CA(i, j) of one [E, E] matrix as [i, j, CA], largest first (zero entries left out)."""
    order = np.argsort(-ca, axis=None, kind="stable")[:n]
    return [[int(i), int(j), float(ca[i, j])] for i, j in zip(*np.unravel_index(order, ca.shape), strict=True)
            if ca[i, j] > 0]


def repeat_baseline(num_experts: int, top_k: int) -> float:
    """Chance that two random k-subsets of E experts share at least one: 1 - C(E-k,k)/C(E,k)."""
    return 1.0 - comb(num_experts - top_k, top_k) / comb(num_experts, top_k)


def repeat_rates(repeat_any: np.ndarray, repeat_first: np.ndarray, pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return _safe_div(repeat_any, pairs), _safe_div(repeat_first, pairs)


def lift(f: np.ndarray) -> np.ndarray:
    """f(l,d,e) / mean_d f(l,d,e): [L, D, E]; 1 is the cross-domain average."""
    return _safe_div(f, f.mean(axis=1, keepdims=True))


def contested_experts(f: np.ndarray, threshold: float = LIFT_THRESHOLD) -> np.ndarray:
    """[L, E] bool: experts over-used (lift > threshold) by two or more domains."""
    return (lift(f) > threshold).sum(axis=1) >= 2


def contested_share(f: np.ndarray, contested: np.ndarray) -> np.ndarray:
    """[L, D]: the share of each domain's load that lands on contested experts (its contested capacity)."""
    return (f * contested[:, None, :]).sum(axis=-1)


def core_experts(f_row: np.ndarray, coverage: float = CORE_COVERAGE) -> list[int]:
    """Smallest set of experts covering `coverage` of one domain's load (largest loads first)."""
    if f_row.sum() <= 0:
        return []
    order = np.argsort(-f_row, kind="stable")
    n = int(np.searchsorted(np.cumsum(f_row[order]), coverage * f_row.sum() - 1e-12) + 1)
    return sorted(int(e) for e in order[:n])


def jaccard(a: set | list, b: set | list) -> float:
    a, b = set(a), set(b)
    return len(a & b) / len(a | b) if a | b else 0.0


def router_saturation(experts_a: np.ndarray, experts_b: np.ndarray, top_k: int) -> np.ndarray:
    """mean |E^A & E^B| / k over the same tokens, per layer: experts_* are [N, L, k] index arrays."""
    if experts_a.shape[0] == 0:
        return np.full(experts_a.shape[1], np.nan)
    shared = (experts_a[..., :, None] == experts_b[..., None, :]).any(-1).sum(-1)  # [N, L]
    return shared.mean(axis=0) / top_k
