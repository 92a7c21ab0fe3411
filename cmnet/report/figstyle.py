"""The book's figure style: at most ``WIDTH`` inches wide, every text at least ``STYLE``'s sizes, so
that scaled to the page's column (about 740 px) a figure's text reads at the page's size.

    @styled   on a function returning a Figure: its texts raised to the style's sizes
"""

from __future__ import annotations

import functools

from matplotlib.text import Text

WIDTH = 8.0  # inches: the widest figure (shown at the page's width, text scaled by 740 px / (WIDTH · dpi))
STYLE = {"font.size": 10.5, "axes.titlesize": 11, "axes.labelsize": 10.5, "xtick.labelsize": 10,
         "ytick.labelsize": 10, "legend.fontsize": 10, "legend.title_fontsize": 10, "figure.titlesize": 11.5}


def styled(fn):
    """``fn``'s figure with every text at least ``STYLE``'s sizes (set on the figure's own texts
    after drawing: a matplotlib rc_context around the drawing hides the figure from Jupyter's
    inline display), tick labels included (they are remade at draw time)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        out = fn(*args, **kwargs)
        for t in out.findobj(Text):
            if t.get_text() and t.get_fontsize() < STYLE["font.size"]:
                t.set_fontsize(STYLE["font.size"])
        for ax in out.axes:
            ax.tick_params(labelsize=STYLE["xtick.labelsize"])
            if ax.get_title() and ax.title.get_fontsize() < STYLE["axes.titlesize"]:
                ax.title.set_fontsize(STYLE["axes.titlesize"])
        return out
    return wrapper
