"""The book: notebook conventions, parameters against the config, and every notebook
executed with the smoke profile (papermill, in a temporary folder) and built into HTML."""

import json
from pathlib import Path

import papermill as pm
import pytest

from cmnet.config import Config

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_there_are_eleven_chapters_a_summary_and_a_conclusion():
    assert [n.name[:2] for n in NOTEBOOKS] == ["00", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11",
                                              "12"]
    assert NOTEBOOKS[0].name == "00_summary.ipynb" and NOTEBOOKS[-1].name == "12_conclusion.ipynb"


def test_the_summary_is_executed_last_and_placed_after_the_introduction():
    """00_summary reads what the chapters computed (chapter 7's plain classifier): executed after
    them; _toc.yml puts it right after the introduction, unnumbered, and numbers the chapters so
    that the sidebar's numbers are the text's ("chapter 9" is the ninth), the conclusion 12."""
    import yaml

    from cmnet.book import execution_order

    order = [n.name for n in execution_order(NOTEBOOKS)]
    assert order[-1] == "00_summary.ipynb" and order[:-1] == [n.name for n in NOTEBOOKS[1:]]
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    first, numbered = toc["parts"][0], [p for p in toc["parts"] if p.get("numbered")]
    assert [c["file"] for c in first["chapters"]] == ["book/executed/00_summary"] and not first.get("numbered")
    assert len(numbered) == 1 and [c["file"].rsplit("/", 1)[1][:2] for c in numbered[0]["chapters"]] == \
        [f"{i:02d}" for i in range(1, 13)]
    assert "book/glossary" in (ROOT / "_toc.yml").read_text() and (ROOT / "book" / "glossary.md").is_file()


def test_no_book_page_points_outside_the_repository():
    for page in sorted((ROOT / "book").glob("*.md")):
        assert "../shared" not in page.read_text() and "shared/" not in page.read_text(), page.name


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_conventions_and_parameters(nb):
    data = json.loads(nb.read_text())
    cells = data["cells"]
    assert cells[0]["cell_type"] == "markdown" and "".join(cells[0]["source"]).startswith("# ")
    assert "Reads:" in "".join(cells[0]["source"]) and "Writes:" in "".join(cells[0]["source"])
    for c in cells:
        assert c.get("id"), f"{nb.name}: a cell without an id (nbformat 4.5)"
        if c["cell_type"] == "code":
            assert not c.get("outputs") and c.get("execution_count") is None, f"{nb.name} is stored with outputs"
            assert "sys.path" not in "".join(c["source"])
    params = pm.inspect_notebook(str(nb))
    assert params, f"{nb.name} has no parameters cell"
    allowed = set(Config.key_index()) | {"profile"}
    assert set(params) <= allowed, f"{nb.name}: parameters {set(params) - allowed} are not config keys"
    for p in params.values():
        assert p["help"], f"{nb.name}: parameter {p['name']} has no comment"


def test_toc_lists_every_chapter():
    toc = (ROOT / "_toc.yml").read_text()
    for nb in NOTEBOOKS:
        assert f"book/executed/{nb.stem}" in toc
    assert "book/executed/status" in toc


def _clone(dest: Path) -> Path:
    """A fresh clone of the working tree as it is (tracked and untracked files that git does
    not ignore, modification times kept), committed, so that `git status` is clean."""
    import shutil
    import subprocess

    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for f in filter(None, files):
        if (ROOT / f).is_file():
            (dest / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / f, dest / f)
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@localhost"]
    subprocess.run(["git", "init", "-q"], cwd=dest, check=True)
    subprocess.run(git + ["add", "-A"], cwd=dest, check=True)
    subprocess.run(git + ["commit", "-qm", "clone"], cwd=dest, check=True)
    return dest


