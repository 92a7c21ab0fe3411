"""Figures from data and artifacts; each function returns a matplotlib Figure."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np


def frame_strip(images, titles, suptitle: str = ""):
    """A row of RGB (or BGR→given as RGB) uint8 images."""
    fig, axes = plt.subplots(1, len(images), figsize=(2.2 * len(images), 2.6))
    for ax, img, t in zip(np.atleast_1d(axes), images, titles):
        ax.imshow(img)
        ax.set_title(t, fontsize=9)
        ax.axis("off")
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    fig.tight_layout()
    return fig


def intensity_curves(curves: dict[str, np.ndarray], marks: dict[str, tuple[int, int, int]] | None = None,
                     title: str = "ground-truth intensity"):
    fig, ax = plt.subplots(figsize=(6.5, 3))
    for name, c in curves.items():
        line, = ax.plot(c, label=name)
        if marks and name in marks:
            for i, m in zip(marks[name], "o^s"):
                ax.plot(i, c[i], m, color=line.get_color())
    ax.set_xlabel("frame (onset ○, apex △, offset □)")
    ax.set_ylabel("intensity")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # beside the curves, off their peaks
    fig.tight_layout()
    return fig


def prototype_figure(mean: np.ndarray, std: np.ndarray, draws: np.ndarray | None = None, title: str = ""):
    """Figure 4(a): per-frame Gaussian means ± 3σ, with a few draws q."""
    fig, ax = plt.subplots(figsize=(6, 3))
    n = np.arange(1, len(mean) + 1)
    ax.errorbar(n, mean, yerr=3 * std, fmt="o", color="tab:blue", capsize=3, label="mean ± 3σ")
    if draws is not None:
        for q in draws:
            ax.plot(n, q, ".", color="tab:orange", alpha=0.5)
        ax.plot([], [], ".", color="tab:orange", label="draws q")
    ax.set_xlabel("frame n")
    ax.set_ylabel("intensity")
    ax.set_title(title or "intensity tendency prototype (Eqs. 2–4)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def sampler_frequencies(freqs: dict[str, np.ndarray], anchor: int):
    """Figure 3: how often each frame is drawn as a negative of one anchor, per sampler."""
    fig, axes = plt.subplots(1, len(freqs), figsize=(3.3 * len(freqs), 2.8), sharey=True)
    for ax, (name, f) in zip(np.atleast_1d(axes), freqs.items()):
        colors = ["tab:red" if i == anchor else "tab:blue" for i in range(len(f))]
        ax.bar(np.arange(1, len(f) + 1), f, color=colors)
        ax.axvline(anchor + 1, color="tab:red", ls=":")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("frame (anchor: red dotted line)")
    np.atleast_1d(axes)[0].set_ylabel("negatives per anchor")
    fig.tight_layout()
    return fig


def wrst_readings(z: np.ndarray, density: np.ndarray, pvalue: np.ndarray, alpha=0.05, xi=0.01):
    """Eq. 8 as printed (density) against the p-value reading, and their losses (Eq. 9)."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3))
    axes[0].plot(z, density, label="Eq. 8: φ(Z) (as printed)")
    axes[0].plot(z, pvalue, label="two-sided p-value")
    axes[0].axhline(alpha + xi, color="grey", ls=":", label="α + ξ")
    axes[0].set_xlabel("Z")
    axes[0].legend(fontsize=8)
    axes[1].plot(z, np.maximum(0, xi - (density - alpha)), label="L_Wrst, density")
    axes[1].plot(z, np.maximum(0, xi - (pvalue - alpha)), label="L_Wrst, p-value")
    axes[1].set_xlabel("Z")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    return fig


