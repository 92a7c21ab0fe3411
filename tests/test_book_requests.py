"""`cmnet book` requests that cannot do anything (issue 35): --build-only where no chapter was
executed (a fresh clone: jupyter-book's 60-line log), --build-only with --no-build (exit 0, nothing)."""

import shutil
from pathlib import Path

from cmnet.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _fresh(tmp_path):
    for name in ("params", "notebooks", "book", "_static"):
        shutil.copytree(ROOT / name, tmp_path / name)
    for name in ("_config.yml", "_toc.yml", "references.bib"):
        shutil.copy2(ROOT / name, tmp_path / name)
    return tmp_path


def test_book_requests_that_do_nothing_are_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(_fresh(tmp_path))
    assert main(["book", "--build-only"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    chapters = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))  # the summary (00) and chapters 1-12
    assert err == [f"error: --build-only: _build/profiles/smoke/book/executed holds no executed {chapters[0].name} "
                   f"({len(chapters)} chapters missing): execute them first, cmnet book --profile smoke (--no-build to "
                   "execute only)"]
    assert not (tmp_path / "_build" / "profiles" / "smoke" / "_build").exists()  # jupyter-book never started
    assert main(["book", "--build-only", "--no-build"]) == 1
    assert capsys.readouterr().err.strip() == "error: --build-only with --no-build does nothing: drop one of them"