def test_make_book_in_a_fresh_clone_leaves_it_clean(tmp_path):
    """The README's main command, `make book`, on a fresh clone: every chapter executes with
    the smoke profile into the profile's build folder, the HTML builds there, and `git status`
    stays clean (the published chapters and results/ are not touched)."""
    import subprocess
    import sys

    clone = _clone(tmp_path / "clone")
    venv = Path(sys.executable).parent.parent
    r = subprocess.run(["make", "book", "PROFILE=smoke", f"VENV={venv}", "-o", f"{venv}/.installed"], cwd=clone,
                       capture_output=True, text=True, timeout=1200)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    status = subprocess.run(["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True).stdout
    assert status == "", f"make book changed the clone:\n{status}"
    src = clone / "_build" / "profiles" / "smoke"
    out = src / "book" / "executed"
    timings = json.loads((out / "timings.json").read_text())
    from cmnet.book import STUDIES_ROW

    from cmnet.book import execution_order

    assert [t["notebook"] for t in timings["timings"]] == [STUDIES_ROW] + [n.name for n in execution_order(NOTEBOOKS)]
    for nb in NOTEBOOKS:
        cells = json.loads((out / nb.name).read_text())["cells"]
        code = [c for c in cells if c["cell_type"] == "code"]
        errors = [o for c in code for o in c.get("outputs", []) if o["output_type"] == "error"]
        assert not errors, f"{nb.name}: {errors[:1]}"
        assert any(c.get("outputs") for c in code)
        text = "".join(str(o.get("text", "")) for c in code for o in c.get("outputs", []))
        assert "TqdmWarning" not in text and "IProgress" not in text, f"{nb.name}: a tqdm widget warning"
        assert "%|" not in text, f"{nb.name}: a progress bar in the chapter"
        assert " fold " not in text or "clips  acc" not in text, f"{nb.name}: fold logs in the chapter"
        tags = [t for c in code for t in c["metadata"].get("tags", [])]
        assert "remove-cell" in tags and "hide-cell" in tags, f"{nb.name}: parameter cells not tagged"
        for c in code:  # every figure has a caption, and a captioned cell shows no table (it would be captioned too)
            outs = c.get("outputs", [])
            captioned = c["metadata"].get("mystnb", {}).get("figure", {}).get("caption")
            if any("image/png" in o.get("data", {}) for o in outs):
                assert captioned, f"{nb.name}: a figure without a caption: {''.join(c['source'])[:80]}"
                alt = c["metadata"]["mystnb"].get("image", {}).get("alt", "")  # what a screen reader says
                assert len(alt) > 20 and not any(m in alt for m in "`*{"), f"{nb.name}: no alt text: {alt!r}"
            if captioned:
                assert not any("text/html" in o.get("data", {}) for o in outs), \
                    f"{nb.name}: a table inside a captioned figure cell: {''.join(c['source'])[:80]}"
                assert any("image/png" in o.get("data", {}) for o in outs), \
                    f"{nb.name}: a captioned figure cell shows no figure: {''.join(c['source'])[:80]}"
    # the study tables went to the build folder, not to the repository's results/
    assert any((src / "results").glob("smoke-*")) and not any((clone / "results").glob("smoke-*"))
    assert (out / "headline.png").is_file() and "fig-headline" in (out / "headline.md").read_text()
    assert ":alt: Pooled accuracy" in (out / "headline.md").read_text()  # a screen reader gets words, not the file name
    html = src / "_build" / "html"
    assert "Reproduced here" in (html / "book" / "executed" / "07_results.html").read_text()
    intro = (html / "book" / "intro.html").read_text()
    assert "headline.png" in intro and "verdict" in intro and "smallest detectable difference" in intro
    assert "What this edition finds" in intro and "the GPU profile" in intro  # the findings, the departures table
    # the paper's difference for CMNet against its L_C baseline (78.05 − 63.82 = 14.23), from
    # results/paper_numbers.csv, at the book's precision and signed like ours
    assert "+14.2" in intro and "14.23" not in intro and "70.24" not in intro
    # the Table 1 pivot in the paper's order: CASME II, SAMM, SMIC-HS
    t7 = (html / "book" / "executed" / "07_results.html").read_text()
    assert t7.index("CASME II") < t7.index("SAMM") < t7.index("SMIC-HS")
    # chapter 10 (beyond the paper) runs on the same artifacts: only its new variant trains
    cells10 = json.loads((out / "10_beyond_the_paper.ipynb").read_text())["cells"]
    text10 = "".join(str(o.get("text", "")) + "".join(str(v) for v in o.get("data", {}).values())
                     for c in cells10 if c["cell_type"] == "code" for o in c.get("outputs", []))  # tables are HTML
    assert "ORACLE acc" in text10 and "ρ(k, truth)" in text10 and "gain over the bump" in text10
    assert "probabilistic) above MMNet" in text10 and "Holm's correction over the" in text10
    assert "Near chance" in text10 and "not a bug" in text10  # the held-out rows near chance, with their reason
    assert "CMNet, repaired, order-aware" in text10
    html10 = (html / "book" / "executed" / "10_beyond_the_paper.html").read_text()
    assert "ORACLE acc" in html10 and "Figure 5(b) again, with the order-aware loss" in html10

def test_publish_replaces_the_committed_chapters_and_tables(tmp_path):
    from cmnet.book import build_folder, publish

    root = tmp_path
    (root / "notebooks").mkdir()
    for n in ("01_a.ipynb", "02_b.ipynb"):
        (root / "notebooks" / n).write_text("{}")
    pub = root / "book" / "executed"
    pub.mkdir(parents=True)
    (pub / "01_a.ipynb").write_text("old")
    (pub / "timings.json").write_text(json.dumps({"profile": "cpu"}))
    (root / "results" / "cpu-cmnet").mkdir(parents=True)
    (root / "results" / "paper_numbers.csv").write_text("kept")
    src = build_folder("smoke", root)
    (src / "book" / "executed").mkdir(parents=True)
    (src / "book" / "executed" / "01_a.ipynb").write_text("new a")
    with pytest.raises(RuntimeError, match="does not hold every chapter"):
        publish("smoke", root)
    (src / "book" / "executed" / "02_b.ipynb").write_text("new b")
    (src / "book" / "executed" / "timings.json").write_text(json.dumps({"profile": "smoke"}))
    (src / "results" / "smoke-cmnet").mkdir(parents=True)
    (src / "results" / "smoke-cmnet" / "summary.json").write_text("{}")
    publish("smoke", root)
    assert (pub / "01_a.ipynb").read_text() == "new a" and (pub / "02_b.ipynb").read_text() == "new b"
    assert json.loads((pub / "timings.json").read_text())["profile"] == "smoke"
    assert (root / "results" / "smoke-cmnet" / "summary.json").is_file()
    assert not (root / "results" / "cpu-cmnet").exists()  # the previous profile's tables go with its chapters
    assert (root / "results" / "paper_numbers.csv").read_text() == "kept"


def test_paper_table1_is_in_the_papers_order():
    from cmnet.report.paper import paper_numbers, paper_table1

    t = paper_table1(paper_numbers(ROOT / "results" / "paper_numbers.csv"))
    assert list(t.columns) == [("CASME II", "Acc"), ("CASME II", "F1"), ("SAMM", "Acc"), ("SAMM", "F1"),
                               ("SMIC-HS", "Acc"), ("SMIC-HS", "F1")]
    assert t.index[-1] == "CMNet" and t.loc["CMNet", ("SMIC-HS", "F1")] == pytest.approx(80.11)
    assert t.loc["CMNet", ("CASME II", "Acc")] == pytest.approx(78.05)


def test_headline_and_intro(tmp_path):
    """The introduction says what the book is and where to start (the summary, the conclusion,
    the glossary) before the headline's findings (included from book/executed/headline.md, which
    the committed book has); its "chapter N" are links."""
    import re

    intro = (ROOT / "book" / "intro.md").read_text()
    assert intro.index("This book reproduces") < intro.index("Where to start") < \
        intro.index("{include} executed/headline.md")
    for page in ("executed/00_summary", "executed/12_conclusion", "glossary"):
        assert f"<{page}>`" in intro
    assert not re.findall(r"(?<![`<])chapter \d+(?![^`]*>`)", intro)  # every "chapter N" inside a {doc} link
    assert (ROOT / "book" / "executed" / "headline.md").is_file()


def test_side_by_side_puts_the_papers_columns_in_its_order():
    from cmnet.report.paper import paper_numbers, side_by_side

    stat = {"mean": 0.5, "std": 0.1, "ci_low": 0.3, "ci_high": 0.7, "n": 3}
    summary = {"summary": {k: stat for k in ("pooled_accuracy", "pooled_uf1", "pooled_f1_paper", "fold_mean_accuracy",
                                             "fold_mean_f1_paper")}, "n_seeds": 3}
    t = side_by_side({"CMNet": (summary, 'table == "Table 1" and method == "CMNet"')},
                     paper_numbers(ROOT / "results" / "paper_numbers.csv"), "synthme", "LOSO")
    paper_cols = [c for c in t.columns if c.startswith("paper")]
    assert paper_cols == ["paper Acc CASME II", "paper F1 CASME II", "paper Acc SAMM", "paper F1 SAMM",
                          "paper Acc SMIC-HS", "paper F1 SMIC-HS"]
    assert t.loc["CMNet", "paper F1 SMIC-HS"] == pytest.approx(80.11) and t.loc["CMNet", "acc 95% CI"] == "[30.0, 70.0]"


def test_the_published_book_builds_and_reads_cleanly(tmp_path, monkeypatch):
    """The committed chapters (book/executed/, refreshed only by `cmnet book --publish`)
    carry the book's cell tags and figure captions, hold every chapter, and build."""
    from cmnet.book import PUBLISHED, build_book, prepare_source

    monkeypatch.chdir(ROOT)
    pub = ROOT / PUBLISHED
    assert sorted(p.name for p in pub.glob("[0-9][0-9]_*.ipynb")) == [n.name for n in NOTEBOOKS]
    profile = json.loads((pub / "timings.json").read_text())["profile"]
    for nb in NOTEBOOKS:
        code = [c for c in json.loads((pub / nb.name).read_text())["cells"] if c["cell_type"] == "code"]
        tags = [t for c in code for t in c["metadata"].get("tags", [])]
        assert "remove-cell" in tags and "hide-cell" in tags, f"{nb.name}: published without the book's tags"
        for c in code:
            if any("image/png" in o.get("data", {}) for o in c.get("outputs", [])):
                assert c["metadata"].get("mystnb", {}).get("figure", {}).get("caption"), f"{nb.name}: uncaptioned"
        text = "".join(str(o.get("text", "")) for c in code for o in c.get("outputs", []))
        assert "%|" not in text and "TqdmWarning" not in text, f"{nb.name}: a progress bar or tqdm warning"
    assert f"profile **{profile}**" in (pub / "status.md").read_text()
    src = prepare_source(tmp_path / "src")
    import shutil

    shutil.copytree(pub, src / PUBLISHED)
    index = build_book(src)
    assert index.is_file()
    intro = (src / "_build" / "html" / "book" / "intro.html").read_text()
    assert "headline.png" in intro and "holds here" in intro


def test_the_book_trains_every_study_in_one_submission_first(monkeypatch):
    """Before the chapters, `cmnet book` hands every variant the chapters show to the executor at once
    (so two workers never wait on one chapter's last fold); its time is a row of the status page."""
    import cmnet.study.run as run
    from cmnet.book import STUDIES_ROW, train_studies
    from cmnet.variants import BOOK_VARIANTS, CONTROLS

    calls = []
    monkeypatch.setattr(run, "run_variants", lambda profile, variants, progress=True, **dirs: calls.append(
        (profile, variants, dirs)) or {})
    row = train_studies("smoke", progress=False, runs_dir="r", results_dir="t", cache_dir="c", data_dir="d")
    assert calls == [("smoke", list(BOOK_VARIANTS), {"runs_dir": "r", "results_dir": "t", "cache_dir": "c", "data_dir": "d"})]
    assert not set(CONTROLS) & set(BOOK_VARIANTS) and "cmnet" in BOOK_VARIANTS  # the controls: profiles of their own
    assert row["notebook"] == STUDIES_ROW and row["seconds"] >= 0


def test_the_status_page_names_the_commit_and_says_whether_the_code_changed(tmp_path):
    """code_since: a throwaway git repository — unchanged, a changed module named, a commit outside
    the history, a folder that is no checkout; write_status names the commit and includes the note."""
    import json
    import subprocess

    from cmnet.book import CODE_SINCE, code_since, write_status

    repo = tmp_path / "repo"
    (repo / "cmnet").mkdir(parents=True)

    def git(*a):
        subprocess.run(["git", "-C", str(repo), *a], check=True, capture_output=True)

    (repo / "cmnet" / "a.py").write_text("x = 1\n")
    (repo / "README.md").write_text("r\n")
    git("init", "-q")
    git("-c", "user.email=a@b", "-c", "user.name=a", "add", ".")
    git("-c", "user.email=a@b", "-c", "user.name=a", "commit", "-qm", "one")
    sha = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    assert "are as they were" in code_since(sha, repo)
    (repo / "README.md").write_text("s\n")  # outside cmnet/, notebooks/, params/: not code
    assert "are as they were" in code_since(sha, repo)
    (repo / "cmnet" / "a.py").write_text("x = 2\n")
    s = code_since(sha, repo)
    assert s.startswith("**The code has changed since") and "1 files" in s and "`cmnet/a.py`" in s
    assert "is not in this checkout's history" in code_since("0" * 40, repo)
    (tmp_path / "plain").mkdir()
    assert "not a git checkout" in code_since(sha, tmp_path / "plain")
    page = tmp_path / "status.md"
    write_status(page, "smoke", [{"notebook": "01_explore_data.ipynb", "seconds": 1.0}])
    env = json.loads((tmp_path / "timings.json").read_text())["env"]
    assert f"at commit `{str(env['git_commit'])[:12]}`" in page.read_text()
    assert f"```{{include}} {CODE_SINCE}\n```" in page.read_text()
