"""Rerun the whole study headlessly and build the book.

    cmnet book --profile smoke            # executes notebooks/*.ipynb into book/executed/,
                                          # writes book/executed/status.md, builds _build/html

Each notebook is executed by papermill with the profile and the folders as parameters;
the run time of each goes to the status page with the environment. A failing notebook
stops the run with its name (the executed copy, with the error, is kept). The book is
built with jupyter-book 1.x, failing on any warning.
"""

from __future__ import annotations

import json
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

NOTEBOOKS = Path("notebooks")


def notebook_parameters(profile: str, runs_dir: str, results_dir: str, cache_dir: str, data_dir: str) -> dict:
    return {"profile": profile, "runs_dir": runs_dir, "results_dir": results_dir, "cache_dir": cache_dir,
            "data_dir": data_dir}


def execute_notebooks(profile: str = "smoke", out_dir: str | Path = "book/executed", runs_dir: str = "runs",
                      results_dir: str = "results", cache_dir: str = "cache", data_dir: str = "data",
                      only: list[str] | None = None, progress: bool = True) -> list[dict]:
    import papermill as pm

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    nbs = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if only:
        nbs = [n for n in nbs if any(n.name.startswith(o) for o in only)]
    params = notebook_parameters(profile, runs_dir, results_dir, cache_dir, data_dir)
    timings = []
    for nb in nbs:
        t0 = time.perf_counter()
        if progress:
            print(f"executing {nb.name} (profile {profile}) …", flush=True)
        try:
            pm.execute_notebook(str(nb), str(out_dir / nb.name), parameters=params, kernel_name="python3",
                                progress_bar=False, cwd=str(Path.cwd()))
        except Exception as e:
            raise RuntimeError(f"notebook {nb.name} failed (executed copy with the error: {out_dir / nb.name}): "
                               f"{str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
        dt = time.perf_counter() - t0
        timings.append({"notebook": nb.name, "seconds": round(dt, 1)})
        if progress:
            print(f"  {nb.name}: {dt:.1f} s", flush=True)
    if only and (out_dir / "timings.json").is_file():  # keep the other notebooks' times
        old = json.loads((out_dir / "timings.json").read_text())
        if old.get("profile") == profile:
            new = {t["notebook"]: t for t in timings}
            timings = [new.pop(t["notebook"], t) for t in old["timings"]] + list(new.values())
    write_status(out_dir / "status.md", profile, timings)
    return timings


def write_status(path: Path, profile: str, timings: list[dict]) -> None:
    import torch

    from .train import environment, resolve_device

    env = environment(resolve_device("auto"))
    lines = ["# Status of this build", "",
             f"Every chapter was executed by papermill with the profile **{profile}** "
             f"(`params/{profile}.yaml` over `params/base.yaml`) on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
             "", "## Run time of every notebook", "", "| notebook | seconds |", "| --- | ---: |"]
    lines += [f"| {t['notebook']} | {t['seconds']:.1f} |" for t in timings]
    lines += [f"| **total** | **{sum(t['seconds'] for t in timings):.1f}** |", "", "## Environment", "",
              "| item | value |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in env.items()]
    lines += [f"| torch threads | {torch.get_num_threads()} |", f"| host | {platform.node()} |", ""]
    path.write_text("\n".join(lines))
    (path.parent / "timings.json").write_text(json.dumps({"profile": profile, "timings": timings, "env": env}, indent=1))


def build_book(root: str | Path = ".", strict: bool = True) -> Path:
    """jupyter-book 1.x build of ``root`` (its _config.yml, _toc.yml); fails on warnings."""
    root = Path(root)
    exe = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(exe) if exe.exists() else "jupyter-book", "build", str(root), "--path-output", str(root)]
    if strict:
        cmd += ["-W", "-n", "--keep-going"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"jupyter-book build failed:\n{r.stdout[-4000:]}\n{r.stderr[-4000:]}")
    index = root / "_build" / "html" / "index.html"
    if not index.is_file():
        raise RuntimeError(f"jupyter-book did not write {index}")
    return index


def build_in(tmp: str | Path, executed: str | Path) -> Path:
    """Build a copy of the book in ``tmp`` with the executed notebooks of ``executed``
    (CI: the smoke run, away from the committed book/executed/)."""
    tmp = Path(tmp)
    for f in ("_config.yml", "_toc.yml"):
        shutil.copy(f, tmp / f)
    shutil.copytree("book", tmp / "book", ignore=shutil.ignore_patterns("executed"), dirs_exist_ok=True)
    shutil.copytree(executed, tmp / "book" / "executed", dirs_exist_ok=True)
    return build_book(tmp)
