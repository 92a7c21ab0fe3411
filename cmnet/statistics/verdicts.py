"""The book's verdicts: two variants evaluated on the same clips, compared with the *subject*
as the unit that is resampled.

    clips = clip_table(study)                 one row per (seed, test clip): subject, label, pred
    c = compare(clips_a, clips_b, classes)    per metric (accuracy, uf1): Δ = a − b, its standard
                                              error, 95 % interval, p, and the smallest difference
                                              this design detects with 80 % power
    holm(p_values)                            Holm's step-down adjustment over a family
    level(clips, classes)                     one study's metric with the same subject interval
    word = verdict(delta, p, p_vs_paper, paper_delta, mde)

The procedure (and why). A metric is computed as the book reports it: pooled over the test
clips of one seed, then averaged over seeds. A subject's clips are tested under every seed, so
seeds are repeated measurements *of the same subjects*: what varies from one replication of the
study to the next is which subjects were recorded. The bootstrap therefore resamples subjects
(with replacement, each drawn subject bringing all its clips under every seed: a subject's
clips are averaged over seeds inside the statistic) and recomputes Δ from the subjects' pooled
confusion counts. With the few subjects of an edition (8 to 48) the percentile interval of that
bootstrap is too narrow (its variance is (S − 1)/S of the true one, and its tails are normal
where the t distribution with S − 1 degrees of freedom belongs), so the book uses the
bootstrap's standard error, corrected by √(S/(S − 1)), with Student's t on S − 1 degrees of
freedom for the interval, the p-value and the smallest detectable difference

    MDE(80 %) = (t[0.975, S−1] + t[0.80, S−1]) · SE     (a formula; cmnet.statistics.calibration
                                                          checks its power by simulation)

Both choices are measured by the A/A simulation of cmnet.statistics.calibration (the false-positive
rate of this procedure, of the percentile interval and of the first edition's (seed, fold)
bootstrap on data where nothing differs). The number of resamples matters too: with 500 the
bootstrap's own noise in the standard error lifts the rate to 5.7 % (± 0.4, 3,000 replicates
of the CPU edition's design); the book uses 4,000 (5.2 % ± 0.4).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..runs import layout as L

METRICS = ("accuracy", "uf1")
ALPHA, POWER = 0.05, 0.80

# the defined words (the book explains each once; cmnet.statistics.claims uses them)
HOLDS, REVERSED, EXCLUDED, NOT_DISTINGUISHABLE = ("holds here", "reversed here", "the paper's effect is excluded here",
                                                  "not distinguishable here")


def clip_table(study: str | Path) -> pd.DataFrame:
    """One row per (seed, test clip) of a study: seed, key, subject, label, pred — from the
    committed ``results/<study>/predictions.csv`` when ``study`` is a results folder, else from
    the fold folders of a runs folder (every finished fold)."""
    study = Path(study)
    p = L.read_predictions(study)
    if p.empty:
        raise FileNotFoundError(f"{study}: no predictions (neither {L.PREDICTIONS_TABLE} nor finished folds)")
    return p[["seed", "key", "subject", "label", "pred"]].sort_values(["seed", "key"], ignore_index=True)


def folds_clip_table(study: str | Path, classes) -> pd.DataFrame:
    """A clip table for **accuracy only**, from a LOSO study's folds table (results/<study>/folds.csv:
    seed, fold, n_test, accuracy) where no per-clip predictions were kept (the first edition): per
    (seed, fold) n_test clips of subject = fold, the first round(accuracy · n_test) right (label
    and prediction ``classes[0]``), the others wrong (``classes[1]``). A subject's pooled accuracy,
    and so every accuracy Δ and its subject bootstrap, equals the real clips'; UF1 does not."""
    f = pd.read_csv(Path(study) / L.FOLDS_TABLE)
    rows = []
    for r in f.itertuples():
        right = int(round(r.accuracy * r.n_test))
        rows += [{"seed": int(r.seed), "key": f"{r.fold}/{i:04d}", "subject": str(r.fold), "label": classes[0],
                  "pred": classes[0] if i < right else classes[1]} for i in range(int(r.n_test))]
    return pd.DataFrame(rows).sort_values(["seed", "key"], ignore_index=True)


