"""Figures from data and artifacts; each function returns a matplotlib Figure, at most ``WIDTH``
inches wide with text of at least 10–11 pt (``STYLE``, set by ``styled`` on each figure's texts,
never globally), so that scaled to the page's column (about 740 px) its text reads at the page's size."""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import offset_copy

from .figstyle import STYLE, WIDTH, styled  # noqa: F401  (STYLE: the sizes, for the tests)
from .prose import header


@styled
def intensity_curves(curves: dict[str, np.ndarray], marks: dict[str, tuple[int, int, int]] | None = None,
                     title: str = "ground-truth intensity"):
    fig, ax = plt.subplots(figsize=(WIDTH, 3.4))
    for name, c in curves.items():
        line, = ax.plot(c, label=name)
        if marks and name in marks:
            for i, m in zip(marks[name], "o^s"):
                ax.plot(i, c[i], m, color=line.get_color())
    ax.set_xlabel("frame (onset ○, apex △, offset □)")
    ax.set_ylabel("intensity")
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))  # beside the curves, off their peaks
    fig.tight_layout()
    return fig


@styled
def prototype_figure(mean: np.ndarray, std: np.ndarray, draws: np.ndarray | None = None, title: str = ""):
    """Figure 4(a): per-frame Gaussian means ± 3σ, with a few draws q, each draw's dots just to
    the right of the mean (x offset 0.15–0.4 of a frame) and above it, so that none hides."""
    fig, ax = plt.subplots(figsize=(7, 3.4))
    n = np.arange(1, len(mean) + 1)
    ax.errorbar(n, mean, yerr=3 * std, fmt="o", color="tab:blue", capsize=3, zorder=2, label="mean ± 3σ")
    if draws is not None:
        offsets = np.linspace(0.15, 0.4, len(draws)) if len(draws) > 1 else [0.25]
        for q, dx in zip(draws, offsets):
            ax.plot(n + dx, q, "o", color="tab:orange", ms=3.5, alpha=0.85, zorder=3)
        ax.plot([], [], "o", color="tab:orange", ms=3.5, label=f"{len(draws)} draws q (right of each mean)")
    ax.set_xlabel("frame n")
    ax.set_ylabel("intensity")
    ax.set_title(title or "intensity tendency prototype (Eqs. 2–4)")
    ax.legend()
    fig.tight_layout()
    return fig


@styled
def sampler_frequencies(freqs: dict[str, np.ndarray], anchor: int):
    """Figure 3: how often each frame is drawn as a negative of one anchor, per sampler (one x
    label for all panels)."""
    fig, axes = plt.subplots(1, len(freqs), figsize=(WIDTH, 3.1), sharey=True, squeeze=False)
    for ax, (name, f) in zip(axes.ravel(), freqs.items()):
        colors = ["tab:red" if i == anchor else "tab:blue" for i in range(len(f))]
        ax.bar(np.arange(1, len(f) + 1), f, color=colors)
        ax.axvline(anchor + 1, color="tab:red", ls=":")
        ax.set_title(name)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
    axes[0, 0].set_ylabel("negatives per anchor")
    fig.supxlabel(f"frame (the anchor, frame {anchor + 1}: red, dotted line)", fontsize=STYLE["axes.labelsize"])
    fig.tight_layout()
    return fig


@styled
def wrst_readings(z: np.ndarray, density: np.ndarray, pvalue: np.ndarray, alpha=0.05, xi=0.01):
    """Eq. 8 as printed (density) against the p-value reading (left: p against |Z|), and their
    losses L_Wrst (Eq. 9, right), each zero below its bound (dotted: the first |Z| with a loss)."""
    z = np.abs(np.asarray(z, float))
    fig, axes = plt.subplots(1, 2, figsize=(WIDTH, 3.4))
    axes[0].plot(z, density, label="Eq. 8 as printed: φ(|Z|)")
    axes[0].plot(z, pvalue, label="p-value: 2(1 − Φ(|Z|))")
    axes[0].axhline(alpha + xi, color="grey", ls=":", label="α + ξ")
    for j, (name, p) in enumerate((("density", density), ("p-value", pvalue))):
        loss = np.maximum(0, xi - (np.asarray(p) - alpha))
        axes[1].plot(z, loss, color=f"C{j}", label=f"L_Wrst, {name}")
        if (loss > 0).any():
            axes[1].axvline(z[np.argmax(loss > 0)], color=f"C{j}", ls=":", lw=1)
    for ax, ylabel in zip(axes, ("p", "L_Wrst")):
        ax.set_xlabel("|Z|"), ax.set_ylabel(ylabel)
        ax.legend(loc="center right" if ax is axes[0] else "upper left", fontsize=9.5)
    fig.tight_layout()
    return fig


