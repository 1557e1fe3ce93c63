"""Statistics of a sweep: intervals over seeds, comparisons with the baseline, corrections, bootstrap.

The unit of replication is the training run (one seed of one variant). Per metric:

- a variant's value is the mean over its seeds with a 95% t-interval (`mean_ci`);
- a comparison of variant b with the baseline a is `effect = mean(b) - mean(a)` with a t-interval and a
  two-sided p-value: a paired t-test over seeds when both variants ran the same seeds (runs with the same
  seed share their initial weights and data-order seed, so pairing removes that part of the noise), a
  Welch t-test otherwise (`compare`);
- accuracy is compared on the items both runs answered (`paired_accuracy`), one difference per seed, which
  then enters the same seed-level test: resampling items alone would treat one training run as many;
- `significant` holds after Holm's step-down (default) or Benjamini-Hochberg over every comparison in the
  sweep (`correct`), at the sweep's `alpha`; a comparison with no variation at all (both variants score
  the same in every seed, like accuracy stuck at 0) has no p-value and is left out of the correction;
- routing metrics of one run get a bootstrap interval over its documents (`bootstrap_documents`): a
  within-run uncertainty, shown beside the across-seed one, never a substitute for it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

CONFIDENCE = 0.95


def _t_quantile(df: float, confidence: float) -> float:
    from scipy import stats

    return float(stats.t.ppf(0.5 + confidence / 2, df))


def _t_p_value(t: float, df: float) -> float:
    from scipy import stats

    return float(2 * stats.t.sf(abs(t), df))


def _r(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), 6)


def mean_ci(values: Sequence[float], confidence: float = CONFIDENCE) -> dict[str, Any]:
    """{"mean", "ci_low", "ci_high", "n"}: a t-interval over the values (seeds); no interval with n < 2."""
    x = np.asarray([v for v in values if v is not None], dtype=np.float64)
    n = len(x)
    if n == 0:
        return {"mean": None, "ci_low": None, "ci_high": None, "n": 0}
    mean = float(x.mean())
    if n < 2:
        return {"mean": _r(mean), "ci_low": None, "ci_high": None, "n": n}
    half = _t_quantile(n - 1, confidence) * float(x.std(ddof=1)) / math.sqrt(n)
    return {"mean": _r(mean), "ci_low": _r(mean - half), "ci_high": _r(mean + half), "n": n}


def _test(effect: float, se: float, df: float, confidence: float) -> tuple[float, float, float | None]:
    """(ci_low, ci_high, p) of a t statistic. With no spread at all there is no test: identical values
    (accuracy 0 in every run) give p = None, so they neither count as evidence nor dilute the correction;
    a difference that is exactly the same in every seed gives p = 0."""
    if se == 0 or not math.isfinite(se):
        return effect, effect, None if effect == 0 else 0.0
    half = _t_quantile(df, confidence) * se
    return effect - half, effect + half, _t_p_value(effect / se, df)


def paired_t(a: Sequence[float], b: Sequence[float], confidence: float = CONFIDENCE) -> dict[str, Any]:
    """Paired t-test of b - a (same seeds, in the same order): effect, interval, p-value, test name."""
    d = np.asarray(b, dtype=np.float64) - np.asarray(a, dtype=np.float64)
    n = len(d)
    if n < 2:
        return _untestable(float(d.mean()) if n else None, "paired t")
    effect, se = float(d.mean()), float(d.std(ddof=1)) / math.sqrt(n)
    low, high, p = _test(effect, se, n - 1, confidence)
    return {"effect": _r(effect), "ci_low": _r(low), "ci_high": _r(high), "p_value": _r(p),
            "test": "paired t" if p is not None else "none (no variation)"}


def welch_t(a: Sequence[float], b: Sequence[float], confidence: float = CONFIDENCE) -> dict[str, Any]:
    """Welch's t-test of mean(b) - mean(a) with Welch-Satterthwaite degrees of freedom."""
    xa, xb = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    effect = float(xb.mean() - xa.mean()) if len(xa) and len(xb) else None
    if len(xa) < 2 or len(xb) < 2:
        return _untestable(effect, "Welch t")
    va, vb = xa.var(ddof=1) / len(xa), xb.var(ddof=1) / len(xb)
    se = math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (len(xa) - 1) + vb**2 / (len(xb) - 1)) if se > 0 else 1.0
    low, high, p = _test(effect, se, df, confidence)
    return {"effect": _r(effect), "ci_low": _r(low), "ci_high": _r(high), "p_value": _r(p),
            "test": "Welch t" if p is not None else "none (no variation)"}


