"""Analyses beyond the paper's tables, from a study's artifacts (cmnet.runs.layout reads them).

    epoch_selection(run_dir)              per (seed, fold): the last epoch's test metrics (our
                                          protocol) and the best epoch's (chosen on the test
                                          subject: an oracle, as some public MER code reports)
    oracle_inflation(run_dir)             per seed, fold means: honest, oracle, inflation; and
                                          each over seeds (mean, 95 % interval)
    rho_truth_summary(run_dir, by=None)   Spearman ρ(k, true intensity) per test clip (SynthME),
                                          its mean per seed and over seeds, and per subject with
                                          a 95 % interval over subjects on Fisher's scale; by class
                                          or by the clip's true amplitude (thirds)
    model_folds(run_dir)                  which fold (one trained model per seed) tested each subject

Oracle numbers are labelled as such wherever they are shown and never replace honest ones.
Only fold means can be recomputed per epoch (predictions are kept for the last epoch only).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..runs.layout import read_predictions
from ..statistics.stats import fisher_interval, seed_interval
from .tables import intensity_agreement, read_metrics

TEST_METRICS = ("accuracy", "f1_paper", "uf1", "uar")


def epoch_selection(run_dir: str | Path, select: str = "accuracy") -> pd.DataFrame:
    """One row per finished (seed, fold): ``last_<m>`` the last epoch's test metrics, ``best_<m>``
    those of the epoch with the highest test ``select`` (the earliest such epoch), ``best_epoch``.
    Needs test metrics at every epoch (``eval_every: 1``); an epoch without them is skipped."""
    m = read_metrics(run_dir)
    col = f"test_{select}"
    if m.empty or col not in m:
        raise FileNotFoundError(f"no per-epoch test metrics under {run_dir} (eval_every: 1 records them)")
    rows = []
    for (seed, fold), g in m.groupby(["seed", "fold"], sort=True):
        g = g.dropna(subset=[col]).sort_values("epoch")
        last, best = g.iloc[-1], g.loc[g[col].idxmax()]
        rows.append({"seed": int(seed), "fold": fold, "epochs": int(last["epoch"]), "best_epoch": int(best["epoch"]),
                     **{f"last_{k}": float(last[f"test_{k}"]) for k in TEST_METRICS if f"test_{k}" in g},
                     **{f"best_{k}": float(best[f"test_{k}"]) for k in TEST_METRICS if f"test_{k}" in g}})
    return pd.DataFrame(rows)


def oracle_inflation(run_dir: str | Path, select: str = "accuracy") -> dict:
    """Per seed the fold means of the honest (last epoch) and oracle (best epoch per test
    subject by ``select``) metrics and their difference; then each over seeds
    (``seed_interval``: mean, std, 95 % interval)."""
    e = epoch_selection(run_dir, select)
    per_seed = []
    for seed, g in e.groupby("seed"):
        row = {"seed": int(seed), "folds": len(g)}
        for k in TEST_METRICS:
            if f"last_{k}" in g:
                h, o = float(g[f"last_{k}"].mean()), float(g[f"best_{k}"].mean())
                row |= {f"honest_{k}": h, f"oracle_{k}": o, f"inflation_{k}": o - h}
        per_seed.append(row)
    ps = pd.DataFrame(per_seed)
    summary = {c: seed_interval(ps[c].to_numpy()) for c in ps.columns if c.split("_")[0] in ("honest", "oracle", "inflation")}
    return {"select": select, "per_seed": per_seed, "summary": summary}


def rho_truth_summary(run_dir: str | Path, by: str | None = None,
                      amplitudes: dict[str, float] | None = None) -> pd.DataFrame:
    """Spearman ρ(k, truth) of the test clips (NaN where k or the truth is constant, or where
    the dataset has no ground truth: those clips are left out and counted). Per group (``by``:
    None, "class" — the clip's true class —, or "amplitude" — thirds of the clip's true peak
    displacement, ``amplitudes``: clip key → pixels, from
    :func:`cmnet.data.synthme.clip_amplitudes`), the mean over clips of each seed, then over
    seeds (``rho_mean``, ``per_seed``); and the interval the book shows, over the *subjects*
    (the unit that varies from one study to the next, as in cmnet.statistics.verdicts): per subject
    the mean ρ over its clips and seeds, summarised by :func:`cmnet.statistics.stats.fisher_interval`
    (``rho``, ``ci_low``, ``ci_high``, ``subjects``; always inside [−1, 1]). The stored truth
    curve is normalised (its peak is 1 in every clip), so the amplitude has to come from the
    dataset."""
    a = intensity_agreement(run_dir)
    a["subject"] = _clip_subjects(run_dir, a["clip"])
    if by == "class":
        p = read_predictions(run_dir)
        label = {(int(s), str(k)): lab for s, k, lab in zip(p["seed"], p["key"], p["label"])}
        a["group"] = [label[(s, c)] for s, c in zip(a["seed"], a["clip"])]
    elif by == "amplitude":
        if amplitudes is None:
            raise ValueError("by='amplitude' needs the clips' true amplitudes: "
                             "amplitudes=cmnet.data.synthme.clip_amplitudes(<SynthME folder>)")
        amp = np.array([amplitudes.get(str(c), np.nan) for c in a["clip"]], float)
        if not np.isfinite(amp).any():
            raise ValueError(f"{run_dir}: none of its test clips has an amplitude in `amplitudes` "
                             f"(clips like {a['clip'].iloc[0]!r}; amplitudes like {next(iter(amplitudes), None)!r})")
        a["amplitude"] = amp
        cuts = np.quantile(amp[np.isfinite(amp)], [1 / 3, 2 / 3])  # an amplitude at a cut goes to the lower third
        names = np.array(["low third", "middle third", "high third"])
        a["group"] = np.where(np.isfinite(amp), names[np.digitize(np.nan_to_num(amp), cuts, right=True)],
                              "amplitude not known")
    elif by is None:
        a["group"] = "all"
    else:
        raise ValueError(f"by must be None, 'class' or 'amplitude', got {by!r}")
    order = (["low third", "middle third", "high third", "amplitude not known"] if by == "amplitude"
             else sorted(set(a["group"])))
    rows = []
    for group in [x for x in order if x in set(a["group"])]:
        g = a[a["group"] == group]
        ok = g.dropna(subset=["rho_truth"])
        means = ok.groupby("seed")["rho_truth"].mean()
        subjects = ok.groupby("subject")["rho_truth"].mean()
        fz = fisher_interval(subjects.to_numpy()) if len(subjects) else {"rho": np.nan, "ci_low": np.nan,
                                                                          "ci_high": np.nan, "n": 0}
        row = {"group": group, "clips": len(ok), "clips_without_rho": len(g) - len(ok),
               "rho_mean": float(means.mean()) if len(means) else np.nan, "rho": fz["rho"], "ci_low": fz["ci_low"],
               "ci_high": fz["ci_high"], "subjects": fz["n"], "seeds": len(means),
               "per_seed": {int(s): float(v) for s, v in means.items()}}
        if by == "amplitude":
            row["amplitude_px"] = (f"{g.amplitude.min():.2f}–{g.amplitude.max():.2f}" if g.amplitude.notna().any()
                                   else "")
        rows.append(row)
    return pd.DataFrame(rows)


def _clip_subjects(run_dir: str | Path, clips) -> list[str]:
    """Each clip key's subject, from the study's predictions (the subject column), else the
    key's second-to-last part (<dataset>/<subject>/<clip>)."""
    p = read_predictions(run_dir)
    known = dict(zip(p["key"].astype(str), p["subject"].astype(str))) if len(p) else {}
    out = []
    for c in clips:
        c = str(c)
        if c in known:
            out.append(known[c])
        elif c.count("/") >= 1:
            out.append(c.split("/")[-2])
        else:
            raise ValueError(f"{run_dir}: clip {c!r} has no subject (not in the predictions, no <subject>/ in its key)")
    return out


