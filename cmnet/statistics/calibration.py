"""Is a verdict's test calibrated? The A/A simulation: the procedure applied where the truth is
"no difference", on generated studies with subject effects like the committed ones; and its
power where the truth is a given difference.

    d = Design(subjects=8, clips=10, seeds=3)      a generated design (variance components below)
    rates = false_positive_rates(d, reps=1000)     per procedure and metric: how often "distinguishable"
    p = power(d, effect=0.10, reps=500)            how often the book's test detects a true 10-point gain
    components(fold_tables)                        the variance components of committed fold accuracies

Each replicate draws S subjects with an accuracy of their own (``subject_sd``), a
subject × variant deviation (``interaction_sd``: the same under every seed — what makes the
subject, not the (seed, fold) pair, the unit), and each clip's correctness per seed and
variant; a wrong prediction is one of the other classes at random. Three procedures are
judged on the same replicates: the book's (cmnet.statistics.verdicts: subject bootstrap, Student t
on S − 1 df), the percentile interval of the same subject bootstrap, and the first edition's
percentile bootstrap over (seed, fold) pairs (cmnet.statistics.stats.pair_bootstrap).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from .stats import pair_bootstrap
from .verdicts import ALPHA, POWER, bootstrap_deltas, delta_se, metric_of, subject_weights, t_test

PROCEDURES = ("subject bootstrap, t (the book's)", "subject bootstrap, percentile", "(seed, fold) bootstrap (first edition)")


@dataclass(frozen=True)
class Design:
    subjects: int = 8
    clips: int = 10  # per subject
    seeds: int = 3
    classes: int = 5
    base: float = 0.45  # mean accuracy of both variants
    subject_sd: float = 0.10  # between subjects
    interaction_sd: float = 0.069  # subject × variant (committed CPU edition: variance 0.0047)
    effect: float = 0.0  # true accuracy of a minus b


def simulate(design: Design, rng) -> tuple[np.ndarray, np.ndarray]:
    """Confusion counts (S, R, C, C) of variant a and of variant b on the same generated clips."""
    d = design
    s_eff = rng.normal(0, d.subject_sd, d.subjects)
    labels = np.arange(d.clips) % d.classes
    out = []
    for shift in (d.effect / 2, -d.effect / 2):
        p = np.clip(d.base + shift + s_eff + rng.normal(0, d.interaction_sd, d.subjects), 0.02, 0.98)
        right = rng.random((d.subjects, d.seeds, d.clips)) < p[:, None, None]
        wrong = (labels + rng.integers(1, d.classes, (d.subjects, d.seeds, d.clips))) % d.classes
        pred = np.where(right, labels, wrong)
        conf = np.zeros((d.subjects, d.seeds, d.classes, d.classes))
        s_i, r_i, c_i = np.indices(pred.shape)
        np.add.at(conf, (s_i, r_i, labels[c_i], pred), 1)
        out.append(conf)
    return out[0], out[1]


def _decisions(ca: np.ndarray, cb: np.ndarray, metric: str, weights: np.ndarray, pair_seed: int) -> dict:
    """Whether each procedure calls the two variants different (and the book's MDE)."""
    from scipy.stats import t as student_t

    s = ca.shape[0]
    reps = bootstrap_deltas(ca, cb, metric, weights)  # once: the book's SE and the percentile interval
    delta, se = delta_se(ca, cb, metric, weights, reps)
    lo, hi = np.quantile(reps, [ALPHA / 2, 1 - ALPHA / 2])
    per_pair = (metric_of(ca[:, :, None], metric) - metric_of(cb[:, :, None], metric)).ravel()  # each (subject, seed)
    plo, phi = pair_bootstrap(per_pair, n_boot=weights.shape[0], level=1 - ALPHA, seed=pair_seed)
    mde = (student_t.ppf(1 - ALPHA / 2, s - 1) + student_t.ppf(POWER, s - 1)) * se
    return {PROCEDURES[0]: t_test(delta, se, s - 1) < ALPHA, PROCEDURES[1]: bool(lo > 0 or hi < 0),
            PROCEDURES[2]: bool(plo > 0 or phi < 0), "mde": float(mde), "delta": delta}


def _replicates(design: Design, reps: int, n_boot: int, seed: int, metrics) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(reps):
        ca, cb = simulate(design, rng)
        w = subject_weights(design.subjects, n_boot, rng)
        pair_seed = int(rng.integers(2**31))
        for m in metrics:
            rows.append({"replicate": i, "metric": m, **_decisions(ca, cb, m, w, pair_seed)})
    return pd.DataFrame(rows)


def false_positive_rates(design: Design = Design(), reps: int = 1000, n_boot: int = 1000, seed: int = 0,
                         metrics=("accuracy", "uf1")) -> pd.DataFrame:
    """The A/A simulation (``design`` with no true difference): per procedure and metric, the
    fraction of replicates called "distinguishable" at α = 0.05 and its Monte-Carlo standard
    error; and the book's mean smallest detectable difference for that design."""
    r = _replicates(replace(design, effect=0.0), reps, n_boot, seed, metrics)
    rows = []
    for m, g in r.groupby("metric", sort=False):
        for proc in PROCEDURES:
            rate = float(g[proc].mean())
            rows.append({"metric": m, "procedure": proc, "false_positive_rate": rate,
                         "mc_se": float(np.sqrt(max(rate * (1 - rate), 1e-12) / len(g))), "replicates": len(g)})
        rows[-len(PROCEDURES)]["mean_mde"] = float(g["mde"].mean())
    return pd.DataFrame(rows)


def power(design: Design, effect: float, reps: int = 500, n_boot: int = 1000, seed: int = 1,
          metric: str = "accuracy") -> dict:
    """How often the book's test calls a true difference of ``effect`` (accuracy, a fraction)
    distinguishable, with its Monte-Carlo standard error, and the mean estimated Δ."""
    r = _replicates(replace(design, effect=effect), reps, n_boot, seed, (metric,))
    rate = float(r[PROCEDURES[0]].mean())
    return {"effect": effect, "power": rate, "mc_se": float(np.sqrt(rate * (1 - rate) / len(r))),
            "mean_delta": float(r["delta"].mean()), "mean_mde": float(r["mde"].mean())}


def components(folds: dict[str, pd.DataFrame], metric: str = "accuracy") -> dict:
    """Variance components of fold accuracies (variant × subject × seed, a balanced two-way
    layout of cell means over seeds): between subjects, subject × variant (stable over seeds),
    and the residual (seed to seed within a cell). ``folds``: variant → its folds table
    (seed, fold, metric), e.g. results/<study>/folds.csv."""
    y = pd.concat([f.assign(variant=v) for v, f in folds.items()]).pivot_table(
        index=["variant", "fold"], columns="seed", values=metric)
    y = y.dropna()
    n_seeds = y.shape[1]
    resid = float(y.var(axis=1, ddof=1).mean()) if n_seeds > 1 else float("nan")
    cell = y.mean(axis=1).unstack("fold")  # variant × subject
    v, s = cell.shape
    inter = cell.sub(cell.mean(1), axis=0).sub(cell.mean(0), axis=1) + cell.to_numpy().mean()
    ms_inter = float((inter.to_numpy() ** 2).sum() / ((v - 1) * (s - 1)))
    ms_subject = float(v * ((cell.mean(0) - cell.to_numpy().mean()) ** 2).sum() / (s - 1))
    # one seed: the residual cannot be told apart, the interaction term is its upper bound
    interaction = ms_inter if n_seeds < 2 else max(ms_inter - resid / n_seeds, 0.0)
    return {"subject": max((ms_subject - ms_inter) / v, 0.0), "subject_x_variant": interaction, "residual": resid,
            "variants": v, "subjects": s, "seeds": n_seeds}


def _subject_table(folder, folds_table: str, predictions_table: str) -> pd.DataFrame:
    """Per (seed, subject): n_test and accuracy — from the study's per-clip predictions when it
    has them (any protocol), else from its LOSO folds table (a fold is a subject there)."""
    p = folder / predictions_table
    if not p.is_file():
        return pd.read_csv(folder / folds_table)
    c = pd.read_csv(p)
    c["right"] = c.label == c.pred
    return c.groupby(["seed", "subject"]).right.agg(n_test="size", accuracy="mean").reset_index().rename(
        columns={"subject": "fold"})


def edition_design(results: dict[str, str], metric: str = "accuracy") -> tuple[Design, dict]:
    """The design of an edition (its subjects, clips per subject, seeds, classes, mean accuracy)
    with the variance components of its committed per-subject accuracies (``results``: variant → its
    results/<study>/ folder): the A/A simulation run "with subject effects like the committed
    ones"."""
    from pathlib import Path

    from ..runs.layout import FOLDS_TABLE, PREDICTIONS_TABLE, SUMMARY

    folds = {v: _subject_table(Path(p), FOLDS_TABLE, PREDICTIONS_TABLE) for v, p in results.items()}
    comp = components(folds, metric)
    any_folds = next(iter(folds.values()))
    import json

    classes = len(json.loads((Path(next(iter(results.values()))) / SUMMARY).read_text())["classes"])
    base = float(np.mean([f[metric].mean() for f in folds.values()]))
    clips = int(round(any_folds.n_test.mean()))
    # components are of fold accuracies; a subject's accuracy varies by the subject term, less
    # the binomial part already in the residual
    d = Design(subjects=comp["subjects"], clips=clips, seeds=comp["seeds"], classes=classes, base=base,
               subject_sd=float(np.sqrt(comp["subject"])), interaction_sd=float(np.sqrt(comp["subject_x_variant"])))
    return d, comp


def mde_table(design: Design, subjects=(8, 16, 24, 32, 48), seeds=(1, 2, 3), reps: int = 300, n_boot: int = 1000,
              seed: int = 0) -> pd.DataFrame:
    """The power calculation: the book's smallest detectable accuracy difference (80 % power,
    α = 0.05; the mean over A/A replicates) for ``design``'s variance components at other numbers
    of subjects and seeds (the clips per subject as in ``design``), in points."""
    rows = []
    for s in subjects:
        for r in seeds:
            rates = false_positive_rates(replace(design, subjects=s, seeds=r), reps, n_boot, seed, ("accuracy",))
            rows.append({"subjects": s, "seeds": r, "clips": s * design.clips,
                         "smallest detectable (pp)": round(100 * float(rates.mean_mde.iloc[0]), 1)})
    return pd.DataFrame(rows)
