"""The book's sentences from the computation: every number formatted here, one formatter per
kind, and put into markdown with myst-nb's ``glue`` so that no number in a chapter's text is
typed by hand.

    glue_numbers(pct_acc=pct(0.412), n_subjects=48)   each value glued as text under its name;
                                                      a chapter's markdown reads {glue:text}`pct_acc`

The kinds (fractions in, the book's minus out, never '−0.0'):

    pct(0.412) → "41.2 %"                  estimate_pct(0.41, 0.30, 0.52) → "41.0 [30.0, 52.0] %"
    pp(0.045) → "+4.5 pp"                  estimate_pp(-0.008, -0.033, 0.016) → "−0.8 [−3.3, +1.6] pp"
    pp(0.061, signed=False) → "6.1 pp"     interval_pp(-0.01, 0.08) → "[−1.0, +8.0] pp"
    rho(0.123) → "0.12"                    estimate_rho(0.12, -0.35, 0.52) → "0.12 [−0.35, 0.52]"
    integer(480.0) → "480"                 count(2, "seed") → "2 seeds"
    p_value(0.0001) → "p < 0.001"          p_cell(0.042) → "0.042" (a table's cell)
    header("rho_prototype") → "ρ(k, prototype)"   a shown table's column in words (HEADERS)
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


def _missing(x) -> bool:
    try:
        return x is None or not math.isfinite(float(x))
    except (TypeError, ValueError):
        return True


def fixed(x: float, digits: int = 2, signed: bool = False) -> str:
    """``x`` with ``digits`` decimals and the book's minus; a value that rounds to zero is written
    without a sign ('0.0', never '−0.0' or '+0.0'); ``signed``: '+' before a positive value."""
    s = f"{float(x):+.{digits}f}" if signed else f"{float(x):.{digits}f}"
    if float(s) == 0:
        s = f"{0.0:.{digits}f}"
    return s.replace("-", MINUS)


def _signed(x: float, digits: int) -> str:
    return fixed(x, digits, signed=True)


# the book's pages by chapter number (notebooks/NN_<name>.ipynb; a test checks the list)
CHAPTER_DOCS = {0: "00_summary", 1: "01_explore_data", 2: "02_preprocess_clips", 3: "03_model_losses",
                4: "04_train_cmnet", 5: "05_sampler_ablation", 6: "06_loss_ablation", 7: "07_results",
                8: "08_intensity", 9: "09_claims", 10: "10_beyond_the_paper", 11: "11_your_data", 12: "12_conclusion"}


def chapter_ref(n: int, text: str | None = None, included: bool = False) -> str:
    """A link to chapter ``n`` in text the book renders as markdown; ``text`` defaults to
    'chapter n'. Glued markdown (a chapter's cell output) is rendered after Sphinx resolves its
    references: a role stays raw text there and a markdown link to a page is a missing
    cross-reference (a warning that fails the build), so it gets an HTML anchor to the page's HTML,
    a sibling of every chapter's (book/executed/). A markdown file the introduction includes
    (``included``: headline.md) is parsed with its page: MyST's {doc} role, the page's absolute name."""
    label = text or f"chapter {n}"
    if included:
        return f"{{doc}}`{label} </book/executed/{CHAPTER_DOCS[n]}>`"
    return f'<a href="{CHAPTER_DOCS[n]}.html">{label}</a>'


def pct(x: float, digits: int = 1) -> str:
    """A fraction as a percentage: 0.4125 → '41.2 %' ('n/a' for a missing value). One decimal
    is the book's precision for a percentage (more would claim a precision no study here has)."""
    if _missing(x):
        return "n/a"
    return f"{fixed(100 * float(x), digits)} %"


def pp(x: float, digits: int = 1, signed: bool = True) -> str:
    """A difference of fractions in percentage points, signed: 0.045 → '+4.5 pp'; unsigned
    (``signed=False``) for a size that has no direction (a smallest detectable difference)."""
    if _missing(x):
        return "n/a"
    return f"{fixed(100 * float(x), digits, signed)} pp"


def interval_pp(lo: float, hi: float, digits: int = 1) -> str:
    """An interval of differences in points, the unit once outside the brackets: '[−1.0, +8.0] pp'."""
    return f"[{_signed(100 * lo, digits)}, {_signed(100 * hi, digits)}] pp"


def interval_pct(lo: float, hi: float, digits: int = 1) -> str:
    """An interval of fractions in percent: '[30.0, 70.0] %', cut at the range of a share (0 to
    100 %): a Student-t interval over two seeds can reach past it ('[28.3, 113.0]' read as 'up to 100')."""
    lo, hi = max(float(lo), 0.0), min(float(hi), 1.0)
    return f"[{fixed(100 * lo, digits)}, {fixed(100 * hi, digits)}] %"


def estimate_pp(delta: float, lo: float, hi: float, digits: int = 1) -> str:
    """A difference and its interval, in points, the unit once: '−0.8 [−3.3, +1.6] pp'."""
    if _missing(delta):
        return "n/a"
    return f"{_signed(100 * delta, digits)} {interval_pp(lo, hi, digits)}"


def estimate_pct(x: float, lo: float, hi: float, digits: int = 1) -> str:
    """A fraction and its interval, in percent, the unit once: '41.2 [30.0, 52.4] %'."""
    if _missing(x):
        return "n/a"
    return f"{fixed(100 * x, digits)} {interval_pct(lo, hi, digits)}"


def rho(x: float, digits: int = 2) -> str:
    """A correlation (ρ, r, a cosine): a plain signed number in [−1, 1], two decimals: '−0.35'."""
    if _missing(x):
        return "n/a"
    return fixed(x, digits)


def estimate_rho(x: float, lo: float, hi: float, digits: int = 2) -> str:
    """A correlation and its interval: '0.12 [−0.35, 0.52]'; an interval outside [−1, 1] is an
    error (a correlation's interval cannot leave it: cmnet.report.stats.fisher_interval)."""
    if _missing(x):
        return "n/a"
    if not (-1 - 1e-9 <= lo <= hi <= 1 + 1e-9):
        raise ValueError(f"a correlation's interval must lie in [−1, 1], got [{lo}, {hi}]")
    return f"{rho(x, digits)} [{rho(lo, digits)}, {rho(hi, digits)}]"


def num(x: float, digits: int = 2) -> str:
    """A plain number, fixed digits, the book's minus, no '−0.00'; integers as integers."""
    import numbers

    if isinstance(x, numbers.Integral) and not isinstance(x, bool):
        return str(int(x)).replace("-", MINUS)
    return fixed(x, digits)


def integer(n) -> str:
    """A count: '480', '12,345' (a float that holds an integer is written as one; never '480.00')."""
    if _missing(n):
        return "n/a"
    if float(n) != int(float(n)):
        raise ValueError(f"a count must be a whole number, got {n!r}")
    return f"{int(float(n)):,}".replace("-", MINUS)


def p_value(p: float, digits: int = 3) -> str:
    """'p = 0.042'; below what ``digits`` can show, 'p < 0.001' (never 'p = 0.000')."""
    cell = p_cell(p, digits)
    return f"p {cell}" if cell.startswith("<") else f"p = {cell}"


def p_cell(p: float, digits: int = 3) -> str:
    """A p-value in a table's cell: '0.042', '< 0.001' (never '0.000'), '—' where there is none."""
    if _missing(p):
        return "—"
    floor = 10.0 ** -digits
    return f"< {floor:.{digits}f}" if p < floor / 2 else f"{float(p):.{digits}f}"


def count(n: int, noun: str, plural: str | None = None) -> str:
    """'1 seed', '2 seeds' (``plural`` where the noun's plural is not noun + 's'); never 'seed(s)'."""
    n = int(n)
    return f"{integer(n)} {noun if n == 1 else (plural or noun + 's')}"


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
    'A − B = +4.5 [−1.0, +8.0] pp; the paper's claim cannot be told from noise here
    (smallest difference this design detects at 80 % power: 7.0 pp).'"""
    words = WORDS.get(str(row["verdict"]), str(row["verdict"]).lower())
    mde = f" (smallest difference this design detects at 80 % power: {pp(row['mde'], signed=False)})" if "mde" in row else ""
    return f"{a} − {b} = {estimate_pp(row['delta'], row['lo'], row['hi'])}; the claim {words}{mde}."


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


# shown tables' columns in words: the names the library's data frames carry, as a reader reads them;
# any other snake_case name is written with spaces (``header``)
HEADERS = {"apex_position": "apex position (share of the clip)", "rho_prototype": "ρ(k, prototype)",
           "rho_truth": "ρ(k, truth)", "k_range": "k range", "rho_mean": "ρ, mean", "ci_low": "interval, low",
           "ci_high": "interval, high", "cos_view_own_clean": "cos(view, own clean frame)",
           "cos_view_other_clean": "cos(view, another clean frame)", "cos_view1_view2": "cos(view 1, view 2)",
           "false_positive_rate": "false positives", "mc_se": "± (Monte Carlo)",
           "mean_mde": "mean smallest detectable (pp)", "n_test": "test clips", "uf1": "UF1", "uar": "UAR",
           "f1_paper": "F1 (the paper's 2PR/(P+R))", "s_per_epoch": "seconds per epoch", "elapsed_s": "elapsed (s)",
           "remaining_s": "remaining (s)", "eta_s": "time left (s)", "n_seeds": "seeds"}
SNAKE = re.compile(r"^[A-Za-z0-9]+(_[A-Za-z0-9]+)+$")
P_COLUMN = re.compile(r"^p( \(.*\))?$")  # "p", "p (Holm)", "p (acc)": p-values, written by p_cell


def header(name) -> str:
    """A column's name as a shown table writes it: HEADERS' words, else the snake_case name with
    spaces; anything else as it is."""
    if not isinstance(name, str):
        return name
    if name in HEADERS:
        return HEADERS[name]
    return name.replace("_", " ") if SNAKE.match(name) else name


def cell_formats(t, percent=(), points=(), digits: int = 1) -> dict:
    """Per column of ``t`` the function that writes its cells: ``percent`` columns (fractions) by
    pct at one decimal at most, ``points`` columns (fractions) by pp (signed where the header says
    Δ or difference), p-value columns (named 'p' or 'p (…)') by p_cell, float columns that hold
    only whole numbers (a count read back as 480.0) as integers, other floats with ``digits``."""
    import pandas as pd

    fmt = {}
    for c in t.columns:
        name = c if isinstance(c, str) else " ".join(map(str, c))
        if c in percent:
            fmt[c] = lambda v: pct(v, min(digits, 1)) if pd.notna(v) else ""
        elif c in points:
            signed = "Δ" in name or "difference" in name.replace("smallest detectable difference", "")
            fmt[c] = lambda v, sg=signed: pp(v, min(digits, 1), signed=sg).removesuffix(" pp") if pd.notna(v) else ""
        elif P_COLUMN.match(name) and pd.api.types.is_numeric_dtype(t[c]):
            fmt[c] = lambda v: p_cell(v)
        elif pd.api.types.is_float_dtype(t[c]):
            finite = t[c].dropna()
            finite = finite[finite.map(math.isfinite)]
            if len(finite) and (finite == finite.round()).all() and (finite.abs() < 1e15).all():
                fmt[c] = lambda v: integer(v) if pd.notna(v) and math.isfinite(v) else ""
            else:
                fmt[c] = lambda v, d=digits: fixed(v, d) if pd.notna(v) else ""
    return fmt


def show(df, percent=(), digits: int = 1, index: bool = False, csv=None, rows: int | None = None, points=()):
    """A table as the book shows it: fractions in ``percent`` columns as percent (one decimal,
    one unit throughout), fractions in ``points`` columns in percentage points (the unit in the
    header: name them '… (pp)'), p-values as p_cell writes them, counts as integers, other floats
    to ``digits``; column names in words (``header``); no index column unless ``index``;
    ``rows``: only the first rows on the page, the whole table written to ``csv`` beside it (a
    link in the caption). Returns a pandas Styler (jupyter-book renders its HTML)."""
    t = df.reset_index() if index else df.copy()
    if csv is not None:
        from pathlib import Path

        Path(csv).parent.mkdir(parents=True, exist_ok=True)
        t.to_csv(csv, index=False)
    if rows is not None:
        t = t.head(rows)
    fmt = cell_formats(t, percent, points, digits)
    names = [header(c) for c in t.columns]
    if len(set(names)) == len(names):
        fmt = {header(c): f for c, f in fmt.items()}
        t.columns = names
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