def _untestable(effect: float | None, test: str) -> dict[str, Any]:
    return {"effect": _r(effect), "ci_low": None, "ci_high": None, "p_value": None, "test": f"{test} (n < 2)"}


def compare(a: dict[int, float], b: dict[int, float], confidence: float = CONFIDENCE) -> dict[str, Any]:
    """Compare per-seed values {seed: value} of b with a: paired over seeds when the seeds match, else Welch."""
    a = {s: v for s, v in a.items() if v is not None}
    b = {s: v for s, v in b.items() if v is not None}
    if a and set(a) == set(b):
        seeds = sorted(a)
        return paired_t([a[s] for s in seeds], [b[s] for s in seeds], confidence)
    return welch_t(list(a.values()), list(b.values()), confidence)


def paired_accuracy(a: dict[str, bool], b: dict[str, bool]) -> tuple[float, float, int]:
    """Accuracies of two runs on the items both answered ({item id: correct}): (acc_a, acc_b, n_items).

    Scoring both runs on the same items makes their difference a paired one: the mean over items of
    correct_b - correct_a, free of the item-sampling noise two independent item sets would add."""
    common = sorted(set(a) & set(b))
    if not common:
        return math.nan, math.nan, 0
    return (float(np.mean([a[i] for i in common])), float(np.mean([b[i] for i in common])), len(common))


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm step-down adjusted p-values (family-wise error); None (untestable) stays None and is not counted."""
    idx = [i for i, p in enumerate(p_values) if p is not None]
    m, out, running = len(idx), [None] * len(p_values), 0.0
    for rank, i in enumerate(sorted(idx, key=lambda i: p_values[i])):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        out[i] = running
    return out


def benjamini_hochberg(p_values: Sequence[float | None]) -> list[float | None]:
    """Benjamini-Hochberg adjusted p-values (false discovery rate); None stays None and is not counted."""
    idx = [i for i, p in enumerate(p_values) if p is not None]
    m, out, running = len(idx), [None] * len(p_values), 1.0
    for rank, i in reversed(list(enumerate(sorted(idx, key=lambda i: p_values[i]), start=1))):
        running = min(running, p_values[i] * m / rank)
        out[i] = min(1.0, running)
    return out


CORRECTIONS = {"holm": holm, "bh": benjamini_hochberg}


def correct(comparisons: list[dict[str, Any]], alpha: float = 0.05, method: str = "holm") -> list[dict[str, Any]]:
    """Add `p_adjusted` and `significant` (p_adjusted <= alpha) to every comparison, corrected over all."""
    adjusted = CORRECTIONS[method]([c["p_value"] for c in comparisons])
    return [{**c, "p_adjusted": _r(p), "significant": p is not None and p <= alpha}
            for c, p in zip(comparisons, adjusted, strict=True)]


def bootstrap_documents(groups: Sequence[np.ndarray], statistic: Callable[[list[np.ndarray]], np.ndarray],
                        n_boot: int = 1000, confidence: float = CONFIDENCE,
                        seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bootstrap over documents within each group: (estimate, ci_low, ci_high), each shaped like the statistic.

    `groups[g]` holds one row of counts per document ([N_g, ...]); `statistic` maps the per-group totals,
    batched ([B, ...] each), to [B, ...]. Documents are resampled with replacement inside their group (domains
    keep their sizes). The interval is the basic (reverse-percentile) bootstrap 2·θ̂ − q, which corrects the
    upward bias that plug-in divergences such as JSD have at finite counts."""
    rng = np.random.default_rng(seed)
    groups = [np.asarray(g, dtype=np.float64) for g in groups]
    if any(len(g) == 0 for g in groups):
        raise ValueError("bootstrap_documents: every group needs at least one document")
    estimate = np.asarray(statistic([g.sum(axis=0)[None] for g in groups]), dtype=np.float64)[0]
    totals = []
    for g in groups:
        weights = rng.multinomial(len(g), np.full(len(g), 1 / len(g)), size=n_boot)  # [B, N_g] copies drawn
        totals.append((weights @ g.reshape(len(g), -1)).reshape(n_boot, *g.shape[1:]))  # [B, ...]
    draws = np.asarray(statistic(totals), dtype=np.float64)  # [B, ...]
    lo_q, hi_q = np.quantile(draws, [0.5 - confidence / 2, 0.5 + confidence / 2], axis=0)
    return estimate, 2 * estimate - hi_q, 2 * estimate - lo_q
