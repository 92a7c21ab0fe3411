"""Run every fold of an experiment (dataset × model × losses × sampler × seed) and write
its summaries.

    run_study(cfg) → summary dict; artifacts under runs/<name>/seed<k>/<subject>/ and
    small tables under results/<name>/ (summary.json, folds.csv, table.csv, confusion.csv).

Each fold is a self-contained job (config + cache in, fold folder out), so folds can be
handed to any executor; here they run one after another (``workers: 1``) or in
``workers`` spawned processes on this machine, each with cores/workers torch threads.
(Measured on the 2-core machine, CMNet at 32²: two one-thread folds at once trained
38 clips/s in all, the same as one two-thread fold: no speed-up there; whether it pays on
machines with more cores is not measured.) A finished fold is skipped, an
interrupted one resumes, a failing one (e.g. a non-finite loss) is recorded and the other
folds go on. Rerunning a finished study only rebuilds its tables.

Trust: one process writes a study at a time (a lock in its folder names the holder); before
anything is trained every existing fold folder's fingerprint is compared with the request, and
a fold made with other settings stops the study, naming the keys (old → new), unless
``discard_changed`` removes those folds; a damaged fold artifact is recomputed; a failed write
(disk full) stops the study with the file's name, and what was finished is kept.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import shutil
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path

from . import runs
from .config import Config
from .data.splits import loso_folds
from .prepare import prepare_cache
from .results import confusion_table, read_folds, summarize, summary_table
from .train import FoldError, atomic_write_text, cache_content, finished_result, run_fold

log = logging.getLogger("cmnet.study")


class StudyError(RuntimeError):
    pass


def study_dir(cfg: Config) -> Path:
    return Path(cfg.study.runs_dir) / cfg.study.name


def run_study(cfg: Config, progress: bool = True, discard_changed: bool = False) -> dict:
    """Every (seed, fold) of the study, then its tables. ``discard_changed``: remove the fold
    folders made with other settings instead of stopping (StudyError naming them)."""
    cfg.validate(f"study {cfg.study.name}")
    cache, classes = prepare_cache(cfg, progress)
    folds = loso_folds(list(cache.subjects))
    if cfg.study.folds:
        unknown = sorted(set(cfg.study.folds) - {f.subject for f in folds})
        if unknown:
            raise StudyError(f"folds {unknown} are not subjects of {cfg.data.dataset}")
        folds = [f for f in folds if f.subject in cfg.study.folds]
    root = study_dir(cfg)
    jobs = []
    for seed in cfg.study.seeds:
        for fold in folds:
            fcfg = copy.deepcopy(cfg)
            fcfg.train.seed = seed
            jobs.append((fcfg, fold, root / f"seed{seed}" / fold.subject))
    with runs.StudyLock(root, "study"):
        _refuse_changed(cfg, jobs, cache_content(cache), discard_changed)
        return _run_jobs(cfg, jobs, folds, cache, classes, progress)


def _refuse_changed(cfg: Config, jobs, content: str, discard: bool) -> None:
    """Before anything is trained: StudyError if a fold folder was made with other settings
    (or, with ``discard``, remove those folders). Finished folds that differ only in the clip
    cache's content (trained on another machine's cache) are read as they are while no fold of
    the study is trained now; when some fold would be, they too stop the study (one table
    would mix two caches)."""
    changed, cache_only = [], []
    for fcfg, _, out in jobs:
        old = runs.recorded_fingerprint(out)
        if old is not None:
            diff = runs.fingerprint_changes(old, runs.fold_fingerprint(fcfg, content))
            if runs.only_cache_changed(diff) and finished_result(out) is not None:
                cache_only.append((out, diff))
            elif diff:
                changed.append((out, diff))
    if cache_only and not changed and all(finished_result(out) is not None for _, _, out in jobs):
        log.warning("%s: %d finished fold(s) were trained on another clip cache (%s); read as they are, none is "
                    "retrained", cfg.study.name, len(cache_only), cache_only[0][1][0])
        cache_only = []
    changed += cache_only
    if not changed:
        return
    if discard:
        for out, diff in changed:
            log.warning("discarding %s (made with %s)", out, "; ".join(diff))
            shutil.rmtree(out)
        return
    first, n = changed[0], len(changed)
    same = all(d == first[1] for _, d in changed)
    where = ", ".join(str(o.relative_to(study_dir(cfg))) for o, _ in changed[:6]) + (" …" if n > 6 else "")
    raise StudyError(
        f"study {cfg.study.name!r} ({study_dir(cfg)}): {n} fold folder(s) were made with other settings and would "
        f"mix old and new numbers ({where}): " + "; ".join(first[1]) + ("" if same else " (and other changes in the "
        "others)") + f". Run under another name (--set name={cfg.study.name}-new) or discard those folds "
        "(cmnet study --discard-changed; run_study(..., discard_changed=True))")


def _run_jobs(cfg: Config, jobs, folds, cache, classes, progress: bool) -> dict:
    from tqdm import tqdm  # plain text bars: no widget (and no IProgress warning) in notebooks

    root = study_dir(cfg)
    runs.write_text(root / "study.json", json.dumps(  # the plan, for `cmnet status` and the tables
        {"name": cfg.study.name, "seeds": list(cfg.study.seeds), "folds": [f.subject for f in folds],
         "epochs": cfg.train.epochs, "workers": max(1, cfg.study.workers),
         "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, indent=1))
    failures = []
    bar = tqdm(total=len(jobs), desc=f"study {cfg.study.name}", unit="fold", disable=not progress)

    def say(line):  # one line per fold: printed under the bar, or logged (INFO) when quiet
        if progress:
            tqdm.write(line)
        else:
            log.info("%s: %s", cfg.study.name, line)

    def record(fcfg, fold, out, r=None, err=None):
        seed = fcfg.train.seed
        if err is not None:
            failures.append({"seed": seed, "fold": fold.subject, "error": str(err)})
            atomic_write_text(out / "failed.json", json.dumps(failures[-1], indent=1))
            say(f"FAILED seed {seed} fold {fold.subject}: {err}")
        else:
            runs.forget(out / "failed.json")
            say(f"seed {seed} fold {fold.subject:>8s}: {r['n_test']:3d} clips  acc {r['accuracy']:.3f}  "
                f"F1 {r['f1_paper']:.3f}  UF1 {r['uf1']:.3f}  UAR {r['uar']:.3f}  ({r['seconds']:.0f} s)")
        bar.update(1)

    pending = []
    for fcfg, fold, out in jobs:
        r = finished_result(out)  # None when unfinished or damaged (run_fold repairs it)
        if r is not None:
            record(fcfg, fold, out, r)
        else:
            pending.append((fcfg, fold, out))
    workers = min(max(1, cfg.study.workers), len(pending))
    try:
        if workers <= 1:
            for fcfg, fold, out in pending:
                try:
                    record(fcfg, fold, out, run_fold(fcfg, cache, classes, fold, out, progress))
                except FoldError as e:
                    record(fcfg, fold, out, err=e)
        else:
            threads = max(1, (os.cpu_count() or 1) // workers)
            with ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_worker_init,
                                     initargs=(threads,)) as pool:
                futs = {pool.submit(run_fold, fcfg, cache, classes, fold, out, False): (fcfg, fold, out)
                        for fcfg, fold, out in pending}
                try:
                    for fut in as_completed(futs):
                        try:
                            record(*futs[fut], fut.result())
                        except FoldError as e:
                            record(*futs[fut], err=e)
                except BaseException:
                    pool.shutdown(cancel_futures=True)
                    raise
    except runs.WriteError as e:  # disk full etc.: every other fold would fail the same way
        bar.close()
        raise StudyError(f"study {cfg.study.name} stopped: {e}") from e
    bar.close()
    summary = write_results(cfg, classes)
    summary["failures"] = failures
    if failures:
        raise StudyError(f"{len(failures)} fold(s) failed (the others are kept): "
                         + "; ".join(f"seed {f['seed']} fold {f['fold']}: {f['error']}" for f in failures))
    return summary


def _worker_init(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


def write_results(cfg: Config, classes) -> dict:
    """Summaries of the finished folds into results/<name>/."""
    root = study_dir(cfg)
    summary = summarize(root, classes)
    summary |= {"name": cfg.study.name, "dataset": cfg.data.dataset, "model": cfg.model.model,
                "protocol": f"LOSO, {cfg.train.epochs} epochs, last epoch evaluated", "config": cfg.to_flat()}
    res = Path(cfg.study.results_dir) / cfg.study.name
    res.mkdir(parents=True, exist_ok=True)
    for name, text in (("summary.json", json.dumps(summary, indent=1)), ("folds.csv", read_folds(root).to_csv(index=False)),
                       ("table.csv", summary_table(summary).to_csv(index=False)),
                       ("confusion.csv", confusion_table(summary).to_csv())):
        runs.atomic_write(res / name, text.encode())  # committed tables: no checksum record beside them
    return summary
