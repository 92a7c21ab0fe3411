"""What a study will run: its folds × seeds, each a fold folder and its config, and the check
made before anything is trained.

    plan = plan_study(cfg)           the cache prepared, the folds chosen, one FoldTask per (seed, fold)
    refuse_changed(plan, discard)    StudyError when a fold folder was made with other settings
"""

from __future__ import annotations

import copy
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Config
from ..data.splits import make_folds
from ..preprocess.cache import ClipCache, cache_content
from ..preprocess.prepare import prepare_cache
from ..runs import layout as L
from ..runs.fingerprint import Reuse, fingerprint_changes, fold_fingerprint, recorded_fingerprint, reuse
from .executors import FoldTask

log = logging.getLogger("cmnet.study")


class StudyError(RuntimeError):
    pass


@dataclass
class StudyPlan:
    cfg: Config
    folds: list  # the Fold of every test subject run
    cache: ClipCache
    classes: tuple
    tasks: list[FoldTask] = field(default_factory=list)  # one per (seed, fold), seeds outermost
    verdicts: list[Reuse] = field(default_factory=list)  # each task's fold folder (refuse_changed)

    @property
    def name(self) -> str:
        return self.cfg.study.name


def plan_study(cfg: Config, progress: bool = True) -> StudyPlan:
    """The study's clips (prepared: SynthME generated, the dataset read and cached), its folds
    (``folds`` of the config, or every subject) and one task per seed and fold."""
    cfg.validate(f"study {cfg.study.name}")
    cache, classes = prepare_cache(cfg, progress)
    try:
        folds = make_folds(cfg.study.protocol, cache.subjects, cache.labels, cfg.study.kfold_k)
    except ValueError as e:
        raise StudyError(f"study {cfg.study.name}: {e}") from None
    if cfg.study.folds:
        unknown = sorted(set(cfg.study.folds) - {f.subject for f in folds})
        if unknown:
            what = "subjects" if cfg.study.protocol == "loso" else f"folds (k1…k{cfg.study.kfold_k})"
            raise StudyError(f"folds {unknown} are not {what} of {cfg.data.dataset}")
        folds = [f for f in folds if f.subject in cfg.study.folds]
    plan = StudyPlan(cfg, folds, cache, tuple(classes))
    for seed in cfg.study.seeds:
        for fold in folds:
            fcfg = copy.deepcopy(cfg)
            fcfg.train.seed = seed
            plan.tasks.append(FoldTask(fcfg, fold, L.fold_dir(L.study_dir(cfg), seed, fold.subject), cache, plan.classes))
    return plan


def _untrained(fold: Path) -> bool:
    """A fold folder that holds no trained epoch (no checkpoint, no result, no epoch's line)."""
    return not any((fold / n).exists() for n in (L.LAST, L.FINAL, L.DONE)) and not L.read_history(fold)


def refuse_changed(plan: StudyPlan, discard: bool) -> None:
    """Before anything is trained: StudyError if a fold folder was made with other settings
    (or, with ``discard``, remove those folders). Finished folds that differ only in the clip
    cache's content (trained on another machine's cache) are read as they are while no fold of
    the study is trained now; when some fold would be, they too stop the study (one table
    would mix two caches). Records every task's verdict in ``plan.verdicts``."""
    content = cache_content(plan.cache)
    plan.verdicts = [reuse(t.out, fold_fingerprint(t.cfg, content, t.fold.subject)) for t in plan.tasks]
    changed = [(t, v) for t, v in zip(plan.tasks, plan.verdicts) if v.refused]
    cache_only = [(t, v) for t, v in zip(plan.tasks, plan.verdicts) if v.kind == "cache_only"]
    if cache_only and not changed and all(v.result is not None for v in plan.verdicts):
        n = len(cache_only)
        log.warning("%s: %d finished fold%s trained on another clip cache (%s); read as they are, none is "
                    "retrained", plan.name, n, "s were" if n != 1 else " was", cache_only[0][1].changes[0])
        cache_only = []
    changed += cache_only
    untrained = [(t, v) for t, v in changed if _untrained(t.out)]  # e.g. a device that failed before epoch 1
    changed = [(t, v) for t, v in changed if not _untrained(t.out)]
    for t, v in untrained:  # nothing computed is lost: the name is free again
        log.warning("%s: no epoch was trained there (made with %s); made again", t.out, "; ".join(v.changes))
        shutil.rmtree(t.out)
    gone = {id(t) for t, _ in untrained}
    plan.verdicts = [Reuse("new") if id(t) in gone else v for t, v in zip(plan.tasks, plan.verdicts)]
    if not changed:
        return
    if discard:
        for t, v in changed:
            log.warning("discarding %s (made with %s)", t.out, "; ".join(v.changes))
            shutil.rmtree(t.out)
        gone = {id(t) for t, _ in changed}
        plan.verdicts = [Reuse("new") if id(t) in gone else v for t, v in zip(plan.tasks, plan.verdicts)]
        return
    root, n = L.study_dir(plan.cfg), len(changed)
    first = changed[0][1].changes
    same = all(v.changes == first for _, v in changed)
    where = ", ".join(str(t.out.relative_to(root)) for t, _ in changed[:6]) + (" …" if n > 6 else "")
    raise StudyError(
        f"study {plan.name!r} ({root}): {n} fold folder{'s' * (n != 1)} {'were' if n != 1 else 'was'} made with other settings and would "
        f"mix old and new numbers ({where}): " + "; ".join(first) + ("" if same else " (and other changes in the "
        "others)") + f". Run under another name (--set name={plan.name}-new) or discard those folds "
        "(cmnet study --discard-changed; run_study(..., discard_changed=True))")


def refuse_other_settings(cfg: Config) -> None:
    """Before a table is written from a study's finished folds without training (``cmnet
    report``): StudyError when a fold of the plan was made with other settings than ``cfg``
    (the clip cache is not compared: reporting reads no clip)."""
    plan = L.plan_folds(L.study_dir(cfg)) or {}  # a malformed plan: ArtifactError naming the key
    bad = []
    for seed, folds in plan.items():
        fcfg = copy.deepcopy(cfg)
        fcfg.train.seed = int(seed)
        for fold in folds:
            out = L.fold_dir(L.study_dir(cfg), seed, fold)
            old = recorded_fingerprint(out)
            if old is not None and L.is_finished(out):
                diff = fingerprint_changes(old, fold_fingerprint(fcfg, old.get("cache"), fold))
                if diff:
                    bad.append((out, diff))
    if bad:
        raise StudyError(f"study {cfg.study.name!r}: {len(bad)} finished fold{'s' * (len(bad) != 1)} {'were' if len(bad) != 1 else 'was'} made with other settings than "
                         f"these ({bad[0][0]}: " + "; ".join(bad[0][1]) + "); report with the settings the study "
                         "was run with (its profile and --set), or run it again under another name")
