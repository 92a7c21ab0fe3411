"""Read fold artifacts into tables: per-fold metrics, their mean over folds, metrics of the
predictions pooled over all folds (labelled apart: they differ when folds are small),
the confusion matrix, and mean ± std over seeds.

Layout read: ``<runs_dir>/<name>/seed<k>/<subject>/{done.json,predictions.csv}``. Only the
folds of the study's plan (its study.json: seeds and folds) are read, so folds left from an
earlier plan never enter a table; every file read is checked against the size and checksum
recorded when it was written (cmnet.runs): a damaged one is an ArtifactError naming it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from .runs import check
from .metrics import all_metrics, confusion

METRICS = ("accuracy", "f1_paper", "uf1", "uar")


def finished(run_dir: str | Path, name: str) -> list[tuple[int, Path]]:
    """(seed, path of ``name``) of every finished fold of the study's plan that has ``name``,
    each checked (ArtifactError when damaged). Without a study.json, every fold folder."""
    run_dir = Path(run_dir)
    plan = None
    if (run_dir / "study.json").is_file():
        p = json.loads(check(run_dir / "study.json").read_text())
        plan = {(int(s), str(f)) for s in p["seeds"] for f in p["folds"]}
    out = []
    for done in sorted(run_dir.glob("seed*/*/done.json")):
        seed, fold = int(done.parent.parent.name[4:]), done.parent.name
        f = done.parent / name
        if (plan is None or (seed, fold) in plan) and f.is_file():
            out.append((seed, check(f)))
    return out


def read_folds(run_dir: str | Path) -> pd.DataFrame:
    """One row per finished fold and seed."""
    return pd.DataFrame([{"seed": seed, **json.loads(f.read_text())} for seed, f in finished(run_dir, "done.json")])


def read_predictions(run_dir: str | Path) -> pd.DataFrame:
    frames = []
    for seed, p in finished(run_dir, "predictions.csv"):
        df = pd.read_csv(p)
        df.insert(0, "seed", seed)
        frames.append(df)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def summarize(run_dir: str | Path, classes) -> dict:
    """Per seed: the mean over folds and the pooled metrics; then mean ± std over seeds;
    the pooled confusion matrix over all seeds (rows true, columns predicted)."""
    folds = read_folds(run_dir)
    preds = read_predictions(run_dir)
    if folds.empty:
        raise FileNotFoundError(f"no finished folds under {run_dir}")
    per_seed = []
    for seed, f in folds.groupby("seed"):
        p = preds[preds.seed == seed]
        pooled = all_metrics(p["label"], p["pred"], labels=list(classes))
        per_seed.append({"seed": int(seed), "folds": len(f), "clips": int(f["n_test"].sum()),
                         **{f"fold_mean_{m}": float(f[m].mean()) for m in METRICS},
                         **{f"pooled_{m}": pooled[m] for m in METRICS}})
    ps = pd.DataFrame(per_seed)
    agg = {col: seed_interval(ps[col].to_numpy()) for col in ps.columns if col.startswith(("fold_mean_", "pooled_"))}
    cm = confusion(preds["label"], preds["pred"], labels=list(classes))
    return {"classes": list(classes), "seeds": per_seed, "summary": agg, "confusion": cm.tolist(),
            "n_seeds": len(ps)}


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


def summary_table(summary: dict) -> pd.DataFrame:
    """Rows: the four metrics; columns: mean over folds and pooled, each mean ± std over seeds."""
    rows = []
    for m in METRICS:
        row = {"metric": m}
        for kind, label in (("fold_mean", "mean over folds"), ("pooled", "pooled over folds")):
            s = summary["summary"][f"{kind}_{m}"]
            row[label] = f"{s['mean']:.4f} ± {s['std']:.4f}" if summary["n_seeds"] > 1 else f"{s['mean']:.4f}"
        rows.append(row)
    return pd.DataFrame(rows)


def confusion_table(summary: dict) -> pd.DataFrame:
    c = summary["classes"]
    return pd.DataFrame(np.asarray(summary["confusion"]), index=[f"true {x}" for x in c], columns=[f"pred {x}" for x in c])


def read_intensity(run_dir: str | Path) -> dict[str, np.ndarray]:
    """All test clips' intensity records of a study (every finished fold and seed), concatenated."""
    found = finished(run_dir, "intensity.npz")
    parts = [np.load(p) for _, p in found]
    if not parts:
        raise FileNotFoundError(f"no intensity.npz under {run_dir} (a model without an intensity branch?)")
    keys = ("keys", "k", "q", "q_mean", "q_std", "truth", "apex")
    out = {k: np.concatenate([p[k] for p in parts]) for k in keys}
    out["seed"] = np.concatenate([np.full(len(p["keys"]), seed) for p, (seed, _) in zip(parts, found)])
    return out


