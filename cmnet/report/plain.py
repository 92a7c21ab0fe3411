"""A plain, non-deep classifier used to gauge how hard a dataset is: logistic regression
on the apex − onset grey-level difference (downsampled to 32×32), on the study's folds (LOSO or
subject-grouped k-fold)."""

from __future__ import annotations

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
    for fold in make_folds(protocol, cache.subjects, cache.labels, k):
        tr, te = list(fold.train), list(fold.test)
        model = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=3000))
        model.fit(X[tr], y[tr])
        pred[te] = model.predict(X[te])
    return {"pred": pred, "y": y, "chance": 1 / len(classes), **all_metrics(y, pred, labels=list(classes))}
