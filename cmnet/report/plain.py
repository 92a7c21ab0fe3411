"""A plain, non-deep classifier used to gauge how hard a dataset is: logistic regression
on the apex − onset grey-level difference (downsampled to 32×32), on the study's folds (LOSO or
subject-grouped k-fold)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ..data.splits import make_folds
from ..metrics import all_metrics
from ..preprocess.cache import ClipCache


def difference_features(cache: ClipCache, side: int = 32) -> np.ndarray:
    """(K, side²): apex minus onset frame, grey, area-downsampled."""
    feats = []
    for f, a in zip(cache.frames, cache.apex):
        d = f[a].astype(np.float32).mean(-1) - f[0].astype(np.float32).mean(-1)
        feats.append(cv2.resize(d, (side, side), interpolation=cv2.INTER_AREA).ravel())
    return np.asarray(feats)


def plain_classifier(cache: ClipCache, classes, C: float = 0.1, protocol: str = "loso", k: int = 4) -> dict:
    """Predictions on the folds of ``protocol`` (LOSO by default; "kfold" with ``k`` groups, as
    cmnet.data.splits makes them for a study) and pooled metrics of a standardised logistic
    regression."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = difference_features(cache)
    y = np.asarray(cache.labels)
    pred = np.empty_like(y)
    fits, n_train = [], []
    for fold in make_folds(protocol, cache.subjects, cache.labels, k):
        tr, te = list(fold.train), list(fold.test)
        model = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=3000))
        model.fit(X[tr], y[tr])
        pred[te] = model.predict(X[te])
        fits.append(float(np.mean(model.predict(X[tr]) == y[tr])))
        n_train.append(len(tr))
    return {"pred": pred, "y": y, "chance": 1 / len(classes), "train_accuracy": float(np.mean(fits)),
            "train_clips": float(np.mean(n_train)),
            **all_metrics(y, pred, labels=list(classes))}


def write_plain(cfg, cache: ClipCache, classes, name: str | None = None) -> dict:
    """The plain classifier committed like a study: results/<name>/ (default "<profile>-plain",
    the profile being the study name's part before its first "-") with predictions.csv — the
    same clips and folds as the study's, repeated under each of its seeds (the classifier is
    deterministic, so every seed's row is the same; a paired comparison with any study then
    uses every seed) — and summary.json (its pooled metrics and the training accuracy, the
    mean over folds of each fold's fit to its own training clips, and the mean fold's number of
    training clips)."""
    import json

    import pandas as pd

    from .. import io as fio
    from ..runs import layout as L

    r = plain_classifier(cache, classes, protocol=cfg.study.protocol, k=cfg.study.kfold_k)
    name = name or f"{cfg.study.name.split('-')[0]}-plain"
    out = Path(cfg.study.results_dir) / name
    out.mkdir(parents=True, exist_ok=True)
    rows = pd.DataFrame({"key": cache.keys, "subject": cache.subjects, "label": r["y"], "pred": r["pred"]})
    table = pd.concat([rows.assign(seed=int(s)) for s in cfg.study.seeds])[list(L.PREDICTION_COLUMNS)]
    fio.atomic_write(out / L.PREDICTIONS_TABLE, table.to_csv(index=False).encode())
    summary = {"name": name, "model": "logistic regression on apex − onset (32×32 grey)", "dataset": cfg.data.dataset,
               "protocol": cfg.study.protocol, "classes": list(classes), "seeds": list(cfg.study.seeds),
               **{m: r[m] for m in ("accuracy", "f1_paper", "uf1", "uar", "chance", "train_accuracy", "train_clips")}}
    fio.atomic_write(out / L.SUMMARY, json.dumps(summary, indent=1).encode())
    return summary
