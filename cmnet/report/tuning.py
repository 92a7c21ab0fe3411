"""The tuning study: every compared arm at three learning rates, on a SynthME the book never
reports (params/cpu_tuning.yaml, generator seed 2), 32 epochs with the held-out folds monitored
every epoch. Nothing here looks at a reported subject.

    t = tuning_table("cpu_tuning")        a row per (arm, learning rate): the held-out accuracy over
                                          the last epochs, the training loss and accuracy, the epoch
                                          where the training loss levelled off
    c = tuning_choice(t)                  per arm the chosen learning rate, and the epochs for all
    curves = tuning_curves("cpu_tuning")  per (arm, lr, epoch): training loss and held-out accuracy,
                                          means over folds (chapter 7's figure)

The rules, fixed before the run: an arm's learning rate is the one with the highest held-out
accuracy, averaged over the last ``LAST`` epochs and the folds (the mean of several epochs, so
one lucky epoch does not choose); an arm's training loss has *levelled off* at the first epoch
after which, on its 3-epoch moving average, it falls by at most ``SHARE`` of its whole fall;
the epochs of every edition that uses the tuning are the largest levelling epoch of the arms
at their chosen rates, rounded up to a multiple of 4.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from ..runs import layout as L
from .figstyle import styled

# the tuned arms in the sentence's words (the table shows their names as code)
ARM_NAMES = {"baseline": "the ResNet + LSTM baseline", "cmnet": "CMNet", "mmnet": "MMNet", "oracle_k": "the oracle k"}

LAST, SHARE, SMOOTH = 4, 0.10, 3


def tuning_runs(profile: str = "cpu_tuning", results_dir: str | Path = "results") -> dict[str, Path]:
    """Variant → its committed results folder, for every tuning variant that has one."""
    from ..variants import TUNING

    found = {v: Path(results_dir) / f"{profile}-{v}" for v in TUNING}
    return {v: p for v, p in found.items() if (p / L.EPOCHS_TABLE).is_file() or (p / L.SUMMARY).is_file()}


def tuning_curves(profile: str = "cpu_tuning", results_dir: str | Path = "results", runs: dict | None = None
                  ) -> pd.DataFrame:
    """Per (arm, lr, epoch): the training loss, training accuracy and held-out accuracy, means over
    the folds (and seeds)."""
    from ..variants import TUNING

    rows = []
    for v, path in (runs or tuning_runs(profile, results_dir)).items():
        m = L.read_epochs(path)
        if m.empty:
            continue
        g = m.groupby("epoch")[["train_loss", "train_acc", "test_accuracy"]].mean().reset_index()
        rows.append(g.assign(arm=TUNING[v]["tuned_arm"], lr=TUNING[v]["lr"], variant=v))
    if not rows:
        raise FileNotFoundError(f"no tuning results for {profile} under {results_dir} (make tuning)")
    return pd.concat(rows, ignore_index=True)[["arm", "lr", "variant", "epoch", "train_loss", "train_acc",
                                                "test_accuracy"]]


def level_epoch(loss, share: float = SHARE, smooth: int = SMOOTH) -> int:
    """The first epoch (1-based) after which the curve, smoothed by a trailing moving average of
    ``smooth`` epochs, falls by at most ``share`` of its whole fall (first smoothed value minus
    the lowest later one). A curve that never falls levels off at epoch 1."""
    x = np.asarray(loss, dtype=float)
    if x.ndim != 1 or len(x) == 0 or not np.isfinite(x).all():
        raise ValueError(f"a loss curve must be a finite 1-d sequence, got {x!r}")
    s = np.array([x[max(0, i - smooth + 1): i + 1].mean() for i in range(len(x))])
    floor = np.minimum.accumulate(s[::-1])[::-1]  # the lowest value from each epoch on
    fall = s[0] - floor[0]
    if fall <= 0:
        return 1
    return int(np.flatnonzero(s - floor <= share * fall)[0]) + 1


def tuning_table(profile: str = "cpu_tuning", results_dir: str | Path = "results", last: int = LAST,
                 curves: pd.DataFrame | None = None) -> pd.DataFrame:
    """A row per (arm, lr): the held-out accuracy (mean of the last ``last`` epochs), the last
    epoch's training loss and accuracy, the epoch where the training loss levelled off, and
    whether this rate is the arm's choice."""
    c = tuning_curves(profile, results_dir) if curves is None else curves
    rows = []
    for (arm, lr), g in c.groupby(["arm", "lr"], sort=True):
        g = g.sort_values("epoch")
        rows.append({"arm": arm, "lr": float(lr), "epochs run": int(g.epoch.max()),
                     "held-out accuracy": float(g.test_accuracy.tail(last).mean()),
                     "train loss, last": float(g.train_loss.iloc[-1]), "train acc, last": float(g.train_acc.iloc[-1]),
                     "levels off at epoch": level_epoch(g.train_loss.to_numpy())})
    t = pd.DataFrame(rows)
    best = t.loc[t.groupby("arm")["held-out accuracy"].idxmax()]
    t["chosen"] = t.index.isin(best.index)
    return t