def intensity_agreement(run_dir: str | Path) -> pd.DataFrame:
    """Per test clip: Spearman's ρ of the learned k with the prototype mean and, where the
    dataset has it (SynthME), with the ground-truth intensity; NaN where k is constant."""
    from scipy.stats import spearmanr

    rec = read_intensity(run_dir)
    rows = []
    for i, key in enumerate(rec["keys"]):
        k = rec["k"][i]
        const = np.ptp(k) == 0
        rho_p = np.nan if const else spearmanr(k, rec["q_mean"][i]).statistic
        t = rec["truth"][i]
        rho_t = np.nan if const or not np.isfinite(t).all() or np.ptp(t) == 0 else spearmanr(k, t).statistic
        rows.append({"seed": int(rec["seed"][i]), "clip": str(key), "rho_prototype": rho_p, "rho_truth": rho_t, "k_range": float(np.ptp(k))})
    return pd.DataFrame(rows)


def read_metrics(run_dir: str | Path) -> pd.DataFrame:
    """Every epoch's line of every finished fold's metrics.jsonl, with its seed and fold."""
    rows = []
    for seed, m in finished(run_dir, "metrics.jsonl"):
        for line in m.read_text().splitlines():
            rows.append({"seed": seed, "fold": m.parent.name, **json.loads(line)})
    return pd.DataFrame(rows)


def learning_summary(run_dir: str | Path) -> dict:
    """Did the model learn its training data? The training loss and cross-entropy at the
    first and the last epoch and the last epoch's training accuracy, each the mean over
    folds and seeds (the training accuracy is measured on the augmented batches as trained)."""
    m = read_metrics(run_dir)
    if m.empty:
        raise FileNotFoundError(f"no finished folds under {run_dir}")
    first = m[m.epoch == m.epoch.min()]
    last = m[m.epoch == m.epoch.max()]
    out = {"epochs": int(m.epoch.max()), "folds×seeds": len(last)}
    for key in ("train_loss", "train_ce"):
        if key in m:
            out[f"{key} first"] = float(first[key].mean())
            out[f"{key} last"] = float(last[key].mean())
    out["train_acc last"] = float(last["train_acc"].mean())
    out["train_acc last, lowest fold"] = float(last["train_acc"].min())
    return out


def read_diagnostics(run_dir: str | Path) -> pd.DataFrame:
    """The L_ID shortcut diagnostic (diagnostics.json) of every finished fold and seed."""
    rows = []
    for seed, d in finished(run_dir, "diagnostics.json"):
        rows.append({"seed": seed, "fold": d.parent.name, **json.loads(d.read_text())})
    return pd.DataFrame(rows)


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
    fa, fb = read_folds(run_a), read_folds(run_b)
    if fa.empty or fb.empty:
        raise FileNotFoundError(f"no finished folds under {run_a if fa.empty else run_b}")
    m = fa[["seed", "fold", metric]].merge(fb[["seed", "fold", metric]], on=["seed", "fold"], suffixes=("_a", "_b"))
    if m.empty:
        raise ValueError(f"{run_a} and {run_b} share no finished (seed, fold)")
    m = m.rename(columns={f"{metric}_a": "a", f"{metric}_b": "b"}).sort_values(["seed", "fold"], ignore_index=True)
    m["diff"] = m["a"] - m["b"]
    return m


def paired_delta(run_a: str | Path, run_b: str | Path, metric: str = "accuracy", n_boot: int = 10_000,
                 level: float = 0.95, seed: int = 0) -> dict:
    """a − b over matched (seed, fold) pairs: the mean difference, its percentile bootstrap
    interval (pairs resampled with replacement, ``n_boot`` times, numpy's default generator
    seeded with ``seed``), and the two-sided Wilcoxon signed-rank test (scipy; zero differences
    dropped; p = 1 when every difference is zero). ``distinguishable``: the interval excludes 0."""
    from scipy.stats import wilcoxon

    d = paired_folds(run_a, run_b, metric)["diff"].to_numpy()
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(d), size=(n_boot, len(d)))
    boots = d[idx].mean(axis=1)
    lo, hi = np.quantile(boots, [(1 - level) / 2, (1 + level) / 2])
    nz = d[d != 0]
    if len(nz) == 0:
        stat, p = 0.0, 1.0
    else:
        w = wilcoxon(nz, zero_method="wilcox", alternative="two-sided")
        stat, p = float(w.statistic), float(w.pvalue)
    return {"metric": metric, "pairs": len(d), "mean": float(d.mean()), "ci_low": float(lo), "ci_high": float(hi),
            "wilcoxon_statistic": stat, "p_value": p, "distinguishable": bool(lo > 0 or hi < 0)}
