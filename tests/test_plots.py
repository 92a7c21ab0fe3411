"""The book's figures: what a reader must be able to tell apart."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from scipy.stats import spearmanr  # noqa: E402

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