@styled
def learning_curves(run_dir: str | Path, keys=("train_loss", "train_acc", "test_accuracy"), title: str = ""):
    """Per finished fold of the study's plan, one line per metric over epochs (test metrics:
    monitoring only), two panels a row; ``title`` above the panels' own titles, the folds' legend
    in the free cell after the last panel (or beside it when none is free), off the curves."""
    from ..runs.layout import histories

    nrows = -(-len(keys) // 2)
    fig, grid = plt.subplots(nrows, 2, figsize=(WIDTH, 2.9 * nrows + (0.3 if title else 0)), squeeze=False)
    axes, spare = grid.ravel()[:len(keys)], grid.ravel()[len(keys):]
    folds = histories(run_dir)
    seeds = {s for s, _, _ in folds}
    for seed, fold, rows in folds:  # a fold's name is the seed's too where several seeds ran
        for ax, k in zip(axes, keys):
            ep = [r["epoch"] for r in rows if k in r]
            ax.plot(ep, [r[k] for r in rows if k in r], alpha=0.7, label=f"seed {seed}, {fold}" if len(seeds) > 1 else fold)
    for ax, k in zip(axes, keys):
        ax.set_title(k.replace("_", " ") + (" (monitoring only)" if k.startswith("test") else ""))
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs at 1, 2, …, not 1.0, 1.2
    [ax.axis("off") for ax in spare]
    if folds and len(folds) <= 12:
        handles, labels = axes[-1].get_legend_handles_labels()
        where = {"loc": "center"} if len(spare) else {"loc": "upper left", "bbox_to_anchor": (1.02, 1.0)}
        (spare[0] if len(spare) else axes[-1]).legend(handles, labels, ncol=1 + len(folds) // 7, title="fold", **where)
    if title:
        fig.suptitle(title)
    fig.tight_layout()  # makes room for the suptitle itself
    return fig


def annotation_colours(values: np.ndarray, cmap: str = "Blues") -> np.ndarray:
    """Per cell of an image drawn with ``cmap`` (scaled from its min to its max), the colour its
    number is written in: white on a dark cell, black on a light one (relative luminance < 0.5)."""
    v = np.asarray(values, float)
    span = v.max() - v.min()
    rgba = plt.get_cmap(cmap)((v - v.min()) / span if span > 0 else np.zeros_like(v))
    luminance = 0.2126 * rgba[..., 0] + 0.7152 * rgba[..., 1] + 0.0722 * rgba[..., 2]
    return np.where(luminance < 0.5, "white", "black")


@styled
def confusion_figure(cm: np.ndarray, classes, title: str):
    """Counts, rows true and columns predicted; each number in the colour its cell's brightness
    needs (annotation_colours)."""
    cm = np.asarray(cm)
    fig, ax = plt.subplots(figsize=(4.2, 3.8))
    ax.imshow(cm, cmap="Blues")
    colours = annotation_colours(cm)
    for i, j in np.ndindex(cm.shape):
        ax.text(j, i, int(cm[i, j]), ha="center", va="center", fontsize=11, color=colours[i, j])
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=10.5, wrap=True)
    fig.tight_layout()
    return fig


def _k_label(name: str, k: np.ndarray, mean: np.ndarray, scaled: bool) -> str:
    """'k, name (range 0.011, ρ with the prototype 0.03)': what the panel must say of a k."""
    from scipy.stats import spearmanr

    from .narrative import small

    rho = spearmanr(k, mean).statistic if np.ptp(k) > 0 and np.ptp(mean) > 0 else float("nan")
    return f"k, {name}{' (scaled)' if scaled else ''}: range {small(float(np.ptp(k)))}, ρ(k, prototype) {rho:.2f}"


@styled
def intensity_comparison(mean, std, series: dict[str, np.ndarray], truth=None, title: str = "", scaled: bool = True):
    """Figure 5: the prototype (mean ± σ) and learned intensities k of one clip. ``scaled``: k
    min–max scaled into the prototype's range (only its shape is compared); else k as the model
    gives it, so that a k that hardly varies looks flat. Each k's legend gives its range within
    the clip and its Spearman ρ with the prototype: the picture cannot pass for more than it is."""
    fig, ax = plt.subplots(figsize=(WIDTH, 3.4 + 0.3 * len(series)))
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
    ax.set_title(title)
    ax.legend(fontsize=9.5, loc="upper left", bbox_to_anchor=(0.0, -0.2))  # below the curves, not over them
    fig.tight_layout()
    return fig


def line_labels(chance: float, reference: dict[str, float] | None) -> dict[str, float]:
    """``variant_bars``' line labels, each value as ``pct`` writes it (added where a label has no
    %); a reference within 0.05 pp of chance says that it lies on the chance line."""
    from .prose import pct

    out = {f"chance ({pct(chance)})": chance}
    for label, v in (reference or {}).items():
        label = label if "%" in label else f"{label} ({pct(v)})"
        out[label + (", on the chance line" if abs(v - chance) < 5e-4 else "")] = v
    return out


@styled
def variant_bars(rows: dict[str, dict], chance: float, reference: dict[str, float] | None = None,
                 key: str = "pooled_accuracy", title: str = "", intervals: dict[str, tuple[float, float]] | None = None):
    """One bar per (wrapped) row name: the mean over seeds of ``key`` (a study summary's entry),
    its 95 % interval — over seeds, or, with ``intervals`` (name → (low, high), fractions: e.g.
    cmnet.statistics.verdicts.level's subject interval), those —, every seed a dot; chance (wide, light
    red dashes) and references (e.g. the plain classifier: dark dots over it) as lines, labelled by
    ``line_labels``."""
    names = list(rows)
    wrapped = [textwrap.fill(n, 36) for n in names]
    fig, ax = plt.subplots(figsize=(WIDTH, 0.28 * sum(w.count("\n") + 1 for w in wrapped) + 0.2 * len(names) + 2.2))
    for i, name in enumerate(names):
        s = rows[name]["summary"][key]
        ax.barh(i, 100 * s["mean"], color="tab:blue" if "printed" not in name else "tab:gray", alpha=0.7)
        lo, hi = intervals[name] if intervals else (s["ci_low"], s["ci_high"]) if s.get("n", 1) > 1 else (None, None)
        if lo is not None:  # a share's interval stops at 0 and 100 %, as the tables write it
            lo, hi = max(lo, 0.0), min(hi, 1.0)
            ax.errorbar(100 * s["mean"], i, xerr=[[100 * max(s["mean"] - lo, 0)], [100 * max(hi - s["mean"], 0)]],
                        color="black", capsize=3)
        vals = [100 * x[key] for x in rows[name]["seeds"]]
        ax.plot(vals, [i] * len(vals), "k.", alpha=0.6)
    for j, (label, v) in enumerate(line_labels(chance, reference).items()):
        style = {"color": "tab:red", "ls": "--", "lw": 4, "alpha": 0.5, "zorder": 3} if j == 0 else \
            {"color": ("darkgreen", "indigo", "saddlebrown")[(j - 1) % 3], "ls": ":", "lw": 2.2, "zorder": 4}
        ax.axvline(100 * v, label=label, **style)
    ax.set_yticks(range(len(names)), wrapped, fontsize=10)
    ax.invert_yaxis()
    over = "subjects" if intervals else "seeds"
    ax.set_xlabel(f"{key.replace('_', ' ')} (%): mean over seeds,\n95 % interval over {over} (cut at 100 %), seeds as dots")
    ax.set_title(title)
    below = offset_copy(ax.transAxes, fig=fig, y=-58, units="points")  # under the two-line x label, off the bars
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0.0), bbox_transform=below, ncol=2)
    fig.tight_layout()
    return fig


