"""The book's sentences from the computation: every number formatted by cmnet.formats and
put into markdown with myst-nb's ``glue`` so that no number in a chapter's text is typed by hand.

    glue_numbers(pct_acc=pct(0.412), n_subjects=48)   each value glued as text under its name;
                                                      a chapter's markdown reads {glue:text}`pct_acc`

The numbers are formatted by cmnet.formats, one formatter per kind (pct, pp, estimate_pp,
estimate_pct, rho, estimate_rho, estimate_diff, integer, count, p_value, p_cell, fixed, num: re-exported here);
this module builds the words around them:

    header("rho_prototype") → "ρ(k, prototype)"   a shown table's column in words (HEADERS)
    verdict_sentence(row)      one sentence from a verdict row (cmnet.statistics.verdicts.compare + verdict)
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

from ..formats import (count, estimate_diff, estimate_pct, estimate_pp, estimate_rho, fixed, integer,  # noqa: F401
                       interval_pct, interval_pp, num, p_cell, p_value, pct, pp, rho)


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
           "remaining_s": "remaining (s)", "eta_s": "time left (s)", "n_seeds": "seeds",
           "cos_view_other_view": "cos(view, another view)", "cos_clean_other_clean": "cos(clean frame, another clean frame)",
           "own_minus_other": "cos own − cos other", "k_std_within_clip": "k's std within a clip"}
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


def label(name) -> str:
    """A row's name as a shown table writes it: a measure in HEADERS' words, a variant by its label
    (cmnet.variants.LABELS), anything else as ``header`` writes it. A name the reader types (a
    setting, a variant on the command line) is shown as code instead: ``show(..., code=…)``."""
    from ..variants import LABELS

    if isinstance(name, str) and name in LABELS and name not in HEADERS:
        return LABELS[name]
    return header(name)


def cell_formats(t, percent=(), points=(), digits: int = 1) -> dict:
    """Per column of ``t`` the function that writes its cells: ``percent`` columns (fractions) by
    pct at one decimal at most, ``points`` columns (fractions) by pp (signed where the header says
    Δ or difference), p-value columns (named 'p' or 'p (…)') by p_cell, float columns that hold
    only whole numbers (a count read back as 480.0) and integer columns as counts ('11,405,390'), other floats with ``digits`` (signed
    in a Δ column)."""
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
        elif pd.api.types.is_integer_dtype(t[c]) and not pd.api.types.is_bool_dtype(t[c]):
            fmt[c] = integer  # a count: '11,405,390', as every count in the text
        elif pd.api.types.is_float_dtype(t[c]):
            finite = t[c].dropna()
            finite = finite[finite.map(math.isfinite)]
            if len(finite) and (finite == finite.round()).all() and (finite.abs() < 1e15).all():
                fmt[c] = lambda v: integer(v) if pd.notna(v) and math.isfinite(v) else ""
            else:  # a difference (a Δ column) carries its sign: "+0.7", as in the sentences
                fmt[c] = lambda v, d=digits, sg="Δ" in name: fixed(v, d, signed=sg) if pd.notna(v) else ""
    return fmt


def show(df, percent=(), digits: int = 1, index: bool = False, csv=None, rows: int | None = None, points=(),
         code=()):
    """A table as the book shows it: fractions in ``percent`` columns as percent (one decimal,
    one unit throughout), fractions in ``points`` columns in percentage points (the unit in the
    header: name them '… (pp)'), p-values as p_cell writes them, counts as integers, other floats
    to ``digits``; column names in words (``header``); no index column unless ``index``;
    ``rows``: only the first rows on the page, the whole table written to ``csv`` beside it (a
    link in the caption); ``code``: columns of names the reader types (settings, variants), set
    as code. Returns a pandas Styler (jupyter-book renders its HTML)."""
    t = df.reset_index() if index else df.copy()
    if csv is not None:
        from pathlib import Path

        Path(csv).parent.mkdir(parents=True, exist_ok=True)
        t.to_csv(csv, index=False)
    if rows is not None:
        t = t.head(rows)
    fmt = cell_formats(t, percent, points, digits)
    fmt |= {c: (lambda v: f"<code>{v}</code>") for c in code if c in t.columns}
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


def describe_table(table):
    """``table.describe()`` a row per column of ``table``, as the page writes it: a row whose
    values are whole numbers (frame counts) keeps its count, minimum, quartiles and maximum as
    integers ('24', not '24.00'), its mean and std at two decimals; any other row at two decimals."""
    import pandas as pd

    d = table.describe().T
    rows = []
    for name, r in d.iterrows():
        whole = bool((table[name].dropna() == table[name].dropna().round()).all())
        cell = {k: (integer(v) if (whole or k == "count") and float(v).is_integer() else fixed(v, 2))
                for k, v in r.items() if k not in ("mean", "std")}
        rows.append({"per clip": name, "count": cell["count"], "mean": fixed(r["mean"], 2), "std": fixed(r["std"], 2),
                     **{k: cell[k] for k in ("min", "25%", "50%", "75%", "max")}})
    return pd.DataFrame(rows)
