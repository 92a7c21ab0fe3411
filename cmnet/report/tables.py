"""Read fold artifacts into tables: per-fold metrics, their mean over folds, metrics of the
predictions pooled over all folds (labelled apart: they differ when folds are small),
the confusion matrix, and mean ± std over seeds.

Read through cmnet.runs.layout: only the folds of the study's plan (its study.json: seeds
and folds) are read, so folds left from an earlier plan never enter a table; every file read
is checked against the size and checksum recorded when it was written: a damaged one is an
ArtifactError naming it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from .. import io as fio
from ..metrics import all_metrics, confusion
from ..runs import layout as L
from ..variants import LABELS, variant_config
from ..statistics.stats import seed_interval

METRICS = ("accuracy", "f1_paper", "uf1", "uar")


def read_folds(run_dir: str | Path) -> pd.DataFrame:
    """One row per finished fold and seed."""
    return pd.DataFrame(L.read_done(run_dir))


def summarize(run_dir: str | Path, classes) -> dict:
    """Per seed: the mean over folds and the pooled metrics; then mean ± std over seeds;
    the pooled confusion matrix over all seeds (rows true, columns predicted)."""
    folds = read_folds(run_dir)
    preds = L.read_predictions(run_dir)
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


def intensity_agreement(run_dir: str | Path) -> pd.DataFrame:
    """Per test clip: Spearman's ρ of the learned k with the prototype mean and, where the
    dataset has it (SynthME), with the ground-truth intensity; NaN where k is constant."""
    from scipy.stats import spearmanr

    rec = L.read_intensity(run_dir)
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
    """Every epoch's line of every finished fold's metrics.jsonl, with its seed and fold (from a
    results folder, its epochs.csv)."""
    return L.read_epochs(run_dir)


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
    return pd.DataFrame(L.read_diagnostics(run_dir))


def protocol_name(cfg) -> str:
    """How the folds were made, as tables name it: "LOSO" or "subject-grouped 4-fold"."""
    return "LOSO" if cfg.study.protocol == "loso" else f"subject-grouped {cfg.study.kfold_k}-fold"


def write_results(cfg, classes, publish: bool = False, partial: bool = False) -> dict:
    """Summaries of the study's finished folds into results/<name>/ (never the committed edition's:
    cmnet.runs.committed, unless ``publish``). A study whose planned folds are not all finished
    is refused (UnfinishedStudy naming the missing folds per seed) unless ``partial``: then its
    summary says ``"partial": true`` and which folds are missing."""
    from ..runs.committed import refuse_committed

    refuse_committed(cfg, publish)
    root = L.study_dir(cfg)
    missing = L.refuse_unfinished(root, partial)
    summary = summarize(root, classes)
    summary |= {"partial": bool(missing), "missing": {str(s): f for s, f in missing.items()}}
    summary |= {"name": cfg.study.name, "dataset": cfg.data.dataset, "model": cfg.model.model,
                "protocol": f"{protocol_name(cfg)}, {cfg.train.epochs} epochs, last epoch evaluated",
                "config": cfg.to_flat()}
    res = L.results_dir(cfg)
    kept = f"the trained folds in {root} are kept: `cmnet report` writes the tables once the folder is writable"
    try:
        res.mkdir(parents=True, exist_ok=True)
    except OSError as e:  # a read-only disk, a file where the folder should be
        raise fio.WriteError(f"{res}: cannot make the study's tables folder ({e.strerror or e}); {kept}") from None
    try:
        for name, text in ((L.SUMMARY, json.dumps(summary, indent=1)),
                           (L.FOLDS_TABLE, read_folds(root).to_csv(index=False)),
                           (L.METRIC_TABLE, summary_table(summary).to_csv(index=False)),
                           (L.CONFUSION_TABLE, confusion_table(summary).to_csv()),
                           (L.PREDICTIONS_TABLE, L.read_predictions(root)[list(L.PREDICTION_COLUMNS)]
                            .to_csv(index=False)),
                           (L.EPOCHS_TABLE, L.read_epochs(root).to_csv(index=False, float_format="%.6g"))):
            fio.atomic_write(res / name, text.encode())  # committed tables: no checksum record beside them
        record = _intensity_record(root)
        if record is not None:
            fio.atomic_write(res / L.INTENSITY_TABLE, record)
    except fio.WriteError as e:
        raise fio.WriteError(f"{e}; {kept}") from None
    return summary


def _intensity_record(root) -> bytes | None:
    """The study's per-clip intensity records (k, the truth, the prototype's, the apex, each
    clip's seed; as stored, so a number recomputed from results/ is the same), for results/:
    None for a model without k."""
    import io

    try:
        rec = L.read_intensity(root)
    except FileNotFoundError:
        return None
    b = io.BytesIO()
    np.savez_compressed(b, **rec)
    return b.getvalue()


def per_seed_table(summary: dict) -> pd.DataFrame:
    rows = []
    for s in summary["seeds"]:
        rows.append({"seed": s["seed"], "folds": s["folds"], "clips": s["clips"],
                     **{f"{k} ({m})": round(100 * s[f"{k}_{m}"], 2) for k in ("fold_mean", "pooled") for m in METRICS}})
    return pd.DataFrame(rows)


def learned_word(train_acc: float, n_train: float, chance: float, first: float | None = None,
                 last: float | None = None, alpha: float = 0.05) -> str:
    """Did a row learn its training data? "yes" when its last-epoch training accuracy is above
    chance (one-sided binomial test over its ``n_train`` training clips, at ``alpha``) and its
    training loss fell (``first`` → ``last``, where the row has a loss); else what failed."""
    from scipy.stats import binomtest

    n = max(int(round(n_train)), 1)
    p = binomtest(int(round(train_acc * n)), n, chance, alternative="greater").pvalue
    fell = first is None or last is None or last < first
    if p < alpha and fell:
        return "yes"
    if p >= alpha:
        return "no: training accuracy not above chance"
    return "no: its loss did not fall"


def learning_row(run_dir: str | Path, n_classes: int) -> dict:
    """One row of the learning table: training accuracy at the last epoch (mean over folds and
    seeds, and the lowest fold), test accuracy (pooled over the test clips of every seed), the
    loss and the cross-entropy "first → last", and whether it learned (:func:`learned_word`,
    over the mean fold's training clips)."""
    s = learning_summary(run_dir)
    folds, preds = read_folds(run_dir), L.read_predictions(run_dir)
    total = folds.groupby("seed")["n_test"].sum().mean()  # every clip is tested once per seed
    key = "train_ce" if "train_ce first" in s else "train_loss"
    row = {"train acc": s["train_acc last"], "lowest fold": s["train_acc last, lowest fold"],
           "test acc": float((preds["label"] == preds["pred"]).mean())}
    for name, k in (("loss", "train_loss"), ("CE", "train_ce")):
        row[name] = f"{s[k + ' first']:.2f} → {s[k + ' last']:.2f}" if f"{k} first" in s else "—"
    row["learned"] = learned_word(s["train_acc last"], total - folds["n_test"].mean(), 1 / n_classes,
                                  s[f"{key} first"], s[f"{key} last"])
    return row


def learning_table(variants, profile: str, plain: dict | None = None, **dirs) -> pd.DataFrame:
    """Per variant, did it learn its training data, and what did it score on its test clips
    (:func:`learning_row`; accuracies as fractions, for prose.show's percent); ``plain``: the
    plain classifier's summary (cmnet.report.plain.write_plain) as a last row."""
    from ..preprocess.prepare import CLASSES

    rows = []
    for v in variants:
        cfg = variant_config(profile, v, **dirs)
        rows.append({"row": LABELS.get(v, v), **learning_row(L.study_dir(cfg), len(CLASSES[cfg.data.dataset]))})
    if plain is not None:
        rows.append({"row": "plain classifier (logistic regression)", "train acc": plain["train_accuracy"],
                     "lowest fold": float("nan"), "test acc": plain["accuracy"], "loss": "—", "CE": "—",
                     "learned": learned_word(plain["train_accuracy"], plain["train_clips"], plain["chance"])})
    return pd.DataFrame(rows)


LEARNING_PERCENT = ("train acc", "lowest fold", "test acc")
LOSS_TERMS = {"train_ce": "L_C", "train_id": "L_ID", "train_wrst": "L_Wrst", "train_spearman": "L_ρ",
              "train_truth": "L_truth"}
INACTIVE = 0.95  # a term at zero in more than this share of epochs was not tested (cmnet.statistics.claims)


def loss_terms(run_dir: str | Path) -> list[dict]:
    """Per loss term the study trained with (a term of weight 0 is skipped, so absent): its mean
    over folds and seeds at the first and at the last epoch, unweighted; the share of fold-epochs
    where its epoch mean was above zero, and of steps where it was (folds trained before the steps
    were counted: NaN); its share of the gradient, the mean over fold-epochs of its weighted
    gradient norm at the epoch's first step over the sum of every term's (NaN where not recorded).
    A term at zero in every epoch gave no gradient."""
    m = read_metrics(run_dir)
    if m.empty:
        raise FileNotFoundError(f"no finished folds under {run_dir} to read the loss terms of")
    rows = []
    norms = [c for c in m.columns if c.startswith("gradnorm_")]
    total = m[norms].sum(axis=1, min_count=1) if norms else None
    for key, term in LOSS_TERMS.items():
        if key not in m or not m[key].notna().any():
            continue
        part = key.removeprefix("train_")
        steps = m[f"active_{part}"] if f"active_{part}" in m else None
        grad = m[f"gradnorm_{part}"] if f"gradnorm_{part}" in m else None
        rows.append({"term": term, "first epoch": float(m.loc[m.epoch == m.epoch.min(), key].mean()),
                     "last epoch": float(m.loc[m.epoch == m.epoch.max(), key].mean()),
                     "epochs above zero": float((m[key] > 0).mean()),
                     "steps above zero": float(steps.mean()) if steps is not None else float("nan"),
                     "gradient share": float((grad / total.where(total > 0)).mean())
                     if grad is not None else float("nan")})
    return rows


def inactive_terms(run_dir: str | Path, share: float = INACTIVE) -> list[str]:
    """The loss terms of a study that were at zero in more than ``share`` of its fold-epochs."""
    return [r["term"] for r in loss_terms(run_dir) if r["epochs above zero"] < 1 - share]


def loss_terms_table(variants, profile: str, **dirs) -> pd.DataFrame:
    """:func:`loss_terms` of every variant, a row per variant and term."""
    return pd.DataFrame([{"row": LABELS.get(v, v), **r} for v in variants
                         for r in loss_terms(L.study_dir(variant_config(profile, v, **dirs)))])


def diagnostics_table(variants, profile: str, **dirs) -> pd.DataFrame:
    """Per variant: the L_ID shortcut diagnostic, mean over folds and seeds."""
    rows = {}
    for v in variants:
        d = read_diagnostics(L.study_dir(variant_config(profile, v, **dirs)))
        if not d.empty:
            rows[LABELS.get(v, v)] = d.drop(columns=["seed", "fold", "clips"]).mean()
    return pd.DataFrame(rows).T.round(3)
