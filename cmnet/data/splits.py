"""Leave-one-subject-out (LOSO) folds: one fold per subject, that subject's clips as the
test part and every other subject's as the training part."""

from __future__ import annotations

from dataclasses import dataclass

from .clip import Clip


@dataclass(frozen=True)
class Fold:
    index: int
    subject: str  # the test subject
    train: tuple[int, ...]  # indices into the clip list
    test: tuple[int, ...]


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