def learning_curves(run_dir: str | Path, keys=("train_loss", "train_acc", "test_accuracy"), title: str = ""):
    """Per finished fold of the study's plan, one line per metric over epochs (test metrics:
    monitoring only); ``title`` above the panels' own titles (room is made for it), the folds'
    legend beside the last panel, off the curves."""
    from ..runs.layout import histories

    fig, axes = plt.subplots(1, len(keys), figsize=(4 * len(keys), 3.2))
    folds = histories(run_dir)
    for _, fold, rows in folds:
        for ax, k in zip(axes, keys):
            ep = [r["epoch"] for r in rows if k in r]
            ax.plot(ep, [r[k] for r in rows if k in r], alpha=0.6, label=fold)
    for ax, k in zip(axes, keys):
        ax.set_title(k.replace("_", " ") + (" (monitoring only)" if k.startswith("test") else ""), fontsize=10)
        ax.set_xlabel("epoch")
    if folds and len(folds) <= 12:
        axes[-1].legend(fontsize=8, ncol=1 + len(folds) // 7, loc="upper left", bbox_to_anchor=(1.02, 1.0),
                        title="fold", title_fontsize=8)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.93) if title else None)
    return fig


def annotation_colours(values: np.ndarray, cmap: str = "Blues") -> np.ndarray:
    """Per cell of an image drawn with ``cmap`` (scaled from its min to its max), the colour its
    number is written in: white on a dark cell, black on a light one (relative luminance < 0.5)."""
    v = np.asarray(values, float)
    span = v.max() - v.min()
    rgba = plt.get_cmap(cmap)((v - v.min()) / span if span > 0 else np.zeros_like(v))
    luminance = 0.2126 * rgba[..., 0] + 0.7152 * rgba[..., 1] + 0.0722 * rgba[..., 2]
    return np.where(luminance < 0.5, "white", "black")


def confusion_figure(cm: np.ndarray, classes, title: str):
    """Counts, rows true and columns predicted; each number in the colour its cell's brightness
    needs (annotation_colours)."""
    cm = np.asarray(cm)
    fig, ax = plt.subplots(figsize=(4.2, 3.8))
    ax.imshow(cm, cmap="Blues")
    colours = annotation_colours(cm)
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            ax.text(j, i, int(cm[i, j]), ha="center", va="center", fontsize=10, color=colours[i, j])
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right", fontsize=9)
    ax.set_yticks(range(len(classes)), classes, fontsize=9)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=9, wrap=True)
    fig.tight_layout()
    return fig


def _k_label(name: str, k: np.ndarray, mean: np.ndarray, scaled: bool) -> str:
    """'k, name (range 0.011, ρ with the prototype 0.03)': what the panel must say of a k."""
    from scipy.stats import spearmanr

    from .narrative import small

    rho = spearmanr(k, mean).statistic if np.ptp(k) > 0 and np.ptp(mean) > 0 else float("nan")
    return f"k, {name}{' (scaled)' if scaled else ''}: range {small(float(np.ptp(k)))}, ρ(k, prototype) {rho:.2f}"


def intensity_comparison(mean, std, series: dict[str, np.ndarray], truth=None, title: str = "", scaled: bool = True):
    """Figure 5: the prototype (mean ± σ) and learned intensities k of one clip. ``scaled``: k
    min–max scaled into the prototype's range (its scale is free: only its shape is compared);
    else k as the model gives it, on the prototype's own axis, so that a k that hardly varies
    looks flat. Either way each k's legend gives its range within the clip and its Spearman ρ
    with the prototype, so that the picture cannot pass for more than it is."""
    fig, ax = plt.subplots(figsize=(9, 3.4 + 0.3 * len(series)))
    n = np.arange(1, len(mean) + 1)
    ax.fill_between(n, mean - std, mean + std, color="tab:blue", alpha=0.2)
    ax.plot(n, mean, "o-", color="tab:blue", label="prototype (mean ± σ)")
    lo, hi = float(mean.min()), float(mean.max())
    colours = [c for c in plt.rcParams["axes.prop_cycle"].by_key()["color"] if c not in ("#1f77b4", "tab:blue")]
    for j, (name, k) in enumerate(series.items()):  # the prototype's blue is not reused for any k
        k = np.asarray(k, float)
        span = k.max() - k.min()
        ks = k if not scaled else lo + (k - k.min()) / span * (hi - lo) if span > 0 else np.full_like(k, (lo + hi) / 2)
        ax.plot(n, ks, ".-", color=colours[j % len(colours)], label=_k_label(name, k, mean, scaled))
    if truth is not None and np.isfinite(truth).all():
        t = lo + np.asarray(truth) * (hi - lo) if scaled else np.asarray(truth)
        ax.plot(n, t, "k--", label="SynthME ground truth" + (" (scaled)" if scaled else ""))
    ax.set_xlabel("frame n")
    ax.set_ylabel("intensity" + (" (k min–max scaled)" if scaled else " (k as learned)"))
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(0.0, -0.2))  # below the curves, not over them
    fig.tight_layout()
    return fig


