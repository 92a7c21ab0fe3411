"""Classification metrics of the micro-expression literature.

Every function takes ``(y_true, y_pred, labels=None)`` (array-likes of class labels).

Absent classes (the rule, so that a LOSO fold never yields NaN or a warning): the classes
averaged are the *active* ones, those of ``labels`` (default: every label seen) that occur
in ``y_true`` or in ``y_pred``. A ratio with a zero denominator counts as 0: a class never
predicted has precision 0; a class predicted but absent from the truth has recall 0.
This equals scikit-learn's ``precision_recall_fscore_support(labels=active,
zero_division=0)``. Predictions or truths outside ``labels`` are counted as errors (they
add to no class's true positives).

- ``accuracy``: correct / total.
- ``f1_paper``: 2PR/(P+R), P and R the macro precision and recall (CMNet's definition).
- ``uf1``: the mean of the per-class F1 (MEGC's unweighted F1).
- ``uar``: the mean of the per-class recall (MEGC's unweighted average recall).
- ``confusion``: rows true, columns predicted, in the order of ``labels``.
"""

from __future__ import annotations

import numpy as np


def _prep(y_true, y_pred, labels):
    t = np.asarray(y_true).ravel()
    p = np.asarray(y_pred).ravel()
    if t.shape != p.shape:
        raise ValueError(f"y_true has {t.size} entries, y_pred {p.size}")
    if t.size == 0:
        raise ValueError("no predictions to score")
    if labels is None:
        labels = np.unique(np.concatenate([t, p]))
    return t, p, np.asarray(labels)


def confusion(y_true, y_pred, labels=None) -> np.ndarray:
    """(C, C) integer counts, rows true class, columns predicted class, ordered as ``labels``."""
    t, p, labels = _prep(y_true, y_pred, labels)
    pos = {lab: i for i, lab in enumerate(labels.tolist())}
    cm = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for a, b in zip(t.tolist(), p.tolist()):
        if a in pos and b in pos:
            cm[pos[a], pos[b]] += 1
    return cm


def _per_class(y_true, y_pred, labels):
    t, p, labels = _prep(y_true, y_pred, labels)
    tp = np.array([np.sum((t == c) & (p == c)) for c in labels], dtype=float)
    n_true = np.array([np.sum(t == c) for c in labels], dtype=float)
    n_pred = np.array([np.sum(p == c) for c in labels], dtype=float)
    active = (n_true + n_pred) > 0
    tp, n_true, n_pred = tp[active], n_true[active], n_pred[active]
    prec = np.divide(tp, n_pred, out=np.zeros_like(tp), where=n_pred > 0)
    rec = np.divide(tp, n_true, out=np.zeros_like(tp), where=n_true > 0)
    denom = n_true + n_pred
    f1 = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)
    return prec, rec, f1


def accuracy(y_true, y_pred, labels=None) -> float:
    t, p, labels = _prep(y_true, y_pred, labels)
    return float(np.mean((t == p) & np.isin(t, labels)))  # a truth outside labels is never correct


def f1_paper(y_true, y_pred, labels=None) -> float:
    prec, rec, _ = _per_class(y_true, y_pred, labels)
    if prec.size == 0:
        return 0.0
    P, R = prec.mean(), rec.mean()
    return float(2 * P * R / (P + R)) if P + R > 0 else 0.0


def uf1(y_true, y_pred, labels=None) -> float:
    _, _, f1 = _per_class(y_true, y_pred, labels)
    return float(f1.mean()) if f1.size else 0.0


def uar(y_true, y_pred, labels=None) -> float:
    _, rec, _ = _per_class(y_true, y_pred, labels)
    return float(rec.mean()) if rec.size else 0.0


def all_metrics(y_true, y_pred, labels=None) -> dict[str, float]:
    """accuracy, f1_paper, uf1 and uar in one dict."""
    return {f.__name__: f(y_true, y_pred, labels) for f in (accuracy, f1_paper, uf1, uar)}
