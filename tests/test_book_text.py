"""The book's text: no number typed by hand in a chapter's markdown (results are glued from the
computation; the papers' numbers and settings may be typed), and notebooks that hold narrative,
parameters and calls — no function or class defined in a chapter, no long code cell."""

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from cmnet.params import read_params
from cmnet.report.prose import count, glue_numbers, interval_pp, p_value, pct, pp, show, typed_numbers, verdict_sentence

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MAX_CODE_LINES = 15
CONVENTIONS = {95.0, 80.0}  # the levels of the book's intervals (95 %) and of its power (80 %)


def _papers_numbers() -> set[float]:
    """What may be typed: the papers' reported numbers and the paper's settings (params/base.yaml)."""
    paper = pd.read_csv(ROOT / "results" / "paper_numbers.csv")
    nums = set(CONVENTIONS) | set(pd.to_numeric(paper["value_percent"], errors="coerce").dropna().round(2))
    for v in read_params(ROOT / "params" / "base.yaml").values():
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            nums.add(float(v))
    return nums


def _markdown(path: Path) -> str:
    if path.suffix == ".md":
        return path.read_text()
    cells = json.loads(path.read_text())["cells"]
    return "\n\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


@pytest.mark.parametrize("path", NOTEBOOKS + [ROOT / "book" / "intro.md"], ids=lambda p: p.name)
def test_no_number_typed_by_hand(path):
    typed = typed_numbers(_markdown(path), _papers_numbers())
    assert not typed, f"{path.name}: numbers typed in the text (glue them from the computation):\n" + "\n".join(typed)


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_chapters_hold_calls_not_algorithms(nb):
    for c in json.loads(nb.read_text())["cells"]:
        if c["cell_type"] != "code":
            continue
        src = "".join(c["source"])
        assert not re.search(r"^\s*(async\s+)?(def|class)\s", src, re.M), \
            f"{nb.name}: a def or class in a chapter (move it into the library, with a test):\n{src[:200]}"
        lines = [ln for ln in src.splitlines() if ln.strip()]
        assert len(lines) <= MAX_CODE_LINES, f"{nb.name}: a code cell of {len(lines)} lines (≤ {MAX_CODE_LINES}):\n" \
                                             f"{src[:200]}"


def test_the_typed_number_finder():
    allowed = {78.05, 224.0}
    text = ("CMNet reaches {glue:text}`acc` here against 78.05 % in Table 3 (chapter 4; Eq. 8), at 224² "
            "in the 2023 paper; `seed 0`, $x_1 = 2$, L1, sub01, λ3, [a link](https://x.org/1.5).\n"
            "1. an item\n(ii) another")
    assert typed_numbers(text, allowed) == []
    found = typed_numbers("41.3 % of 48 subjects at 32², −4.5 pp", allowed)
    assert [f.split(" ")[0] for f in found] == ["41.3", "48", "32", "−4.5"]


def test_prose_formats_and_sentences(monkeypatch):
    assert pct(0.4125) == "41.2 %" and pct(float("nan")) == "n/a" and pp(-0.045) == "−4.5 pp"
    assert count(1, "seed") == "1 seed" and count(2, "seed") == "2 seeds" and count(3, "clip", "clips") == "3 clips"
    assert pp(0.07) == "+7.0 pp" and interval_pp(-0.01, 0.08) == "[−1.0, +8.0] pp"
    assert [p_value(x) for x in (0.0, 0.00049, 0.0005, 0.042, 1.0)] == ["p < 0.001", "p < 0.001", "p = 0.001",
                                                                        "p = 0.042", "p = 1.000"]
    row = {"delta": 0.045, "lo": -0.01, "hi": 0.10, "mde": 0.07, "verdict": "NOT_DISTINGUISHABLE"}
    s = verdict_sentence(row, "CMNet", "L_C")
    assert s == ("CMNet − L_C = +4.5 [−1.0, +10.0] pp; the claim cannot be told from noise here (smallest "
                 "difference this design detects at 80 % power: 7.0 pp).")
    glued = []
    monkeypatch.setattr("myst_nb.glue", lambda name, value, display=True: glued.append((name, value, display)))
    assert glue_numbers(acc=pct(0.5), n=48) == {"acc": "50.0 %", "n": "48"}
    assert glued == [("acc", "50.0 %", False), ("n", "48", False)]
    # ending a cell, the returned strings show nothing (IPython calls _ipython_display_ instead of the repr)
    assert glue_numbers(acc="x")._ipython_display_() is None


def test_show_gives_percent_no_index_and_writes_the_whole_table(tmp_path):
    df = pd.DataFrame({"row": ["a", "b", "c"], "accuracy": [0.4125, 0.5, float("nan")], "rho": [0.12345, 1.0, 2.0]})
    html = show(df, percent=("accuracy",), digits=2, csv=tmp_path / "t.csv", rows=2).to_html()
    assert "41.2 %" in html and "50.0 %" in html and "0.12" in html and ">c<" not in html  # percent: one decimal
    assert "<th class=\"blank level0\"" not in html  # no index column
    assert len(pd.read_csv(tmp_path / "t.csv")) == 3
    assert "white-space: nowrap" in html and 'class="dataframe"' in html and "padding" in html


def test_chapter_references_name_every_chapters_page():
    """The library's links to chapters (cmnet.report.prose.chapter_ref) know every notebook's page,
    and write MyST's {doc} role with the absolute page name (it resolves inside glued markdown)."""
    from cmnet.report.prose import CHAPTER_DOCS, chapter_ref

    assert sorted(CHAPTER_DOCS.values()) == [p.stem for p in NOTEBOOKS]
    assert all(int(name[:2]) == n for n, name in CHAPTER_DOCS.items())
    assert chapter_ref(9) == '<a href="09_claims.html">chapter 9</a>'  # glued markdown: an anchor to the sibling page
    assert chapter_ref(9, included=True) == "{doc}`chapter 9 </book/executed/09_claims>`"  # the intro's include
    assert chapter_ref(4, "the test above") == '<a href="04_train_cmnet.html">the test above</a>'
