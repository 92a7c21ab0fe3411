"""Run every fold of one or several experiments (dataset × model × losses × sampler × seed)
and write their summaries.

    run_study(cfg) → summary dict; artifacts under runs/<name>/seed<k>/<subject>/ and
    small tables under results/<name>/ (summary.json, folds.csv, table.csv, confusion.csv).
    run_studies([cfg, …]) → [summary, …]: every pending fold of every study handed to the
    executor at once (a chapter's variants keep a GPU pool busy together).

Each fold is a self-contained job (config + cache in, fold folder out), handed to the
executor the first config names (cmnet.executors: ``local`` — one after another, or
``workers`` spawned processes with cores/workers torch threads each; ``ray`` — tasks of a
Ray cluster). (Measured on the 2-core machine, CMNet at 32²: two one-thread folds at once
trained 38 clips/s in all, the same as one two-thread fold.) A finished fold is skipped, an
interrupted one resumes, a failing one (e.g. a non-finite loss) is recorded and the other
folds go on. Rerunning a finished study only rebuilds its tables. One line shows the whole
submission: folds done / running / failed, elapsed time and an estimate of what is left.

Trust: one process writes a study at a time (a lock in its folder names the holder); before
anything is trained every existing fold folder's fingerprint is compared with the request, and
a fold made with other settings stops the study, naming the keys (old → new), unless
``discard_changed`` removes those folds; a damaged fold artifact is recomputed; a failed write
(disk full) stops the study with the file's name, and what was finished is kept.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import shutil
import socket
import time
from pathlib import Path

from . import runs
from .config import Config
from .data.splits import loso_folds
from .prepare import prepare_cache
from .results import confusion_table, read_folds, summarize, summary_table
from .executors import FoldTask, make_executor
from .train import atomic_write_text, cache_content, finished_result

log = logging.getLogger("cmnet.study")


class StudyError(RuntimeError):
    pass


def study_dir(cfg: Config) -> Path:
    return Path(cfg.study.runs_dir) / cfg.study.name


def run_study(cfg: Config, progress: bool = True, discard_changed: bool = False) -> dict:
    """Every (seed, fold) of the study, then its tables. ``discard_changed``: remove the fold
    folders made with other settings instead of stopping (StudyError naming them)."""
    return run_studies([cfg], progress, discard_changed)[0]


def run_studies(cfgs: list[Config], progress: bool = True, discard_changed: bool = False) -> list[dict]:
    """Several studies in one submission to the executor of ``cfgs[0]``; their summaries in
    order. Every study is checked (fingerprints) before any fold of any of them is trained."""
    plans = []
    for cfg in cfgs:
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
        plans.append((cfg, folds, jobs, cache, classes))
    names = [c.study.name for c in cfgs]
    if len(set(names)) != len(names):
        raise StudyError(f"one submission names a study twice: {names}")
    with contextlib.ExitStack() as locks:
        for cfg, _, jobs, cache, _ in plans:
            locks.enter_context(runs.StudyLock(study_dir(cfg), "study"))
            _refuse_changed(cfg, jobs, cache_content(cache), discard_changed)
        return _run_plans(plans, progress)


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


class Progress:
    """One live line for a whole submission: folds done / running / failed, elapsed, and an
    estimate of what is left (pending folds × the mean time of the folds trained so far ÷ the
    folds running at once). Running folds are those whose lock a live process holds."""

    def __init__(self, label: str, total: int, enabled: bool):
        from tqdm import tqdm  # plain text bars: no widget (and no IProgress warning) in notebooks

        self.tqdm = tqdm
        self.bar = tqdm(total=total, desc=label, unit="fold", disable=not enabled, bar_format="{desc}")
        self.label, self.t0, self.total, self.done, self.failed = label, time.time(), total, 0, 0
        self.trained, self.enabled = [], enabled
        self.outs: list[Path] = []
        self.running = 0

    def line(self) -> str:
        el = time.time() - self.t0
        left = self.total - self.done - self.failed
        est = ""
        if self.trained and left:
            per = sum(self.trained) / len(self.trained)
            est = f" · ~{_hms(per * left / max(1, self.running))} left"
        return (f"{self.label}: {self.done}/{self.total} done · {self.running} running · {self.failed} failed · "
                f"{_hms(el)} elapsed{est}")

    def tick(self) -> None:
        self.running = sum(1 for o in self.outs if runs.lock_holder(o) is not None)
        self.bar.set_description_str(self.line(), refresh=True)

    def say(self, text: str) -> None:
        if self.enabled:
            self.tqdm.write(text)
        else:
            log.info("%s", text)

    def ended(self, ok: bool, seconds: float | None = None) -> None:
        self.done += ok
        self.failed += not ok
        if seconds:
            self.trained.append(seconds)
        self.bar.update(1)
        self.tick()

    def close(self) -> None:
        self.bar.close()


def _hms(sec: float) -> str:
    sec = int(round(sec))
    return f"{sec // 3600}:{sec // 60 % 60:02d}:{sec % 60:02d}" if sec >= 3600 else f"{sec // 60}:{sec % 60:02d}"


def _run_plans(plans, progress: bool) -> list[dict]:
    first = plans[0][0]
    failures = {cfg.study.name: [] for cfg, *_ in plans}
    for cfg, folds, *_ in plans:
        runs.write_text(study_dir(cfg) / "study.json", json.dumps(  # the plan, for `cmnet status` and the tables
            {"name": cfg.study.name, "seeds": list(cfg.study.seeds), "folds": [f.subject for f in folds],
             "epochs": cfg.train.epochs, "workers": max(1, cfg.study.workers), "executor": first.study.executor,
             "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "host": socket.gethostname()}, indent=1))
    label = "study " + (first.study.name if len(plans) == 1 else f"{first.study.name} + {len(plans) - 1} more")
    bar = Progress(label, sum(len(p[2]) for p in plans), progress)
    multi = len(plans) > 1

    def on_done(task, r=None, error=None):
        name, seed = task.cfg.study.name, task.cfg.train.seed
        who = (f"{name} " if multi else "") + f"seed {seed} fold {task.fold.subject}"
        if error is not None:
            failures[name].append({"seed": seed, "fold": task.fold.subject, "error": error})
            atomic_write_text(task.out / "failed.json", json.dumps(failures[name][-1], indent=1))
            bar.say(f"FAILED {who}: {error}")
        else:
            runs.forget(task.out / "failed.json")
            bar.say(f"{who}: {r['n_test']:3d} clips  acc {r['accuracy']:.3f}  F1 {r['f1_paper']:.3f}  "
                    f"UF1 {r['uf1']:.3f}  UAR {r['uar']:.3f}  ({r['seconds']:.0f} s)")
        bar.ended(error is None, None if r is None or task.was_done else r.get("seconds"))

    pending = []
    for cfg, _, jobs, cache, classes in plans:
        for fcfg, fold, out in jobs:
            bar.outs.append(out)
            r = finished_result(out)  # None when unfinished or damaged (run_fold repairs it)
            task = FoldTask(fcfg, fold, out, cache, tuple(classes), was_done=r is not None)
            if r is not None:
                on_done(task, r)
            else:
                pending.append(task)
    try:
        make_executor(first, progress).run(pending, on_done, bar.tick)
    except runs.WriteError as e:  # disk full etc.: every other fold would fail the same way
        bar.close()
        raise StudyError(f"study {first.study.name if len(plans) == 1 else label[6:]} stopped: {e}") from e
    bar.close()
    out = []
    for cfg, _, jobs, _, classes in plans:
        if len(failures[cfg.study.name]) == len(jobs):
            out.append({"failures": failures[cfg.study.name]})  # every fold failed: no table to write
            continue
        summary = write_results(cfg, classes)
        summary["failures"] = failures[cfg.study.name]
        out.append(summary)
    bad = [(n, f) for n, fs in failures.items() for f in fs]
    if bad:
        raise StudyError(f"{len(bad)} fold(s) failed (the others are kept): "
                         + "; ".join(f"{(n + ' ') if multi else ''}seed {f['seed']} fold {f['fold']}: {f['error']}"
                                     for n, f in bad))
    return out


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
