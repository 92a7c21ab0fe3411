"""The book's sentences from the computation: numbers formatted one way (percent), and put
into markdown with myst-nb's ``glue`` so that no number in a chapter's text is typed by hand.

    glue_numbers(pct_acc=pct(0.412), n_subjects=48)   each value glued as text under its name;
                                                      a chapter's markdown reads {glue:text}`pct_acc`
    pct(0.412) → "41.2 %"      pp(0.045) → "+4.5 pp"      interval_pp(-0.01, 0.08) → "[−1.0, +8.0] pp"
    verdict_sentence(row)      one sentence from a verdict row (cmnet.report.verdicts.compare + verdict)
    relation(a, b, lo, hi)     "above" / "below" / "indistinguishable from", read from an interval

Every value glued is text, already formatted: the page shows exactly the string computed
(``{glue:text}`` strips the quotes); a sentence with emphasis is glued as markdown
(``glue_markdown``, read with ``{glue:md}`name```).

    typed_numbers(markdown, allowed)   the numbers typed by hand in a chapter's text: what the
                                       book's test (tests/test_book_text.py) refuses
"""

from __future__ import annotations

import math
import re

MINUS = "−"  # typographic minus in the book's text


def _signed(x: float, digits: int) -> str:
    s = f"{x:+.{digits}f}"
    return s.replace("-", MINUS)


def pct(x: float, digits: int = 1) -> str:
    """A fraction as a percentage: 0.4125 → '41.2 %' ('n/a' for a missing value)."""
    if x is None or not math.isfinite(float(x)):
        return "n/a"
    return f"{100 * float(x):.{digits}f} %"


def pp(x: float, digits: int = 1) -> str:
    """A difference of fractions in percentage points, signed: 0.045 → '+4.5 pp'."""
    if x is None or not math.isfinite(float(x)):
        return "n/a"
    return f"{_signed(100 * float(x), digits)} pp"


def interval_pp(lo: float, hi: float, digits: int = 1) -> str:
    """An interval of differences in points: '[−1.0, +8.0] pp'."""
    return f"[{_signed(100 * lo, digits)}, {_signed(100 * hi, digits)}] pp"


def interval_pct(lo: float, hi: float, digits: int = 1) -> str:
    """An interval of fractions in percent: '[30.0, 70.0] %'."""
    return f"[{100 * lo:.{digits}f}, {100 * hi:.{digits}f}] %"


def num(x: float, digits: int = 2) -> str:
    """A plain number, fixed digits; integers as integers."""
    if isinstance(x, (int,)) and not isinstance(x, bool):
        return str(x)
    return f"{float(x):.{digits}f}".replace("-", MINUS)


def p_value(p: float, digits: int = 3) -> str:
    """'p = 0.042'; below what ``digits`` can show, 'p < 0.001' (never 'p = 0.000')."""
    floor = 10.0 ** -digits
    return f"p < {floor:.{digits}f}" if p < floor / 2 else f"p = {num(p, digits)}"


def count(n: int, noun: str, plural: str | None = None) -> str:
    """'1 seed', '2 seeds' (``plural`` where the noun's plural is not noun + 's')."""
    return f"{n} {noun if n == 1 else (plural or noun + 's')}"


def listing(xs) -> str:
    """'a', 'a and b', 'a, b and c'."""
    xs = list(xs)
    return xs[0] if len(xs) == 1 else ", ".join(xs[:-1]) + " and " + xs[-1]


def relation(lo: float, hi: float) -> str:
    """Where a difference's interval lies: 'above' (all > 0), 'below' (all < 0), or
    'indistinguishable from' (it holds 0)."""
    if lo > 0:
        return "above"
    if hi < 0:
        return "below"
    return "indistinguishable from"


WORDS = {"HOLDS": "holds here", "REVERSED": "is reversed here", "EXCLUDED": "is excluded here (the paper's difference "
         "lies outside our interval)", "NOT_DISTINGUISHABLE": "cannot be told from noise here"}


def verdict_sentence(row: dict, a: str, b: str) -> str:
    """One sentence for a verdict row (keys delta, lo, hi, mde, verdict; fractions):
    'A − B = +4.5 pp [−1.0, +8.0] pp; the paper's claim cannot be told from noise here
    (smallest difference this design detects at 80 % power: 7.0 pp).'"""
    words = WORDS.get(str(row["verdict"]), str(row["verdict"]).lower())
    mde = f" (smallest difference this design detects at 80 % power: {pp(row['mde'])[1:]})" if "mde" in row else ""
    return f"{a} − {b} = {pp(row['delta'])} {interval_pp(row['lo'], row['hi'])}; the claim {words}{mde}."


class Glued(dict):
    """The strings glued, by name: a dict that shows nothing when it ends a notebook cell (the
    values appear where the text reads them, not as a dict under the code)."""

    def _ipython_display_(self):
        return None


