"""Rerun the whole study headlessly and build the book — without touching the published one.

    cmnet book --profile smoke            # executes notebooks/*.ipynb into _build/profiles/smoke/,
                                          # tables into _build/profiles/smoke/results/, builds its HTML
    cmnet book --profile cpu --publish    # the same, then copies the chapters into book/executed/ and
                                          # the tables into results/ (the committed book), builds _build/html
    cmnet book --published                # builds the committed book as it is into _build/html

A profile's build folder ``_build/profiles/<profile>/`` is a complete book source (the
config, the table of contents, the introduction, the executed chapters, their status page
and result tables); nothing tracked by git changes unless ``--publish`` is given. Fold
artifacts go to ``runs/`` (shared by all builds: finished folds are reused), clips to
``cache/``, SynthME to ``data/`` — all ignored by git.

Each notebook is executed by papermill with the profile and the folders as parameters;
the run time of each goes to the status page with the environment. A failing notebook
stops the run with its name (the executed copy, with the error, is kept). The executed
copies get the cell tags the book reads (the injected parameters collapsed, the default
parameters removed). The book is built with jupyter-book 1.x, failing on any warning.
"""

from __future__ import annotations

import json
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .book_pages import write_departures, write_headline
from .runs.layout import FOLDS_TABLE

NOTEBOOKS = Path("notebooks")
PUBLISHED = Path("book/executed")
PUBLISHED_RESULTS = Path("results")
# what a book source holds besides its executed chapters (copied from the repository)
SOURCE_FILES = ("_config.yml", "_toc.yml", "_static", "book/intro.md", "book/glossary.md", "book/references.md",
                "references.bib")
# the status page's note on the code since the chapters were executed (written by build_book; not committed)
CODE_SINCE = "code_since.md"
CODE_PATHS = ("cmnet", "notebooks", "params")
# notebooks that read what every other chapter computed (the reproducibility summary, placed after
# the introduction in _toc.yml): executed after the others whatever their number
EXECUTED_LAST = ("00_summary.ipynb",)
# the chapters' files that --publish replaces in book/executed/
CHAPTER_PATTERNS = ("[0-9][0-9]_*.ipynb", "status.md", "timings.json", "headline.md", "headline.png",
                    "departures.md")


def check_profile(profile: str, params_dir: str | Path = "params") -> None:
    """ValueError unless ``profile`` names a profile of ``params_dir`` (a plain name, as
    cmnet.variants.check_profile_name reads it, whose file exists)."""
    import re

    from .variants import PROFILE_NAME, profile_names

    names = profile_names(params_dir)
    if not re.fullmatch(PROFILE_NAME, profile) or profile not in names:
        raise ValueError(f"--profile {profile!r}: not a profile; give the name of a file in {params_dir}/ "
                         f"({', '.join(names)}), not a path")


def build_folder(profile: str, root: str | Path = ".") -> Path:
    """Where ``cmnet book --profile P`` writes: a book source of its own."""
    return Path(root) / "_build" / "profiles" / profile


def notebook_parameters(profile: str, runs_dir: str, results_dir: str, cache_dir: str, data_dir: str) -> dict:
    return {"profile": profile, "runs_dir": runs_dir, "results_dir": results_dir, "cache_dir": cache_dir,
            "data_dir": data_dir}


def tag_for_book(path: Path) -> None:
    """Cell tags of an executed chapter for jupyter-book: the default parameters cell is
    removed (papermill's injected cell, right after it, says what was run, collapsed), so
    is the folder plumbing; the imports are collapsed."""
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    for i, c in enumerate(code):
        tags = c.setdefault("metadata", {}).setdefault("tags", [])
        src = "".join(c["source"])
        add = []
        if "parameters" in tags or src.startswith("dirs = dict("):
            add = ["remove-cell"]
        elif "injected-parameters" in tags:
            add = ["hide-cell"]
        elif i == 0:
            add = ["hide-input"]
        tags += [t for t in add if t not in tags]
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


def execution_order(notebooks) -> list[Path]:
    """The notebooks in the order they are executed: by name, those of EXECUTED_LAST at the end
    (the summary reads the plain classifier that chapter 7 computes, and every other study)."""
    nbs = sorted(notebooks, key=lambda p: Path(p).name)
    return [n for n in nbs if Path(n).name not in EXECUTED_LAST] + [n for n in nbs if Path(n).name in EXECUTED_LAST]


