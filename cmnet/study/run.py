"""Run every fold of one or several experiments (dataset × model × losses × sampler × seed)
and write their summaries.

    run_study(cfg) → summary dict; artifacts under runs/<name>/seed<k>/<subject>/ and
    small tables under results/<name>/ (summary.json, folds.csv, table.csv, confusion.csv).
    run_studies([cfg, …]) → [summary, …]: every pending fold of every study handed to the
    executor at once (a chapter's variants keep a GPU pool busy together).

Each fold is a self-contained job (config + cache in, fold folder out), handed to the
executor the first config names (cmnet.study.executors: ``local`` — one after another, or
``workers`` spawned processes with cores/workers torch threads each; ``ray`` — tasks of a
Ray cluster). (Measured on the 2-core machine, CMNet at 32²: two one-thread folds at once
trained 38 clips/s in all, the same as one two-thread fold.) A finished fold is skipped, an
interrupted one resumes, a failing one (e.g. a non-finite loss) is recorded and the other
folds go on. Rerunning a finished study only rebuilds its tables.

Trust: one process writes a study at a time (a lock in its folder names the holder); before
anything is trained every existing fold folder's fingerprint is compared with the request
(cmnet.study.plan.refuse_changed), and a fold made with other settings stops the study, naming
the keys (old → new), unless ``discard_changed`` removes those folds; a damaged fold artifact
is recomputed; a failed write (disk full) stops the study with the file's name, and what was
finished is kept.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time

from .. import io as fio
from ..config import Config
from ..runs import layout as L
from ..runs.committed import refuse_committed
from ..runs.lock import FolderLock
from .executors import make_executor
from .plan import StudyError, StudyPlan, plan_study, refuse_changed
from .progress import Progress


def run_study(cfg: Config, progress: bool = True, discard_changed: bool = False) -> dict:
    """Every (seed, fold) of the study, then its tables. ``discard_changed``: remove the fold
    folders made with other settings instead of stopping (StudyError naming them)."""
    return run_studies([cfg], progress, discard_changed)[0]


def run_studies(cfgs: list[Config], progress: bool = True, discard_changed: bool = False,
                publish: bool = False) -> list[dict]:
    """Several studies in one submission to the executor of ``cfgs[0]``; their summaries in
    order. Every study is checked (fingerprints) before any fold of any of them is trained, and
    none may write over the committed edition's tables (cmnet.runs.committed) unless ``publish``
    (`make repairs`: this run refreshes them, to be committed)."""
    for cfg in cfgs:
        refuse_committed(cfg, publish)
    plans = [plan_study(cfg, progress) for cfg in cfgs]
    names = [p.name for p in plans]
    if len(set(names)) != len(names):
        raise StudyError(f"one submission names a study twice: {names}")
    with contextlib.ExitStack() as locks, stop_on_signals():
        for plan in plans:
            locks.enter_context(FolderLock(L.study_dir(plan.cfg), "study"))
            refuse_changed(plan, discard_changed)
        return _run_plans(plans, progress, publish)


class Stopped(KeyboardInterrupt):
    """The study was stopped by a signal (SIGTERM, SIGHUP; SIGINT is KeyboardInterrupt itself):
    its workers are ended, its locks released, every fold resumes when the study runs again."""

    def __init__(self, signum: int):
        import signal

        self.signum, self.name = signum, signal.Signals(signum).name
        super().__init__(f"stopped by {self.name}")


@contextlib.contextmanager
def stop_on_signals():
    """While a study runs in this process's main thread: SIGTERM and SIGHUP raise Stopped, SIGINT
    KeyboardInterrupt, so the executor ends its workers and the locks are freed."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    received = []

    def stop(signum, frame):
        received.append(signum)
        raise Stopped(signum)

    old = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGHUP)}
    # SIGINT too, even where it was inherited ignored (a study started in the background): it stops the study
    old[signal.SIGINT] = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    except KeyboardInterrupt as e:  # Ray's wait re-raises a handler's exception as a plain KeyboardInterrupt
        if received and not isinstance(e, Stopped):
            raise Stopped(received[0]) from None
        raise
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def _write_plan(plan: StudyPlan, executor: str) -> None:
    """study.json: the plan, for `cmnet status` and the tables."""
    cfg = plan.cfg
    L.write_plan(L.study_dir(cfg), {
        "name": cfg.study.name, "seeds": list(cfg.study.seeds), "folds": [f.subject for f in plan.folds],
        "epochs": cfg.train.epochs, "workers": max(1, cfg.study.workers), "executor": executor,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "host": socket.gethostname()})