def _matched(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    m = a.merge(b[["seed", "key", "label", "pred"]], on=["seed", "key"], suffixes=("_a", "_b"))
    if m.empty:
        raise ValueError("the two studies share no (seed, clip): they were not evaluated on the same clips")
    bad = m[m.label_a != m.label_b]
    if len(bad):
        raise ValueError(f"clip {bad.key.iloc[0]} (seed {bad.seed.iloc[0]}) has label {bad.label_a.iloc[0]!r} in one "
                         f"study and {bad.label_b.iloc[0]!r} in the other: not the same clips")
    return m


def confusions(m: pd.DataFrame, classes, pred: str = "pred", label: str = "label") -> tuple[list, list, np.ndarray]:
    """Per subject and seed the confusion counts (rows true, columns predicted, in the order of
    ``classes``): subjects, seeds, an array (S, R, C, C). A label or prediction outside
    ``classes`` is an error naming it."""
    classes = list(classes)
    index = {c: i for i, c in enumerate(classes)}
    for col in (label, pred):
        odd = set(m[col]) - set(index)
        if odd:
            raise ValueError(f"{col} {sorted(map(str, odd))[0]!r} is not one of the classes {classes}")
    subjects, seeds = sorted(set(m.subject)), sorted(set(m.seed))
    si, ri = {s: i for i, s in enumerate(subjects)}, {r: i for i, r in enumerate(seeds)}
    conf = np.zeros((len(subjects), len(seeds), len(classes), len(classes)))
    np.add.at(conf, (m.subject.map(si).to_numpy(), m.seed.map(ri).to_numpy(), m[label].map(index).to_numpy(),
                     m[pred].map(index).to_numpy()), 1)
    return subjects, seeds, conf


def metric_of(conf: np.ndarray, metric: str) -> np.ndarray:
    """``metric`` of pooled confusion counts (..., R, C, C) per seed, then the mean over seeds
    (...). UF1 follows cmnet.metrics: the mean F1 over the classes present in truth or
    prediction."""
    tp = np.diagonal(conf, axis1=-2, axis2=-1)
    total = conf.sum((-2, -1))
    if metric == "accuracy":
        per_seed = tp.sum(-1) / np.where(total > 0, total, 1)
    elif metric == "uf1":
        denom = conf.sum(-1) + conf.sum(-2)  # n_true + n_pred per class
        active = denom > 0
        f1 = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=active)
        per_seed = f1.sum(-1) / np.maximum(active.sum(-1), 1)
    else:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    return per_seed.mean(-1)


def subject_weights(n_subjects: int, n_boot: int, rng) -> np.ndarray:
    """(n_boot, S): how often each subject is drawn in each bootstrap resample."""
    draws = rng.integers(0, n_subjects, size=(n_boot, n_subjects))
    return np.stack([np.bincount(d, minlength=n_subjects) for d in draws]).astype(float)


def bootstrap_deltas(conf_a: np.ndarray, conf_b: np.ndarray, metric: str, weights: np.ndarray) -> np.ndarray:
    """Δ in each subject resample (a row of ``weights``: how often each subject is drawn)."""
    return (metric_of(np.einsum("bs,s...->b...", weights, conf_a), metric)
            - metric_of(np.einsum("bs,s...->b...", weights, conf_b), metric))


def delta_se(conf_a: np.ndarray, conf_b: np.ndarray, metric: str, weights: np.ndarray,
             reps: np.ndarray | None = None) -> tuple[float, float]:
    """Δ = metric(a) − metric(b) over every subject, and its subject-bootstrap standard error
    (replicates from ``weights``, or ``reps`` when the caller has them already; corrected by
    √(S/(S − 1)))."""
    s = conf_a.shape[0]
    delta = float(metric_of(conf_a.sum(0), metric) - metric_of(conf_b.sum(0), metric))
    if s < 2:
        return delta, float("nan")
    reps = bootstrap_deltas(conf_a, conf_b, metric, weights) if reps is None else reps
    return delta, float(reps.std(ddof=1) * np.sqrt(s / (s - 1)))


def t_test(delta: float, se: float, df: int, null: float = 0.0) -> float:
    """Two-sided p of Δ against ``null`` with Student's t on ``df`` degrees of freedom (p = 1
    when the difference and its standard error are both 0: identical predictions)."""
    from scipy.stats import t as student_t

    if not np.isfinite(se) or df < 1:
        return float("nan")
    if se == 0:
        return 1.0 if delta == null else 0.0
    return float(2 * student_t.sf(abs(delta - null) / se, df))