def execute_notebooks(profile: str = "smoke", out_dir: str | Path | None = None, runs_dir: str = "runs",
                      results_dir: str | None = None, cache_dir: str = "cache", data_dir: str = "data",
                      only: list[str] | None = None, progress: bool = True) -> list[dict]:
    """Execute the chapters for ``profile`` into ``out_dir`` (default: the profile's build
    folder) with the study tables in ``results_dir`` (default: beside them)."""
    import papermill as pm

    src = build_folder(profile)
    out_dir = Path(out_dir) if out_dir is not None else src / PUBLISHED
    results_dir = results_dir if results_dir is not None else str(src / PUBLISHED_RESULTS)
    out_dir.mkdir(parents=True, exist_ok=True)
    nbs = execution_order(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if only:
        nbs = [n for n in nbs if any(n.name.startswith(o) for o in only)]
        if not nbs:
            raise ValueError(f"--only {' '.join(only)} matches no notebook in {NOTEBOOKS}/")
    params = notebook_parameters(profile, runs_dir, results_dir, cache_dir, data_dir)
    timings = []
    if not only:  # every study the chapters show, trained in one submission: the workers stay busy across them
        timings.append(train_studies(profile, progress, runs_dir=runs_dir, results_dir=results_dir,
                                     cache_dir=cache_dir, data_dir=data_dir))
    for k, nb in enumerate(nbs, 1):
        t0 = time.perf_counter()
        if progress:
            print(f"[{k}/{len(nbs)}] executing {nb.name} (profile {profile}) …", flush=True)
        try:
            pm.execute_notebook(str(nb), str(out_dir / nb.name), parameters=params, kernel_name="python3",
                                progress_bar=False, cwd=str(Path.cwd()))
        except Exception as e:
            raise RuntimeError(f"notebook {nb.name} failed (executed copy with the error: {out_dir / nb.name}): "
                               f"{str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
        tag_for_book(out_dir / nb.name)
        dt = time.perf_counter() - t0
        timings.append({"notebook": nb.name, "seconds": round(dt, 1)})
        if progress:
            print(f"  {nb.name}: {dt:.1f} s", flush=True)
    if only and (out_dir / "timings.json").is_file():  # keep the other notebooks' times
        old = json.loads((out_dir / "timings.json").read_text())
        if old.get("profile") == profile:
            new = {t["notebook"]: t for t in timings}
            timings = [new.pop(t["notebook"], t) for t in old["timings"]] + list(new.values())
    write_status(out_dir / "status.md", profile, timings, results_dir)
    write_headline(out_dir, profile, results_dir)  # the introduction's findings, figure and claims
    write_departures(out_dir, profile, results_dir)  # and its departures table (cmnet.book_pages)
    return timings


STUDIES_ROW = "all studies, one submission"  # the timings row of the training before the chapters


def train_studies(profile: str, progress: bool = True, **dirs) -> dict:
    """Train every variant the chapters show (cmnet.variants.BOOK_VARIANTS) in one submission to the
    executor, before any chapter runs: with the folds of all studies pending at once the workers
    never wait for a chapter's last fold; the chapters then find their folds finished. Its time
    is a row of the status page."""
    from .study.run import run_variants
    from .variants import BOOK_VARIANTS

    t0 = time.perf_counter()
    if progress:
        print(f"training every study of profile {profile} ({len(BOOK_VARIANTS)} variants) …", flush=True)
    run_variants(profile, list(BOOK_VARIANTS), progress=progress, **dirs)
    dt = time.perf_counter() - t0
    if progress:
        print(f"  studies: {dt:.1f} s", flush=True)
    return {"notebook": STUDIES_ROW, "seconds": round(dt, 1)}


def training_times(results_dir: str | Path, profile: str) -> list[dict]:
    """Per study of the profile: its folds and the training time they took (the sum of
    their fold seconds, from the artifacts), whichever build computed them."""
    import pandas as pd

    rows = []
    for d in sorted(Path(results_dir).glob(f"{profile}-*")):
        f = d / FOLDS_TABLE
        if f.is_file():
            folds = pd.read_csv(f)
            rows.append({"study": d.name, "folds": len(folds), "seeds": folds["seed"].nunique(),
                         "seconds": float(folds["seconds"].sum())})
    return rows


def _name(step: str) -> str:
    """A step of the run-time table: a notebook's file name as code, a step in words as it is."""
    return f"`{step}`" if step.endswith(".ipynb") else step


def write_status(path: Path, profile: str, timings: list[dict], results_dir: str | Path | None = None) -> None:
    import torch

    from .report.prose import header

    from .fold.device import resolve_device
    from .runs.provenance import environment

    env = environment(resolve_device("auto"))
    commit = str(env.get("git_commit") or "unknown")
    lines = ["# Status of this build", "",
             f"Every chapter was executed by papermill with the profile **{profile}** "
             f"(`params/{profile}.yaml` over `params/base.yaml`) on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
             f"at commit `{commit[:12]}`.", "", f"```{{include}} {CODE_SINCE}", "```", "",
             "## Run time of every step", "",
             "The studies every chapter shows are trained first, in one submission; then each notebook runs "
             "(its folds already finished).", "", "| step | seconds |", "| --- | ---: |"]
    lines += [f"| {_name(t['notebook'])} | {t['seconds']:.1f} |" for t in timings]
    lines += [f"| **total** | **{sum(t['seconds'] for t in timings):.1f}** |", ""]
    studies = training_times(results_dir, profile) if results_dir is not None else []
    if studies:
        lines += ["## Training time of the studies shown", "",
                  "Finished folds are reused from `runs/` by later builds, so the run times above count only what "
                  "this build computed. The training time of every study shown, summed over its folds from their "
                  "artifacts (each fold trains in its own process; the profile's `workers` setting is how many ran "
                  "at once):", "", "| study | folds | seeds | training (s) |",
                  "| --- | ---: | ---: | ---: |"]
        lines += [f"| `{r['study']}` | {r['folds']} | {r['seeds']} | {r['seconds']:.0f} |" for r in studies]
        lines += [f"| **total** | | | **{sum(r['seconds'] for r in studies):.0f}** |", ""]
    lines += ["## Environment", "", "| item | value |", "| --- | --- |"]
    lines += [f"| {header(k)} | {v} |" for k, v in env.items()]
    lines += [f"| torch threads | {torch.get_num_threads()} |", f"| host | {platform.node()} |", ""]
    path.write_text("\n".join(lines))
    (path.parent / "timings.json").write_text(json.dumps({"profile": profile, "timings": timings, "env": env}, indent=1))


def prepare_source(src: str | Path, root: str | Path = ".") -> Path:
    """Make ``src`` a book source: the repository's config, table of contents, static
    files and introduction (the chapters are executed into it)."""
    src, root = Path(src), Path(root)
    for name in SOURCE_FILES:
        a, b = root / name, src / name
        b.parent.mkdir(parents=True, exist_ok=True)
        if a.is_dir():
            shutil.copytree(a, b, dirs_exist_ok=True)
        else:
            shutil.copy(a, b)
    return src


def publish(profile: str, root: str | Path = ".") -> list[Path]:
    """Replace the committed chapters (book/executed/) and result tables (results/<study>/)
    with those of the profile's build folder. Returns what was written."""
    root = Path(root)
    src = build_folder(profile, root)
    executed = src / PUBLISHED
    chapters = sorted(executed.glob("[0-9][0-9]_*.ipynb"))
    expected = sorted(p.name for p in (root / NOTEBOOKS).glob("[0-9][0-9]_*.ipynb"))
    if [p.name for p in chapters] != expected:
        raise RuntimeError(f"{executed} does not hold every chapter ({len(chapters)} of {len(expected)}): run "
                           f"`cmnet book --profile {profile}` without --only first")
    dest = root / PUBLISHED
    old = dest / "timings.json"
    old_profile = json.loads(old.read_text()).get("profile") if old.is_file() else None
    for pat in CHAPTER_PATTERNS:
        for f in dest.glob(pat):
            f.unlink()
    written = []
    for pat in CHAPTER_PATTERNS:
        for f in executed.glob(pat):
            shutil.copy(f, dest / f.name)
            written.append(dest / f.name)
    res = root / PUBLISHED_RESULTS
    if old_profile:
        for d in res.glob(f"{old_profile}-*"):
            shutil.rmtree(d)
    for d in sorted((src / PUBLISHED_RESULTS).glob(f"{profile}-*")):
        shutil.copytree(d, res / d.name, dirs_exist_ok=True)
        written.append(res / d.name)
    return written


def code_since(commit: str, repo: str | Path = ".", paths=CODE_PATHS, limit: int = 12) -> str:
    """Markdown: whether the code, notebooks or profiles (``paths``) of the checkout ``repo`` differ
    from ``commit``, the one the chapters were executed at (git's answer; the files that changed,
    the first ``limit`` named)."""
    def git(*args):
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=60)

    try:
        head = git("rev-parse", "HEAD")
    except (OSError, subprocess.SubprocessError):
        head = None
    if head is None or head.returncode != 0:
        return "Whether the code has changed since could not be checked: this copy is not a git checkout."
    if not commit or git("cat-file", "-e", f"{commit}^{{commit}}").returncode != 0:
        return f"The commit the chapters were executed at (`{commit[:12]}`) is not in this checkout's history."
    diff = git("diff", "--name-only", commit, "--", *paths)  # against the working tree: edits not committed count
    files = [f for f in diff.stdout.splitlines() if f]
    here = head.stdout.strip()[:12]
    if not files:
        return (f"This page was built at `{here}`: the code, the notebooks and the profiles (`{'`, `'.join(paths)}`) "
                "are as they were when the chapters were executed.")
    shown = ", ".join(f"`{f}`" for f in files[:limit]) + (f" and {len(files) - limit} more" if len(files) > limit else "")
    return (f"**The code has changed since the chapters were executed**: this page was built at `{here}`, where "
            f"{len(files)} files of `{'`, `'.join(paths)}` differ from the executed commit ({shown}). The numbers "
            "are those of the executed commit; `make publish` re-executes them.")


def build_book(root: str | Path = ".", strict: bool = True, out: str | Path | None = None) -> Path:
    """jupyter-book 1.x build of the book source ``root`` (its _config.yml, _toc.yml) into
    ``out``/_build/html (default: inside ``root``); fails on warnings. The status page's note
    on the code since the executed commit (:func:`code_since`) is written first."""
    root = Path(root)
    timings = root / PUBLISHED / "timings.json"
    if timings.is_file():
        commit = str(json.loads(timings.read_text()).get("env", {}).get("git_commit") or "")
        (root / PUBLISHED / CODE_SINCE).write_text(code_since(commit) + "\n")
    out = Path(out) if out is not None else root
    exe = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(exe) if exe.exists() else "jupyter-book", "build", str(root), "--path-output", str(out)]
    if strict:
        cmd += ["-W", "-n", "--keep-going"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"jupyter-book build failed:\n{r.stdout[-4000:]}\n{r.stderr[-4000:]}")
    index = out / "_build" / "html" / "index.html"
    if not index.is_file():
        raise RuntimeError(f"jupyter-book did not write {index}")
    return index