def _run_plans(plans: list[StudyPlan], progress: bool, publish: bool = False) -> list[dict]:
    first = plans[0].cfg
    failures = {p.name: [] for p in plans}
    for plan in plans:
        _write_plan(plan, first.study.executor)
    label = "study " + (first.study.name if len(plans) == 1 else f"{first.study.name} + {len(plans) - 1} more")
    bar = Progress(label, sum(len(p.tasks) for p in plans), progress)
    multi = len(plans) > 1

    def on_done(task, r=None, error=None):
        name, seed = task.cfg.study.name, task.cfg.train.seed
        who = (f"{name} " if multi else "") + f"seed {seed} fold {task.fold.subject}"
        if error is not None:
            failures[name].append({"seed": seed, "fold": task.fold.subject, "error": error})
            fio.write_text(task.out / L.FAILED, json.dumps(failures[name][-1], indent=1))
            bar.say(f"FAILED {who}: {error}")
        else:
            fio.forget(task.out / L.FAILED)
            bar.say(f"{who}: {r['n_test']:3d} clips  acc {r['accuracy']:.3f}  F1 {r['f1_paper']:.3f}  "
                    f"UF1 {r['uf1']:.3f}  UAR {r['uar']:.3f}  ({r['seconds']:.0f} s)")
        bar.ended(error is None, None if r is None or task.was_done else r.get("seconds"))

    pending = []
    for plan in plans:
        for task, verdict in zip(plan.tasks, plan.verdicts):
            bar.outs.append(task.out)
            task.was_done = verdict.result is not None  # else unfinished or damaged: run_fold repairs it
            if task.was_done:
                on_done(task, verdict.result)
            else:
                pending.append(task)
    try:
        make_executor(first, progress).run(pending, on_done, bar.tick)
    except fio.WriteError as e:  # disk full etc.: every other fold would fail the same way
        bar.close()
        raise StudyError(f"study {first.study.name if len(plans) == 1 else label[6:]} stopped: {e}") from e
    bar.close()
    return _summaries(plans, failures, multi, publish)


def _summaries(plans: list[StudyPlan], failures: dict, multi: bool, publish: bool = False) -> list[dict]:
    """Each study's tables (none when every fold of it failed); StudyError naming every failed fold."""
    from ..report.tables import write_results

    out = []
    for plan in plans:
        if len(failures[plan.name]) == len(plan.tasks):
            out.append({"failures": failures[plan.name]})  # every fold failed: no table to write
            continue
        summary = write_results(plan.cfg, plan.classes, publish, partial=bool(failures[plan.name]))
        summary["failures"] = failures[plan.name]
        out.append(summary)
    bad = [(n, f) for n, fs in failures.items() for f in fs]
    if bad:
        raise StudyError(f"{len(bad)} fold{'s' * (len(bad) != 1)} failed (the others are kept): "
                         + "; ".join(f"{(n + ' ') if multi else ''}seed {f['seed']} fold {f['fold']}: {f['error']}"
                                     for n, f in bad))
    return out


def run_variants(profile: str, variants: list[str], progress: bool = True, publish: bool = False,
                 **dirs) -> dict[str, dict]:
    """Several of the book's variants of a profile (cmnet.variants) in one submission to the
    executor (every pending fold of every variant at once: a GPU pool or a Ray cluster stays
    busy across them); variant → summary. ``dirs``: runs_dir, results_dir, cache_dir, … ;
    ``publish``: see run_studies."""
    from ..variants import variant_config

    cfgs = [variant_config(profile, v, **dirs) for v in variants]
    return dict(zip(variants, run_studies(cfgs, progress, publish=publish)))
