"""The book's figures: what a reader must be able to tell apart."""

import json

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.text import Text  # noqa: E402
from scipy.stats import norm, spearmanr  # noqa: E402

from cmnet.io import write_text  # noqa: E402
from cmnet.report import plots as P  # noqa: E402
from cmnet.report.chapters_data import zero_loss_bound  # noqa: E402
from cmnet.report.narrative import small  # noqa: E402
from cmnet.report.plots import intensity_comparison  # noqa: E402


def test_figure5_draws_every_curve_in_its_own_colour():
    """Figure 5: the prototype, each k and the truth in distinct colours (the first k once took
    the prototype's blue), each k min–max scaled into the prototype's range, its legend giving
    k's own range and its ρ with the prototype."""
    mean = np.sin(np.linspace(0, np.pi, 16)) * 0.8 + 0.2
    rng = np.random.default_rng(0)
    series = {f"variant {i}": rng.random(16) * (i + 1) for i in range(4)}
    fig = intensity_comparison(mean, np.full(16, 0.05), series, truth=np.linspace(0, 1, 16), title="t")
    lines = fig.axes[0].get_lines()
    labels = [ln.get_label() for ln in lines]
    rho = {n: spearmanr(k, mean).statistic for n, k in series.items()}
    assert labels == (["prototype (mean ± σ)"]
                      + [f"k, {n} (scaled): range {small(float(np.ptp(k)))}, ρ(k, prototype) {rho[n]:.2f}" for n, k in series.items()]
                      + ["SynthME ground truth (scaled)"])
    colours = [to_hex(ln.get_color()) for ln in lines]
    assert len(set(colours)) == len(colours), colours
    for ln in lines[1:-1]:
        y = ln.get_ydata()
        assert np.isclose(y.min(), mean.min()) and np.isclose(y.max(), mean.max())
    plt.close(fig)


def test_figure5_unscaled_draws_k_as_learned():
    """scaled=False: a k that hardly moves is drawn flat on the prototype's axis, not stretched
    onto it (the first edition's Figure 5(b) made a k of range 0.04 look like the prototype)."""
    mean = np.sin(np.linspace(0, np.pi, 16)) * 0.8 + 0.2
    k = 0.6 + 0.01 * np.cos(np.arange(16))
    fig = intensity_comparison(mean, np.full(16, 0.05), {"after": k}, truth=np.linspace(0, 1, 16), scaled=False)
    line = fig.axes[0].get_lines()[1]
    assert np.allclose(line.get_ydata(), k) and line.get_label().startswith(f"k, after: range {small(float(np.ptp(k)))}, ")
    plt.close(fig)