def variant_bars(rows: dict[str, dict], chance: float, reference: dict[str, float] | None = None,
                 key: str = "pooled_accuracy", title: str = ""):
    """One bar per row: the mean over seeds of ``key`` (a study summary's entry, with
    ci_low/ci_high), its 95 % interval over seeds as an error bar, every seed's value as a
    dot; chance and reference values (e.g. the plain classifier) as horizontal lines."""
    fig, ax = plt.subplots(figsize=(8.5, 0.45 * len(rows) + 1.4))
    names = list(rows)
    for i, name in enumerate(names):
        s = rows[name]["summary"][key]
        ax.barh(i, 100 * s["mean"], color="tab:blue" if "printed" not in name else "tab:gray", alpha=0.7)
        if s.get("n", 1) > 1:
            ax.errorbar(100 * s["mean"], i, xerr=[[100 * (s["mean"] - s["ci_low"])], [100 * (s["ci_high"] - s["mean"])]],
                        color="black", capsize=3)
        vals = [100 * x[key] for x in rows[name]["seeds"]]
        ax.plot(vals, [i] * len(vals), "k.", alpha=0.6)
    ax.axvline(100 * chance, color="tab:red", ls="--", label=f"chance ({100 * chance:.0f} %)")
    for j, (label, v) in enumerate((reference or {}).items()):
        ax.axvline(100 * v, color=f"C{j + 2}", ls=":", label=label)
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(f"{key.replace('_', ' ')} (%): mean over seeds, 95 % interval, seeds as dots", fontsize=8)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # off the bars
    fig.tight_layout()
    return fig


