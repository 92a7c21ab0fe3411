"""The book: notebook conventions, parameters against the config, and every notebook
executed with the smoke profile (papermill, in a temporary folder) and built into HTML."""

import json
from pathlib import Path

import papermill as pm
import pytest

from cmnet.config import Config

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_there_are_nine_chapters():
    assert [n.name[:2] for n in NOTEBOOKS] == ["01", "02", "03", "04", "05", "06", "07", "08", "09"]


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_conventions_and_parameters(nb):
    data = json.loads(nb.read_text())
    cells = data["cells"]
    assert cells[0]["cell_type"] == "markdown" and "".join(cells[0]["source"]).startswith("# ")
    assert "Reads:" in "".join(cells[0]["source"]) and "Writes:" in "".join(cells[0]["source"])
    for c in cells:
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


def test_smoke_book_executes_and_builds(tmp_path, monkeypatch):
    from cmnet.book import build_in, execute_notebooks

    monkeypatch.chdir(ROOT)
    out = tmp_path / "executed"
    timings = execute_notebooks("smoke", out, runs_dir=str(tmp_path / "runs"), results_dir=str(tmp_path / "results"),
                                cache_dir=str(tmp_path / "cache"), data_dir=str(tmp_path / "data"), progress=False)
    assert [t["notebook"] for t in timings] == [n.name for n in NOTEBOOKS]
    for nb in NOTEBOOKS:
        cells = json.loads((out / nb.name).read_text())["cells"]
        errors = [o for c in cells if c["cell_type"] == "code" for o in c.get("outputs", []) if o["output_type"] == "error"]
        assert not errors, f"{nb.name}: {errors[:1]}"
        assert any(c.get("outputs") for c in cells if c["cell_type"] == "code")
    # figures and tables are there
    results = json.loads((out / "07_results.ipynb").read_text())
    outs = [o for c in results["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
    assert any("image/png" in o.get("data", {}) for o in outs) and any("text/html" in o.get("data", {}) for o in outs)
    assert "Run time of every notebook" in (out / "status.md").read_text()
    # nothing was written into the repository's results/
    assert not any((ROOT / "results").glob("smoke-*"))
    build = tmp_path / "build"
    build.mkdir()
    index = build_in(build, out)
    assert index.is_file()
    html = (build / "_build" / "html" / "book" / "executed" / "07_results.html").read_text()
    assert "Reproduced here" in html and "<img" in html
