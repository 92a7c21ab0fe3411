"""The statistics the book's verdicts come from: intervals over seeds and paired differences
between two studies evaluated on the same clips.

    seed_interval(values)                 mean, std and Student-t 95 % interval over seeds
    fisher_interval(rhos)                 a correlation's centre and 95 % interval over units (subjects),
                                          on Fisher's z scale: it cannot leave [−1, 1]
    paired_difference(a, b, key)          a − b of two summaries over the seeds both have
    paired_folds(run_a, run_b, metric)    the metric of both studies on their matched (seed, fold) pairs
    paired_delta(run_a, run_b, metric)    a − b over those pairs: bootstrap interval, Wilcoxon test
    pair_bootstrap(d)                     that bootstrap (pairs as if independent: too liberal, see
                                          cmnet.statistics.verdicts for the test the book's verdicts use)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..runs import layout as L


def seed_interval(values, level: float = 0.95) -> dict:
    """Mean, sample standard deviation (ddof 1) and the Student-t interval of the mean at
    ``level`` of per-seed values (one value: std 0 and an interval of width 0, flagged by
    ``n``)."""
    from scipy.stats import t as student_t

    v = np.asarray(values, dtype=float)
    if v.ndim != 1 or len(v) == 0 or not np.isfinite(v).all():
        raise ValueError(f"seed_interval needs a non-empty vector of finite values, got {values!r}")
    n, mean = len(v), float(v.mean())
    if n == 1:
        return {"mean": mean, "std": 0.0, "ci_low": mean, "ci_high": mean, "n": 1}
    sd = float(v.std(ddof=1))
    half = float(student_t.ppf(0.5 + level / 2, n - 1)) * sd / np.sqrt(n)
    return {"mean": mean, "std": sd, "ci_low": mean - half, "ci_high": mean + half, "n": n}


FISHER_CLIP = 0.9999  # |ρ| of a unit is clipped here before arctanh (a unit whose clips all give ρ = ±1)


def fisher_interval(rhos, level: float = 0.95) -> dict:
    """The correlation of independent units (one value per subject: the mean ρ over its clips)
    summarised on Fisher's scale: z = artanh(ρ) per unit, the mean of z and its Student-t
    interval over the units (S − 1 degrees of freedom), both transformed back by tanh. The
    centre and the interval are one estimator's, and the interval lies inside [−1, 1] whatever
    the number of units (a t-interval on ρ itself, over two seeds, reaches ±12.7 standard errors
    and leaves it). One unit: its value and no interval (``n`` says so)."""
    from scipy.stats import t as student_t

    r = np.asarray(rhos, dtype=float)
    if r.ndim != 1 or len(r) == 0 or not np.isfinite(r).all() or (np.abs(r) > 1).any():
        raise ValueError(f"fisher_interval needs a non-empty vector of correlations in [−1, 1], got {rhos!r}")
    z = np.arctanh(np.clip(r, -FISHER_CLIP, FISHER_CLIP))
    n, centre = len(z), float(z.mean())
    if n == 1:
        return {"rho": float(np.tanh(centre)), "ci_low": float("nan"), "ci_high": float("nan"), "n": 1}
    half = float(student_t.ppf(0.5 + level / 2, n - 1)) * float(z.std(ddof=1)) / np.sqrt(n)
    return {"rho": float(np.tanh(centre)), "ci_low": float(np.tanh(centre - half)),
            "ci_high": float(np.tanh(centre + half)), "n": n}


def per_seed_values(summary: dict, key: str = "pooled_accuracy") -> dict[int, float]:
    """seed → that seed's value of ``key`` (e.g. pooled_accuracy, fold_mean_uf1)."""
    return {int(s["seed"]): float(s[key]) for s in summary["seeds"]}


def paired_difference(a: dict, b: dict, key: str = "pooled_accuracy") -> dict:
    """The difference a − b of two studies' ``key`` over the seeds both have (paired by seed:
    the same seed gives the same shuffles and folds), with its Student-t 95 % interval."""
    va, vb = per_seed_values(a, key), per_seed_values(b, key)
    seeds = sorted(set(va) & set(vb))
    if not seeds:
        raise ValueError("the two studies share no seed")
    return seed_interval([va[s] - vb[s] for s in seeds]) | {"seeds": seeds}


def paired_folds(run_a: str | Path, run_b: str | Path, metric: str = "accuracy") -> pd.DataFrame:
    """``metric`` of two studies on the (seed, fold) pairs both finished: the same seed and test
    subject give the same split and shuffles, so the pairs are matched."""
    fa, fb = pd.DataFrame(L.read_done(run_a)), pd.DataFrame(L.read_done(run_b))
    if fa.empty or fb.empty:
        raise FileNotFoundError(f"no finished folds under {run_a if fa.empty else run_b}")
    m = fa[["seed", "fold", metric]].merge(fb[["seed", "fold", metric]], on=["seed", "fold"], suffixes=("_a", "_b"))
    if m.empty:
        raise ValueError(f"{run_a} and {run_b} share no finished (seed, fold)")
    m = m.rename(columns={f"{metric}_a": "a", f"{metric}_b": "b"}).sort_values(["seed", "fold"], ignore_index=True)
    m["diff"] = m["a"] - m["b"]
    return m


def pair_bootstrap(d, n_boot: int = 10_000, level: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """The percentile bootstrap interval of the mean of ``d``, its entries resampled with
    replacement as if independent: the first edition's test over (seed, fold) pairs, which the
    A/A simulation shows too liberal (the same subject under several seeds is one unit, not
    several: cmnet.statistics.calibration); kept to show that, and for the chapters' old columns."""
    d = np.asarray(d, dtype=float)
    rng = np.random.default_rng(seed)
    boots = d[rng.integers(0, len(d), size=(n_boot, len(d)))].mean(axis=1)
    lo, hi = np.quantile(boots, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def paired_delta(run_a: str | Path, run_b: str | Path, metric: str = "accuracy", n_boot: int = 10_000,
                 level: float = 0.95, seed: int = 0) -> dict:
    """a − b over matched (seed, fold) pairs: the mean difference, its percentile bootstrap
    interval (pairs resampled with replacement, ``n_boot`` times, numpy's default generator
    seeded with ``seed``), and the two-sided Wilcoxon signed-rank test (scipy; zero differences
    dropped; p = 1 when every difference is zero). ``distinguishable``: the interval excludes 0."""
    from scipy.stats import wilcoxon

    d = paired_folds(run_a, run_b, metric)["diff"].to_numpy()
    lo, hi = pair_bootstrap(d, n_boot, level, seed)
    nz = d[d != 0]
    if len(nz) == 0:
        stat, p = 0.0, 1.0
    else:
        w = wilcoxon(nz, zero_method="wilcox", alternative="two-sided")
        stat, p = float(w.statistic), float(w.pvalue)
    return {"metric": metric, "pairs": len(d), "mean": float(d.mean()), "ci_low": float(lo), "ci_high": float(hi),
            "wilcoxon_statistic": stat, "p_value": p, "distinguishable": bool(lo > 0 or hi < 0)}
