"""Where a study's folds run: one after another or in processes on this machine (``local``),
or as tasks of a Ray cluster (``ray``: every core, GPU and machine the cluster has).

    ex = make_executor(cfg)                   # the study keys executor, workers, address,
                                              # cpus_per_fold, gpus_per_fold
    ex.run(tasks, on_done, tick)              # tasks: FoldTask; blocks until every one ended

``on_done(task, result=None, error=None)`` is called in this process as each fold ends
(``error``: the message of a FoldError, e.g. a non-finite loss: recorded, not retried).
Any other exception of a fold (a failed write, a bug) stops the run and is raised here.
``tick()`` is called about once a second while folds run (the study's progress line).

A fold is the same job everywhere (cmnet.fold.run.run_fold: config + cache in, fold folder out),
so an executor changes where it runs, never what it writes.

Ray, and why so: each fold is one task asking for ``cpus_per_fold`` cores (its torch threads)
and ``gpus_per_fold`` GPUs (a fraction packs several folds on one GPU). A worker process that
dies (killed, out of memory, its machine lost) is retried by Ray up to ``max_retries`` times,
and the retry resumes from the fold's last checkpoint (run_fold resumes; the fold's lock was
the dead process's and is free). Data: a task receives the clip cache's *path*, not its frames,
and opens it memory-mapped: on one machine every worker shares the page cache, and no copy of
the frames (368 MiB at 224² for SynthME, 10 GB for a few datasets) passes through the driver or
Ray's object store. Several machines therefore need ``runs/`` and ``cache/`` on a shared
filesystem at the same path (README, "Studies on several machines"); a task checks that the
cache it opens has the driver's content hash.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from ..config import Config
from ..data.splits import Fold

log = logging.getLogger("cmnet.study")


@dataclass
class FoldTask:
    cfg: Config  # the fold's config (its seed set)
    fold: Fold
    out: Path  # the fold folder
    cache: object  # the ClipCache (local); its path and content hash travel to Ray workers
    classes: tuple
    was_done: bool = False  # finished before this submission (not handed to the executor)


def make_executor(cfg: Config, progress: bool = True):
    s = cfg.study
    if s.executor == "ray":
        return RayExecutor(s.address, s.cpus_per_fold, s.gpus_per_fold)
    return LocalExecutor(s.workers, progress)


class LocalExecutor:
    """Folds one after another in this process (``workers`` 1, each fold's epoch bar shown),
    or ``workers`` at once in spawned processes with cores/workers torch threads each."""

    def __init__(self, workers: int = 1, progress: bool = True):
        self.workers, self.progress = max(1, workers), progress

    def run(self, tasks: list[FoldTask], on_done, tick=lambda: None) -> None:
        from ..fold import FoldError
        from ..fold.run import run_fold

        workers = min(self.workers, len(tasks))
        if workers <= 1:
            for t in tasks:
                tick()
                try:
                    on_done(t, run_fold(t.cfg, t.cache, t.classes, t.fold, t.out, self.progress))
                except FoldError as e:
                    on_done(t, error=str(e))
            return
        from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
        from multiprocessing import get_context

        threads = max(1, (os.cpu_count() or 1) // workers)
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_worker_init,
                                 initargs=(threads,)) as pool:
            futs = {pool.submit(run_fold, t.cfg, t.cache, t.classes, t.fold, t.out, False): t for t in tasks}
            pending = set(futs)
            try:
                while pending:
                    done, pending = wait(pending, timeout=1.0, return_when=FIRST_COMPLETED)
                    for fut in done:
                        try:
                            on_done(futs[fut], fut.result())
                        except FoldError as e:
                            on_done(futs[fut], error=str(e))
                    tick()
            except BaseException:  # a signal (Stopped), Ctrl-C, a failed write: no worker outlives the study
                _stop_workers(pool)
                raise


STOP_GRACE_S = 10.0  # how long stopped workers get to exit before SIGKILL, all together


def _stop_workers(pool) -> None:
    """Cancel the queued folds and end the running ones now (SIGTERM; then SIGKILL after ``STOP_GRACE_S``):
    each keeps its last checkpoint and resumes from it, its lock freed by the kernel."""
    import time

    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        proc.terminate()
    deadline = time.monotonic() + STOP_GRACE_S  # one grace period for all, not one each
    for proc in procs:
        proc.join(max(0.0, deadline - time.monotonic()))
        if proc.is_alive():
            proc.kill()
            proc.join()
    pool.shutdown(wait=True)  # the pool's manager thread closes its queues (no semaphore left to the tracker)


def _set_threads(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


def _worker_init(threads: int) -> None:
    """A local worker: its torch threads, and SIGTERM as SystemExit, so that a stopped study's
    worker leaves its fold as Python exits (locks, files and semaphores released; an immediate
    ``os._exit`` instead was measured to leave the pool's two semaphores to the resource tracker)."""
    import signal
    import sys

    _set_threads(threads)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in a terminal reaches the study, which stops the workers


def _fold_task(cfg, cache_path: str, content: str, classes, fold, out: str, threads: int):
    """A fold in a Ray worker: ("done", result) or ("failed", message); other errors raise."""
    _set_threads(threads)
    from ..preprocess.cache import load_cache
    from ..fold import FoldError
    from ..fold.run import run_fold

    cache = load_cache(Path(cache_path), verify=False)  # memory-mapped; the driver verified the content
    if cache.manifest.get("content") != content:
        raise FoldError(f"the clip cache {cache_path} on this machine is not the driver's (content "
                        f"{str(cache.manifest.get('content'))[:12]} ≠ {content[:12]}): share cache/ between machines")
    try:
        return "done", run_fold(cfg, cache, classes, fold, Path(out), progress=False)
    except FoldError as e:
        return "failed", str(e)


def _keeping_signal_handlers(start) -> None:
    """``start()`` (ray.init) with the study's SIGTERM/SIGHUP/SIGINT handlers put back after it:
    ray.init installs its own SIGTERM handler (kill its processes, exit 1), which would skip the
    study's stop (cancel the folds' tasks, shut Ray down, free the lock, say so in one line)."""
    import signal
    import threading

    sigs = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
    old = {s: signal.getsignal(s) for s in sigs}
    try:
        start()
    finally:
        if threading.current_thread() is threading.main_thread():
            for s, h in old.items():
                if h is not None:
                    signal.signal(s, h)


class RayExecutor:
    """Each fold a Ray task (see the module's docstring). ``address``: "" starts a local Ray
    instance for the run (and stops it after), else the cluster to join ("auto", host:port)."""

    def __init__(self, address: str = "", cpus_per_fold: float = 1.0, gpus_per_fold: float = 0.0,
                 max_retries: int = 3):
        self.address, self.cpus, self.gpus, self.max_retries = address, cpus_per_fold, gpus_per_fold, max_retries

    def run(self, tasks: list[FoldTask], on_done, tick=lambda: None) -> None:
        import ray

        from ..preprocess.cache import cache_content

        if not tasks:
            return
        started = not ray.is_initialized()
        if started:
            os.environ.setdefault("RAY_DEDUP_LOGS", "0")
            _keeping_signal_handlers(lambda: ray.init(address=self.address or None, include_dashboard=False,
                                                      log_to_driver=False, configure_logging=False))
        try:
            remote = ray.remote(_fold_task).options(num_cpus=self.cpus, num_gpus=self.gpus,
                                                    max_retries=self.max_retries, retry_exceptions=False)
            threads = max(1, int(self.cpus))
            refs = {}
            for t in tasks:
                if t.cache.path is None:
                    raise ValueError("the ray executor needs a clip cache on disk (prepare_cache builds one)")
                refs[remote.remote(t.cfg, str(Path(t.cache.path).resolve()), cache_content(t.cache), t.classes,
                                   t.fold, str(Path(t.out).resolve()), threads)] = t
            pending = list(refs)
            while pending:
                ready, pending = ray.wait(pending, num_returns=1, timeout=1.0)
                for ref in ready:
                    t = refs[ref]
                    try:
                        kind, value = ray.get(ref)
                    except ray.exceptions.RayTaskError as e:  # the fold's own exception: stop, raise it
                        raise (e.cause if isinstance(e.cause, BaseException) else e) from None
                    except ray.exceptions.RayError as e:  # its worker died more often than max_retries
                        on_done(t, error=f"its Ray worker died {self.max_retries + 1} times ({type(e).__name__}); "
                                         "the fold keeps its last checkpoint")
                        continue
                    if kind == "done":
                        on_done(t, value)
                    else:
                        on_done(t, error=value)
                tick()
        except BaseException:  # the fold's error, a signal (Stopped), Ctrl-C: no task goes on
            for p in pending:
                ray.cancel(p, force=True)
            raise
        finally:
            if started:
                ray.shutdown()