def _study(root, folds=("s0", "s1", "s2"), epochs=2):
    for j, fold in enumerate(folds):
        d = root / "seed0" / fold
        d.mkdir(parents=True)
        write_text(d / "predictions.csv", f"key,subject,label,pred\n{fold}/c0,{fold},a,a\n")
        write_text(d / "done.json", json.dumps({"fold": fold, "n_test": 1, "accuracy": 1.0}))
        rows = [{"epoch": e, "train_loss": 2.0 / e + j, "train_acc": 0.1 * e, "test_accuracy": 0.2 + 0.01 * j}
                for e in range(1, epochs + 1)]
        write_text(d / "metrics.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    return root


def _epochs(folds=("f0", "f1", "f2"), same=("f0", "f1")):
    """Test accuracy per fold over 16 epochs; the folds in ``same`` share one flat curve."""
    m = pd.DataFrame([{"seed": 0, "fold": f, "epoch": e, "test_accuracy": 0.2 if f in same else 0.2 + 0.02 * e}
                      for f in folds for e in range(1, 17)])
    last = m[m.epoch == 16].set_index("fold").test_accuracy
    sel = pd.DataFrame([{"seed": 0, "fold": f, "epochs": 16, "last_accuracy": last[f], "best_epoch": 16,
                         "best_accuracy": last[f]} for f in folds])
    return m, sel


def _texts(fig):
    fig.canvas.draw()
    return [t for t in fig.findobj(Text) if t.get_text().strip() and t.get_visible()]


def test_figures_fit_the_page_with_readable_text_and_leave_rcparams_alone(tmp_path):
    """At most WIDTH inches wide, every text (tick labels included) at 9 pt or more: scaled to the
    page's 740 px at 100 dpi, 9 pt of an 8-inch figure shows as 9 · 100/72 · 740/800 ≈ 11.6 px."""
    before = dict(plt.rcParams)
    z = np.linspace(0, 4, 81)
    m, sel = _epochs()
    rows = {"a long row name that has to wrap onto a second line of the axis": {
        "summary": {"pooled_accuracy": {"mean": 0.3, "ci_low": 0.2, "ci_high": 0.4, "n": 2}},
        "seeds": [{"pooled_accuracy": 0.25}, {"pooled_accuracy": 0.35}]}}
    figs = [P.learning_curves(_study(tmp_path / "st"), title="t"), P.epoch_selection_figure(m, sel),
            P.sampler_frequencies({s: np.ones(16) for s in ("deterministic", "random", "probabilistic")}, 5),
            P.wrst_readings(z, norm.pdf(z), 2 * norm.sf(z)), P.variant_bars(rows, 0.2, {"plain": 0.2}),
            P.prototype_figure(np.ones(16), np.full(16, 0.1), np.ones((6, 16))),
            P.intensity_curves({"c": np.sin(np.linspace(0, 3, 20))}), P.curve_spread(np.ones((3, 16)))]
    assert before == dict(plt.rcParams)
    for fig in figs:
        assert fig.get_size_inches()[0] <= P.WIDTH
        small_texts = [(t.get_text(), t.get_fontsize()) for t in _texts(fig) if t.get_fontsize() < 9]
        assert not small_texts, small_texts
        plt.close(fig)
    assert max(len(t.get_text().split("\n")[0]) for t in figs[4].axes[0].get_yticklabels()) <= 36


def test_epoch_axes_tick_at_whole_epochs(tmp_path):
    fig = P.learning_curves(_study(tmp_path / "st", epochs=2))
    fig.canvas.draw()
    for ax in fig.axes[:3]:
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert ticks == [1.0, 2.0], ticks
    assert fig.axes[3].get_legend().get_title().get_text() == "fold"  # in the free fourth cell
    m, sel = _epochs()
    fig2 = P.epoch_selection_figure(m, sel)
    fig2.canvas.draw()
    assert all(float(t).is_integer() for t in fig2.axes[0].get_xticks())
    plt.close(fig), plt.close(fig2)


def test_prototype_draws_sit_beside_the_means_and_above_them():
    """Figure 4(a): each of the six draws at its own x offset right of the frame (the means sit on
    it), drawn over the error bars."""
    mean = np.linspace(0.1, 1, 16)
    draws = mean + np.zeros((6, 16))  # draws equal to the means: the case where they used to hide
    fig = P.prototype_figure(mean, np.full(16, 0.05), draws)
    ax = fig.axes[0]
    dots = [ln for ln in ax.get_lines() if ln.get_color() == "tab:orange" and len(ln.get_xdata())]
    offsets = [float(ln.get_xdata()[0]) - 1 for ln in dots]
    assert len(dots) == 6 and len(set(np.round(offsets, 6))) == 6 and min(offsets) >= 0.1 and max(offsets) <= 0.5
    bar_z = max(c.get_zorder() for c in ax.containers[0].get_children())
    assert all(ln.get_zorder() > bar_z for ln in dots)
    assert "6 draws q" in ax.get_legend().get_texts()[0].get_text()
    plt.close(fig)


def test_wrst_figure_labels_its_axes_and_marks_each_bound():
    """Fig. 11: x is |Z|, y p and L_Wrst; each loss's first positive |Z| (dotted line) is the bound
    zero_loss_bound computes, within the grid's step."""
    z = np.linspace(0, 4, 4001)
    fig = P.wrst_readings(z, norm.pdf(z), 2 * norm.sf(z), alpha=0.05, xi=0.01)
    left, right = fig.axes
    assert [a.get_xlabel() for a in fig.axes] == ["|Z|", "|Z|"] and (left.get_ylabel(), right.get_ylabel()) == ("p", "L_Wrst")
    bounds = [float(ln.get_xdata()[0]) for ln in right.get_lines() if ln.get_linestyle() == ":"]
    want = [zero_loss_bound(0.05, 0.01), zero_loss_bound(0.05, 0.01, "two-sided")]
    assert np.allclose(bounds, want, atol=2e-3), (bounds, want)
    plt.close(fig)


def test_chance_and_plain_classifier_lines_are_told_apart():
    """Coinciding lines: different colour and dashes, the plain classifier over chance, both values
    written alike; a label without a value gets one."""
    assert P.line_labels(0.2, {"plain classifier (20.0 %)": 0.2}) == {
        "chance (20.0 %)": 0.2, "plain classifier (20.0 %), on the chance line": 0.2}
    assert list(P.line_labels(0.2, {"plain classifier": 0.35})) == ["chance (20.0 %)", "plain classifier (35.0 %)"]
    rows = {"a": {"summary": {"pooled_accuracy": {"mean": 0.2, "n": 1}}, "seeds": [{"pooled_accuracy": 0.2}]}}
    fig = P.variant_bars(rows, 0.2, {"plain classifier": 0.2})
    chance, plain = [ln for ln in fig.axes[0].get_lines() if ln.get_label() in P.line_labels(0.2, {"plain classifier": 0.2})]
    assert chance.get_linestyle() != plain.get_linestyle() and chance.get_color() != plain.get_color()
    assert plain.get_zorder() > chance.get_zorder() and chance.get_linewidth() > plain.get_linewidth()
    plt.close(fig)


def test_overlapping_fold_lines_are_named_and_stay_visible():
    assert P.overlapping({"a": {1: 0.2, 2: 0.2}, "b": {1: 0.2, 2: 0.2}, "c": {1: 0.2, 2: 0.4}, "d": {2: 0.4}}) == \
        [("a", "b"), ("a", "c"), ("b", "c"), ("c", "d")]  # c equals a and b at one epoch of two: half
    assert P.overlapping({"a": {1: 0.2, 2: 0.3, 3: 0.4}, "b": {1: 0.2, 2: 0.4, 3: 0.5}}) == []
    m, sel = _epochs()
    fig = P.epoch_selection_figure(m, sel)
    ax = fig.axes[0]
    assert ax.get_legend().get_title().get_text() == "lines overlap: f0 = f1"
    f0, f1 = (next(ln for ln in ax.get_lines() if ln.get_label() == f) for f in ("f0", "f1"))
    assert f0.get_linewidth() > f1.get_linewidth() and f0.get_linestyle() != f1.get_linestyle()
    plt.close(fig)