def glue_numbers(**values) -> dict:
    """Glue every value (already text, or made text with str) under its name, invisibly;
    returns the strings glued (a chapter may show them in a table as well)."""
    from myst_nb import glue

    out = Glued()
    for name, value in values.items():
        text = value if isinstance(value, str) else str(value)
        glue(name, text, display=False)
        out[name] = text
    return out


def glue_markdown(**values) -> dict:
    """Glue every value (markdown text) under its name, invisibly, to be read with {glue:md}."""
    from IPython.display import Markdown
    from myst_nb import glue

    for name, value in values.items():
        glue(name, Markdown(str(value)), display=False)
    return Glued({k: str(v) for k, v in values.items()})


# what a number in the text may be without being glued: a reference to a part of a paper or
# of the book, a year, the item number of a list
_STRUCTURAL = re.compile(r"(Tables?|Figures?|Figs?\.|[Cc]hapters?|Eqs?\.|[Ee]quations?|Sections?|§|Algorithm|step|"
                         r"Appendix|[Pp]rofile|issue|version)\s*$")
_STRIP = [re.compile(p, re.S) for p in (r"```.*?```", r"<!--.*?-->", r"\{[a-z:]+\}`[^`]*`", r"`[^`]*`",
                                         r"\$\$.*?\$\$", r"\$[^$\n]*\$", r"\]\([^)]*\)", r"https?://\S+")]
_NUMBER = re.compile(r"(?<![\w.\-−/])[−-]?\d+(?:\.\d+)?(?![^\W²³])")  # 32² is a number (² is a word character)


def typed_numbers(markdown: str, allowed: set[float] = frozenset()) -> list[str]:
    """The numbers of a markdown text that were typed by hand: not in code, math, a role
    (glue, cite), a link target; not a reference to a table, figure, chapter or equation,
    not a year, not an item number; not one of ``allowed`` (the papers' numbers and settings).
    Each as 'number (… context …)'."""
    text = markdown
    for pat in _STRIP:
        text = pat.sub(" ", text)
    text = "\n".join(re.sub(r"^\s*(\d+\.|\(?[ivx]+\))\s", " ", line) for line in text.splitlines())
    out = []
    for m in _NUMBER.finditer(text):
        token = m.group(0).replace("−", "-")
        value = float(token)
        if 1900 <= value <= 2099 and token.isdigit():
            continue
        if _STRUCTURAL.search(text[max(0, m.start() - 14):m.start()]):
            continue
        if any(math.isclose(abs(value), a, abs_tol=1e-9) for a in allowed):
            continue
        out.append(f"{m.group(0)} (…{text[max(0, m.start() - 30):m.end() + 20].strip()}…)")
    return out


def show(df, percent=(), digits: int = 1, index: bool = False, csv=None, rows: int | None = None):
    """A table as the book shows it: fractions in ``percent`` columns as percent (one unit
    throughout), other floats to ``digits``, no index column unless ``index``; ``rows``: only the
    first rows on the page, the whole table written to ``csv`` beside it (a link in the caption).
    Returns a pandas Styler (jupyter-book renders its HTML)."""
    import pandas as pd

    t = df.reset_index() if index else df.copy()
    if csv is not None:
        from pathlib import Path

        Path(csv).parent.mkdir(parents=True, exist_ok=True)
        t.to_csv(csv, index=False)
    if rows is not None:
        t = t.head(rows)
    fmt = {}
    for c in t.columns:
        if c in percent:
            fmt[c] = lambda v: pct(v, digits) if pd.notna(v) else ""
        elif pd.api.types.is_float_dtype(t[c]):
            fmt[c] = lambda v, d=digits: f"{v:.{d}f}" if pd.notna(v) else ""
    # short cells (numbers, "21.7 %", "0.75 → 0.73") never break over lines; long text wraps
    short = [c for c in t.columns if c in fmt or t[c].astype(str).str.len().max() <= SHORT_CELL]
    styler = t.style.format(fmt).hide(axis="index")
    if short and len(t):
        styler = styler.set_properties(subset=short, **{"white-space": "nowrap"})
    return styled(styler)


SHORT_CELL = 16  # characters: a cell this short is kept on one line


# the book theme styles tables of class "dataframe"; a Styler has none, and its cells then touch
# ("74.0573.2771.76"): every table of the book gets the class and padding
TABLE_STYLE = [{"selector": "th, td", "props": "padding: 0.3em 0.7em; text-align: right; white-space: normal;"},
               {"selector": "th.col_heading", "props": "text-align: center;"}]


def styled(styler):
    """A Styler with the theme's table class (borders, zebra rows) and cell padding."""
    return styler.set_table_attributes('class="dataframe"').set_table_styles(TABLE_STYLE, overwrite=False)