def model_folds(run_dir: str | Path) -> dict[str, str]:
    """subject → the fold whose model tested it (one model per seed and fold). From the fold
    folders of a runs folder (runs/<study>/seed<k>/<fold>/predictions.csv), else, for a results
    folder, from the folds the study's protocol makes of its subjects (cmnet.data.splits, as the
    study made them: they do not depend on the seed)."""
    import json

    from ..data.splits import make_folds
    from ..runs import layout as L

    run_dir = Path(run_dir)
    found = L.finished(run_dir, L.PREDICTIONS) if not (run_dir / L.PREDICTIONS_TABLE).is_file() else []
    if found:
        out = {}
        for _, f in found:
            for s in pd.read_csv(f, usecols=["subject"])["subject"].astype(str):
                out[s] = f.parent.name
        return out
    summary = run_dir / L.SUMMARY
    if not summary.is_file():
        raise FileNotFoundError(f"{run_dir}: neither finished folds nor {L.SUMMARY} (which names the protocol)")
    cfg = json.loads(summary.read_text()).get("config", {})
    p = read_predictions(run_dir)
    first = p[p["seed"] == p["seed"].min()]
    folds = make_folds(cfg.get("protocol", "loso"), first["subject"].astype(str).tolist(),
                       first["label"].astype(str).tolist(), int(cfg.get("kfold_k", 4)))
    return {s: f.subject for f in folds for s in (f.test_subjects or (f.subject,))}