def compare(a: pd.DataFrame, b: pd.DataFrame, classes, metrics=METRICS, n_boot: int = 4000, seed: int = 0,
            paper: dict | None = None) -> pd.DataFrame:
    """a − b on the clips both were evaluated on (clip tables, :func:`clip_table`): one row per
    metric with Δ, se, ci_low, ci_high (95 %), p, mde (80 % power at α = 0.05), subjects, seeds,
    clips; with ``paper`` (metric → the paper's Δ, as a fraction) also p_vs_paper, the p of
    "Δ equals the paper's difference". Numbers are fractions (0.05 = 5 points)."""
    from scipy.stats import t as student_t

    m = _matched(a, b)
    subjects, seeds, ca = confusions(m, classes, "pred_a", "label_a")
    _, _, cb = confusions(m, classes, "pred_b", "label_b")
    w = subject_weights(len(subjects), n_boot, np.random.default_rng(seed))
    df = len(subjects) - 1
    rows = []
    for metric in metrics:
        delta, se = delta_se(ca, cb, metric, w)
        q = float(student_t.ppf(1 - ALPHA / 2, df)) if df >= 1 else float("nan")
        row = {"metric": metric, "delta": delta, "se": se, "ci_low": delta - q * se, "ci_high": delta + q * se,
               "p": t_test(delta, se, df), "mde": (q + float(student_t.ppf(POWER, df))) * se if df >= 1 else np.nan,
               "subjects": len(subjects), "seeds": len(seeds), "clips": len(m) // max(len(seeds), 1)}
        if paper is not None and metric in paper:
            row |= {"paper_delta": paper[metric], "p_vs_paper": t_test(delta, se, df, paper[metric])}
        rows.append(row)
    return pd.DataFrame(rows)


def holm(p_values) -> np.ndarray:
    """Holm's step-down adjusted p-values (the family-wise error rate is controlled at α when
    each adjusted p is compared with α); NaN stays NaN and is not counted in the family."""
    p = np.asarray(p_values, dtype=float)
    out = np.full_like(p, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    order = ok[np.argsort(p[ok], kind="stable")]
    n, running = len(order), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (n - rank) * p[i]))
        out[i] = running
    return out


def verdict(delta: float, p: float, mde: float, paper_delta: float | None = None, p_vs_paper: float | None = None,
            alpha: float = ALPHA) -> str:
    """The defined words, from (Holm-adjusted) p-values: the paper's ordering *holds here* (Δ on
    the paper's side, p < α); it is *reversed here* (Δ on the other side, p < α); *the paper's
    effect is excluded here* (our Δ differs from the paper's reported difference, p_vs_paper < α,
    even though ours is not distinguishable from 0); else *not distinguishable here* with the
    smallest difference the design could have detected. ``delta`` is oriented so that the
    paper's ordering is Δ > 0."""
    if delta == 0 and mde == 0:  # no subject differs: the same accuracy on every subject (not necessarily the same calls)
        return f"{NOT_DISTINGUISHABLE} — the same accuracy on every subject"
    if np.isfinite(p) and p < alpha:
        word = HOLDS if delta > 0 else REVERSED
        if word == REVERSED and p_vs_paper is not None and np.isfinite(p_vs_paper) and p_vs_paper < alpha:
            return f"{REVERSED} (the paper's effect excluded)"
        return word
    if paper_delta is not None and p_vs_paper is not None and np.isfinite(p_vs_paper) and p_vs_paper < alpha:
        return EXCLUDED
    return f"{NOT_DISTINGUISHABLE} — smallest detectable difference {100 * mde:.1f} pp"


def level(clips: pd.DataFrame, classes, metric: str = "accuracy", n_boot: int = 4000, seed: int = 0) -> dict:
    """One study's ``metric`` (pooled over its test clips per seed, then the mean over seeds) with
    the interval the verdicts use: the subject bootstrap's standard error, corrected by
    √(S/(S − 1)), and Student's t on S − 1 degrees of freedom (as :func:`compare` does for a
    difference). The headline figure draws these, so that its bars and the claims' verdicts speak
    of the same uncertainty (the variation of the subjects), not of two seeds. Fractions;
    ``subjects``, ``seeds`` as counted."""
    from scipy.stats import t as student_t

    subjects, seeds, conf = confusions(clips, classes)
    s = len(subjects)
    value = float(metric_of(conf.sum(0), metric))
    if s < 2:
        return {"value": value, "ci_low": float("nan"), "ci_high": float("nan"), "se": float("nan"),
                "subjects": s, "seeds": len(seeds)}
    w = subject_weights(s, n_boot, np.random.default_rng(seed))
    reps = metric_of(np.einsum("bs,s...->b...", w, conf), metric)
    se = float(reps.std(ddof=1) * np.sqrt(s / (s - 1)))
    q = float(student_t.ppf(1 - ALPHA / 2, s - 1))
    return {"value": value, "ci_low": max(0.0, value - q * se), "ci_high": min(1.0, value + q * se), "se": se,
            "subjects": s, "seeds": len(seeds)}