def prediction_figure(result: dict, title: str = ""):
    """What ``cmnet predict`` saw and said: the frames the model read (the normalised clip,
    or MMNet's onset and apex), the per-frame intensity k (CMNet), and the class
    probabilities with the predicted class marked."""
    frames = np.asarray(result["frames"])
    probs = result["probs"]
    k = result.get("k")
    fig = plt.figure(figsize=(9, 4.6))
    grid = fig.add_gridspec(2, 2, height_ratios=[1, 2.2], width_ratios=[1.6, 1])
    ax = fig.add_subplot(grid[0, :])
    ax.imshow(np.concatenate(list(frames), axis=1))
    ax.set_axis_off()
    ax.set_title("frames read by the model" + (" (onset, apex)" if len(frames) == 2 else f" ({len(frames)}, normalised)"),
                 fontsize=9)
    ax = fig.add_subplot(grid[1, 0])
    if k is not None:
        ax.plot(np.arange(1, len(k) + 1), k, "o-", color="tab:blue")
        ax.set_xlabel("normalised frame")
        ax.set_ylabel("intensity k")
        ax.ticklabel_format(axis="y", useOffset=False)
        ax.set_title("per-frame intensity k (its scale is the model's own)", fontsize=9)
    else:
        ax.text(0.5, 0.5, f"{result.get('model', 'this model')} has no per-frame intensity", ha="center", va="center")
        ax.set_axis_off()
    ax = fig.add_subplot(grid[1, 1])
    names = list(probs)
    best = max(names, key=probs.get)
    ax.barh(names, [100 * probs[c] for c in names], color=["tab:red" if c == best else "tab:gray" for c in names])
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("probability (%)")
    ax.set_title(f"predicted: {best} ({100 * probs[best]:.1f} %)", fontsize=9)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def epoch_selection_figure(metrics, selection, metric: str = "accuracy", seed: int | None = None, title: str = ""):
    """Per fold, the test ``metric`` over epochs (monitoring, cmnet.report.tables.read_metrics), the
    last epoch (reported: ●) and the best one (chosen on the test subject, an oracle: ★)
    marked (cmnet.report.analyses.epoch_selection). ``seed``: one seed (default the first)."""
    seed = int(metrics["seed"].min()) if seed is None else seed
    m, s = metrics[metrics.seed == seed], selection[selection.seed == seed]
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    for fold, g in m.groupby("fold"):
        g = g.dropna(subset=[f"test_{metric}"]).sort_values("epoch")
        (line,) = ax.plot(g["epoch"], g[f"test_{metric}"], alpha=0.55, lw=1)
        row = s[s.fold == fold].iloc[0]
        ax.plot(row["epochs"], row[f"last_{metric}"], "o", color=line.get_color(), ms=6)
        ax.plot(row["best_epoch"], row[f"best_{metric}"], "*", color=line.get_color(), ms=11, mec="k", mew=0.4)
    ax.plot([], [], "ok", label="last epoch (reported)")
    ax.plot([], [], "*k", ms=10, label="best epoch on the test subject (oracle)")
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"test {metric} of the fold")
    ax.set_title(title or f"seed {seed}: every fold's test {metric} over epochs", fontsize=9)
    ax.legend(fontsize=9, loc="lower right")
    fig.tight_layout()
    return fig


def calibration_figure(rates, title: str = ""):
    """The A/A simulation (cmnet.report.calibration.false_positive_rates): per procedure and
    metric the false-positive rate at a nominal 5 % (dashed), with ± 2 Monte-Carlo errors."""
    procs = list(dict.fromkeys(rates.procedure))
    metrics = list(dict.fromkeys(rates.metric))
    fig, ax = plt.subplots(figsize=(8.5, 0.5 * len(procs) * len(metrics) + 1.4))
    y = 0
    ticks, labels = [], []
    for m in metrics:
        for j, p in enumerate(procs):
            r = rates[(rates.metric == m) & (rates.procedure == p)].iloc[0]
            ax.barh(y, 100 * r.false_positive_rate, color=f"C{j}", alpha=0.8)
            ax.errorbar(100 * r.false_positive_rate, y, xerr=200 * r.mc_se, color="black", capsize=3)
            ticks.append(y)
            labels.append(f"{p} — {m}")
            y += 1
        y += 0.5
    ax.axvline(5, color="tab:red", ls="--", label="nominal 5 %")
    ax.set_yticks(ticks, labels, fontsize=9)
    ax.invert_yaxis()
    ax.set_xlabel("false-positive rate on data where nothing differs (%), ± 2 Monte-Carlo errors", fontsize=9)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=9, loc="upper right")
    fig.tight_layout()
    return fig


def curve_spread(curves: np.ndarray, title: str = ""):
    """Truth curves normalised to N frames (clips × N), each a thin line, with their mean — the
    fixed bump a k that reads no image could draw — thick and black."""
    fig, ax = plt.subplots(figsize=(8.5, 3.4))
    x = np.arange(curves.shape[1])
    for c in curves:
        ax.plot(x, c, color="tab:blue", alpha=0.35, lw=1)
    ax.plot(x, curves.mean(0), color="black", lw=2.5, label="mean curve (the fixed bump)")
    ax.set_xlabel("normalised frame (onset → offset)", fontsize=10)
    ax.set_ylabel("true intensity", fontsize=10)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig
