"""The book's numbers as text: one formatter per kind (fractions in, the book's minus out, never
'−0.0'), used by every table and sentence — the words (cmnet.report.prose) and the statistics'
verdict cells (cmnet.statistics) alike. A leaf: it imports nothing of cmnet.

    pct(0.412) → "41.2 %"                  estimate_pct(0.41, 0.30, 0.52) → "41.0 [30.0, 52.0] %"
    pp(0.045) → "+4.5 pp"                  estimate_pp(-0.008, -0.033, 0.016) → "−0.8 [−3.3, +1.6] pp"
    pp(0.061, signed=False) → "6.1 pp"     interval_pp(-0.01, 0.08) → "[−1.0, +8.0] pp"
    rho(0.123) → "0.12"                    estimate_rho(0.12, -0.35, 0.52) → "0.12 [−0.35, 0.52]"
    estimate_diff(0.29, 0.26, 0.32) → "+0.29 [+0.26, +0.32]"  (a difference in its measure's unit)
    integer(480.0) → "480"                 count(2, "seed") → "2 seeds"
    p_value(0.0001) → "p < 0.001"          p_cell(0.042) → "0.042" (a table's cell)
    fixed(-0.001, 2) → "0.00"              num(3) → "3"
"""

from __future__ import annotations

import math

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
    error (a correlation's interval cannot leave it: cmnet.statistics.stats.fisher_interval)."""
    if _missing(x):
        return "n/a"
    if not (-1 - 1e-9 <= lo <= hi <= 1 + 1e-9):
        raise ValueError(f"a correlation's interval must lie in [−1, 1], got [{lo}, {hi}]")
    return f"{rho(x, digits)} [{rho(lo, digits)}, {rho(hi, digits)}]"


def estimate_diff(x: float, lo: float, hi: float, digits: int = 2) -> str:
    """A difference in its measure's own unit (of correlations, of frames) and its interval, every
    bound signed: '+0.29 [+0.26, +0.32]' (a difference of two ρ can leave [−1, 1]: not estimate_rho)."""
    if _missing(x):
        return "n/a"
    return f"{_signed(x, digits)} [{_signed(lo, digits)}, {_signed(hi, digits)}]"


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