def tuning_page(table: pd.DataFrame) -> pd.DataFrame:
    """The tuning table as the page shows it: each learning rate as written in the profiles (0.0032,
    not 0.003 at a table's three decimals), the chosen rows marked "yes"."""
    return table.assign(lr=[f"{v:g}" for v in table.lr], chosen=["yes" if c else "" for c in table.chosen])


def tuning_choice(table: pd.DataFrame, multiple: int = 4) -> dict:
    """The chosen learning rate per arm, and the epochs of an edition that uses the tuning: the
    largest levelling epoch at the chosen rates, rounded up to ``multiple``, at most the epochs run."""
    chosen = table[table.chosen]
    level = int(chosen["levels off at epoch"].max())
    epochs = min(int(chosen["epochs run"].min()), multiple * math.ceil(level / multiple))
    return {"lr": {r.arm: float(r.lr) for r in chosen.itertuples()}, "epochs": epochs, "levels off": level}


def tuning_sentence(table: pd.DataFrame, choice: dict, profile_cfg=None) -> str:
    """The choice in words: each arm's rate and its held-out accuracy, the epochs and why."""
    from .prose import listing, pct

    chosen = table[table.chosen].set_index("arm")
    arms = listing([f"{ARM_NAMES.get(arm, arm)} at lr {r.lr:g} ({pct(r['held-out accuracy'])} held out)"
                    for arm, r in chosen.iterrows()])
    where = ""
    if profile_cfg is not None:
        d = profile_cfg.data
        where = (f" on SynthME drawn with generator seed {d.synth_seed} ({d.synth_subjects} subjects, never reported "
                 "in this book)")
    return (f"Chosen{where}: {arms}. Every arm's training loss at its chosen rate had levelled off by epoch {choice['levels off']} "
            f"(its 3-epoch mean falls by at most a tenth of its whole fall after it), so the editions that use the "
            f"tuning train {choice['epochs']} epochs.")


@styled
def tuning_figure(curves: pd.DataFrame):
    """Per arm (a panel each): the training loss (solid) and held-out accuracy (dashed, right axis)
    against the epoch, one colour per learning rate."""
    import matplotlib.pyplot as plt

    arms = list(dict.fromkeys(curves.arm))
    fig, axes = plt.subplots(1, len(arms), figsize=(8, 3.2), sharex=True)
    axes = np.atleast_1d(axes)
    for ax, arm in zip(axes, arms):
        acc_ax = ax.twinx()
        for i, (lr, g) in enumerate(curves[curves.arm == arm].groupby("lr")):
            colour = f"C{i}"
            ax.plot(g.epoch, g.train_loss, color=colour, label=f"lr {lr:g}")
            acc_ax.plot(g.epoch, 100 * g.test_accuracy, color=colour, ls="--")
        ax.set_title(arm)
        ax.set_xlabel("epoch")
        acc_ax.set_ylim(0, 100)
        if ax is axes[0]:
            ax.set_ylabel("training loss (solid)")
        if ax is axes[-1]:
            acc_ax.set_ylabel("held-out accuracy, % (dashed)")
        else:
            acc_ax.set_yticklabels([])
        ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def tuning_used(cfg, choice: dict) -> str:
    """Whether a chapter's profile (``cfg``: its CMNet row) trains with the tuning's choice."""
    if cfg.study.tuned and cfg.train.epochs == choice["epochs"]:
        return "This edition's rows use them."
    return (f"This edition's rows do not (lr {cfg.train.lr:g}, {cfg.train.epochs} epochs, profile "
            f"{cfg.study.name.split('-')[0]}): the chosen settings apply from its next publication with `tuned: true`.")