@styled
def prediction_figure(result: dict, title: str = ""):
    """What ``cmnet predict`` saw and said: the frames the model read (the normalised clip,
    or MMNet's onset and apex), the per-frame intensity k (CMNet), and the class
    probabilities with the predicted class marked."""
    frames = np.asarray(result["frames"])
    probs, k = result["probs"], result.get("k")
    fig = plt.figure(figsize=(WIDTH, 4.8))
    grid = fig.add_gridspec(2, 2, height_ratios=[1, 2.2], width_ratios=[1.6, 1])
    ax = fig.add_subplot(grid[0, :])
    ax.imshow(np.concatenate(list(frames), axis=1))
    ax.set_axis_off()
    ax.set_title("frames read by the model" + (" (onset, apex)" if len(frames) == 2 else f" ({len(frames)}, normalised)"))
    ax = fig.add_subplot(grid[1, 0])
    if k is not None:
        ax.plot(np.arange(1, len(k) + 1), k, "o-", color="tab:blue")
        ax.set_xlabel("normalised frame")
        ax.set_ylabel("intensity k")
        ax.ticklabel_format(axis="y", useOffset=False)
        ax.set_title("per-frame intensity k\n(its scale is the model's own)")
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
    ax.set_title(f"predicted: {best} ({100 * probs[best]:.1f} %)")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def overlapping(curves: dict[str, dict[int, float]], share: float = 0.5) -> list[tuple[str, str]]:
    """The pairs of curves (name → {epoch: value}) equal at ``share`` or more of the epochs both
    have: lines that would hide each other."""
    def same(a, b):
        both = set(curves[a]) & set(curves[b])
        return bool(both) and sum(abs(curves[a][e] - curves[b][e]) < 1e-9 for e in both) >= share * len(both)
    names = list(curves)
    return [(a, b) for i, a in enumerate(names) for b in names[i + 1:] if same(a, b)]


