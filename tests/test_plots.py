"""The book's figures: what a reader must be able to tell apart."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from cmnet.report.plots import intensity_comparison  # noqa: E402


def test_figure5_draws_every_curve_in_its_own_colour():
    """Figure 5: the prototype, each k and the truth in distinct colours (the first k once took
    the prototype's blue), each k min–max scaled into the prototype's range."""
    mean = np.sin(np.linspace(0, np.pi, 16)) * 0.8 + 0.2
    rng = np.random.default_rng(0)
    series = {f"variant {i}": rng.random(16) * (i + 1) for i in range(4)}
    fig = intensity_comparison(mean, np.full(16, 0.05), series, truth=np.linspace(0, 1, 16), title="t")
    lines = fig.axes[0].get_lines()
    labels = [ln.get_label() for ln in lines]
    assert labels == ["prototype"] + [f"k, {n} (scaled)" for n in series] + ["SynthME ground truth"]
    colours = [to_hex(ln.get_color()) for ln in lines]
    assert len(set(colours)) == len(colours), colours
    for ln in lines[1:-1]:
        y = ln.get_ydata()
        assert np.isclose(y.min(), mean.min()) and np.isclose(y.max(), mean.max())
    plt.close(fig)