def make_book(profile: str = "smoke", only: list[str] | None = None, execute: bool = True, build: bool = True,
              publish_it: bool = False, runs_dir: str = "runs", cache_dir: str = "cache", data_dir: str = "data",
              progress: bool = True) -> dict:
    """``cmnet book``: execute into the profile's build folder, build its HTML there, and
    (``publish_it``) copy it over the committed book and build that. ``profile`` is the name
    of a file params/<profile>.yaml (a name, not a path: its studies and build stay in runs/
    and _build/profiles/)."""
    check_profile(profile)
    if not (execute or build or publish_it):
        raise ValueError("--build-only with --no-build does nothing: drop one of them")
    src = prepare_source(build_folder(profile))
    out = {"source": src}
    missing = [nb.name for nb in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")) if not (src / PUBLISHED / nb.name).is_file()]
    if not execute and missing:  # jupyter-book would fail on the table of contents, in a 60-line log
        raise FileNotFoundError(f"--build-only: {src / PUBLISHED} holds no executed {missing[0]} ({len(missing)} "
                                f"chapters missing): execute them first, cmnet book --profile {profile} (--no-build "
                                "to execute only)")
    if execute:
        out["timings"] = execute_notebooks(profile, src / PUBLISHED, runs_dir=runs_dir,
                                           results_dir=str(src / PUBLISHED_RESULTS), cache_dir=cache_dir,
                                           data_dir=data_dir, only=only, progress=progress)
    if publish_it:
        out["published"] = publish(profile)
        if build:
            out["index"] = build_book(".")
    elif build:
        out["index"] = build_book(src)
    return out
