"""The protocols' folds. LOSO (leave one subject out, the paper's): one fold per subject, that
subject's clips as the test part, every other subject's as the training part. Subject-grouped
K-fold: the subjects split into K groups (no subject in two), balanced in subjects (the counts
differ by at most one) and, as far as whole subjects allow, in each class's clips; each group
the test part of one fold, named k1…kK. The split does not depend on the training seed: every
seed and every variant is tested on the same folds (paired comparisons)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .clip import Clip


@dataclass(frozen=True)
class Fold:
    index: int
    subject: str  # the fold's name: the test subject (LOSO) or k1…kK (k-fold)
    train: tuple[int, ...]  # indices into the clip list
    test: tuple[int, ...]
    test_subjects: tuple[str, ...] = ()  # k-fold: the subjects of the test part


def loso_folds(clips: list[Clip] | list[str]) -> list[Fold]:
    """Folds in a stable order (subjects sorted); accepts Clips or their subject names."""
    subjects = [c.subject if isinstance(c, Clip) else str(c) for c in clips]
    if not subjects:
        raise ValueError("no clips to split")
    order = sorted(set(subjects))
    if len(order) < 2:
        raise ValueError(f"LOSO needs at least 2 subjects, got {order}")
    folds = []
    for i, s in enumerate(order):
        test = tuple(j for j, t in enumerate(subjects) if t == s)
        train = tuple(j for j, t in enumerate(subjects) if t != s)
        folds.append(Fold(i, s, train, test))
    return folds


def kfold_folds(subjects, labels, k: int) -> list[Fold]:
    """Subject-grouped K-fold over clips with these ``subjects`` and ``labels``: subjects taken
    largest first (ties by name), each given to the group with the fewest subjects and, among
    those, the one whose class counts it leaves closest to an equal share (squared deviation)."""
    subjects, labels = [str(s) for s in subjects], [str(x) for x in labels]
    order = sorted(set(subjects))
    if not 2 <= k <= len(order):
        raise ValueError(f"k-fold needs 2 ≤ K ≤ the number of subjects ({len(order)}), got K = {k}")
    classes = sorted(set(labels))
    hist = {s: np.array([sum(1 for t, y in zip(subjects, labels) if t == s and y == c) for c in classes], float)
            for s in order}
    target = sum(hist.values()) / k
    groups, counts = [[] for _ in range(k)], np.zeros((k, len(classes)))
    for s in sorted(order, key=lambda s: (-hist[s].sum(), s)):
        fewest = min(len(g) for g in groups)
        cost = [((counts[g] + hist[s] - target) ** 2).sum() if len(groups[g]) == fewest else np.inf for g in range(k)]
        g = int(np.argmin(cost))
        groups[g].append(s)
        counts[g] += hist[s]
    folds = []
    for i, g in enumerate(groups):
        members = set(g)
        test = tuple(j for j, t in enumerate(subjects) if t in members)
        train = tuple(j for j, t in enumerate(subjects) if t not in members)
        folds.append(Fold(i, f"k{i + 1}", train, test, tuple(sorted(g))))
    return folds


def make_folds(protocol: str, subjects, labels, k: int = 4) -> list[Fold]:
    """The folds of ``protocol`` ("loso" or "kfold" with ``k`` groups)."""
    if protocol == "loso":
        return loso_folds(list(subjects))
    if protocol == "kfold":
        return kfold_folds(subjects, labels, k)
    raise ValueError(f"protocol must be loso or kfold, got {protocol!r}")