@styled
def epoch_selection_figure(metrics, selection, metric: str = "accuracy", seed: int | None = None, title: str = ""):
    """Per fold, the test ``metric`` over epochs (monitoring, cmnet.report.tables.read_metrics), the
    last epoch (reported: ●) and the best one (chosen on the test subject, an oracle: ★)
    marked (cmnet.report.analyses.epoch_selection). ``seed``: one seed (default the first). Folds
    thick to thin, each its own dashes (a line over another leaves it visible); up to 8 named in the
    legend, which says which lines overlap."""
    seed = int(metrics["seed"].min()) if seed is None else seed
    m, s = metrics[metrics.seed == seed], selection[selection.seed == seed]
    fig, ax = plt.subplots(figsize=(WIDTH, 4.2))
    groups = [(fold, g.dropna(subset=[f"test_{metric}"]).sort_values("epoch")) for fold, g in m.groupby("fold")]
    for i, (fold, g) in enumerate(groups):
        lw = 1.2 + 2.4 * (len(groups) - 1 - i) / max(len(groups) - 1, 1)
        (line,) = ax.plot(g["epoch"], g[f"test_{metric}"], alpha=0.75, lw=lw, ls=("-", "--", "-.", ":")[i % 4],
                          label=str(fold) if len(groups) <= 8 else None)
        row = s[s.fold == fold].iloc[0]
        ax.plot(row["epochs"], row[f"last_{metric}"], "o", color=line.get_color(), ms=7)
        ax.plot(row["best_epoch"], row[f"best_{metric}"], "*", color=line.get_color(), ms=12, mec="k", mew=0.4)
    ax.plot([], [], "ok", label="last epoch (reported)")
    ax.plot([], [], "*k", ms=10, label="best epoch on the test subject (oracle)")
    pairs = overlapping({str(f): dict(zip(g["epoch"], g[f"test_{metric}"])) for f, g in groups})[:3]
    note = "lines overlap: " + ", ".join(f"{a} = {b}" for a, b in pairs) if pairs else None
    ax.set(xlabel="epoch", ylabel=f"test {metric} of the fold")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(title or f"seed {seed}: every fold's test {metric} over epochs")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0.0), bbox_transform=offset_copy(ax.transAxes, fig=fig, y=-40,
              units="points"), ncol=3, title=note, fontsize=9.5)  # below the x label
    fig.tight_layout()
    return fig


@styled
def calibration_figure(rates, title: str = ""):
    """The A/A simulation (cmnet.statistics.calibration.false_positive_rates): per procedure and
    metric the false-positive rate at a nominal 5 % (dashed), with ± 2 Monte-Carlo errors."""
    procs = list(dict.fromkeys(rates.procedure))
    metrics = list(dict.fromkeys(rates.metric))
    fig, ax = plt.subplots(figsize=(WIDTH, 0.5 * len(procs) * len(metrics) + 1.6))
    y, ticks, labels = 0, [], []
    for m in metrics:
        for j, p in enumerate(procs):
            r = rates[(rates.metric == m) & (rates.procedure == p)].iloc[0]
            ax.barh(y, 100 * r.false_positive_rate, color=f"C{j}", alpha=0.8)
            ax.errorbar(100 * r.false_positive_rate, y, xerr=200 * r.mc_se, color="black", capsize=3)
            ticks.append(y), labels.append(f"{p} — {header(m)}")
            y += 1
        y += 0.5
    ax.axvline(5, color="tab:red", ls="--", label="nominal 5 %")
    ax.set_yticks(ticks, [textwrap.fill(t, 34) for t in labels])
    ax.invert_yaxis()
    ax.set_xlabel("false-positive rate where nothing differs (%), ± 2 Monte-Carlo errors")
    ax.set_title(textwrap.fill(title, 70))
    ax.legend(loc="upper right")
    fig.tight_layout()
    return fig


@styled
def curve_spread(curves: np.ndarray, title: str = ""):
    """Truth curves normalised to N frames (clips × N), each a thin line, with their mean — the
    fixed bump a k that reads no image could draw — thick and black."""
    fig, ax = plt.subplots(figsize=(WIDTH, 3.6))
    x = np.arange(curves.shape[1])
    for c in curves:
        ax.plot(x, c, color="tab:blue", alpha=0.35, lw=1)
    ax.plot(x, curves.mean(0), color="black", lw=2.5, label="mean curve (the fixed bump)")
    ax.set_xlabel("normalised frame (onset → offset)")
    ax.set_ylabel("true intensity")
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig
