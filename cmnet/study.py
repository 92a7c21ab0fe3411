"""Run every fold of an experiment (dataset × model × losses × sampler × seed) and write
its summaries.

    run_study(cfg) → summary dict; artifacts under runs/<name>/seed<k>/<subject>/ and
    small tables under results/<name>/ (summary.json, folds.csv, table.csv, confusion.csv).

Each fold is a self-contained job (config + cache in, fold folder out), so folds can be
handed to any executor; here they run one after another. A finished fold is skipped, an
interrupted one resumes, a failing one (e.g. a non-finite loss) is recorded and the other
folds go on. Rerunning a finished study only rebuilds its tables.
"""

from __future__ import annotations

import copy
import json
import logging
from pathlib import Path

from .config import Config
from .data.splits import loso_folds
from .prepare import prepare_cache
from .results import confusion_table, read_folds, summarize, summary_table
from .train import FoldError, atomic_write_text, run_fold

log = logging.getLogger("cmnet.study")


class StudyError(RuntimeError):
    pass


def study_dir(cfg: Config) -> Path:
    return Path(cfg.study.runs_dir) / cfg.study.name


def run_study(cfg: Config, progress: bool = True) -> dict:
    from tqdm.auto import tqdm

    cache, classes = prepare_cache(cfg, progress)
    folds = loso_folds(list(cache.subjects))
    if cfg.study.folds:
        unknown = sorted(set(cfg.study.folds) - {f.subject for f in folds})
        if unknown:
            raise StudyError(f"folds {unknown} are not subjects of {cfg.data.dataset}")
        folds = [f for f in folds if f.subject in cfg.study.folds]
    root = study_dir(cfg)
    jobs = [(seed, f) for seed in cfg.study.seeds for f in folds]
    failures = []
    bar = tqdm(jobs, desc=f"study {cfg.study.name}", unit="fold", disable=not progress)
    for seed, fold in bar:
        fcfg = copy.deepcopy(cfg)
        fcfg.train.seed = seed
        out = root / f"seed{seed}" / fold.subject
        try:
            r = run_fold(fcfg, cache, classes, fold, out, progress)
        except FoldError as e:
            failures.append({"seed": seed, "fold": fold.subject, "error": str(e)})
            atomic_write_text(out / "failed.json", json.dumps(failures[-1], indent=1))
            tqdm.write(f"FAILED seed {seed} fold {fold.subject}: {e}")
            continue
        (out / "failed.json").unlink(missing_ok=True)
        tqdm.write(f"seed {seed} fold {fold.subject:>8s}: {r['n_test']:3d} clips  acc {r['accuracy']:.3f}  "
                   f"F1 {r['f1_paper']:.3f}  UF1 {r['uf1']:.3f}  UAR {r['uar']:.3f}  ({r['seconds']:.0f} s)")
    summary = write_results(cfg, classes)
    summary["failures"] = failures
    if failures:
        raise StudyError(f"{len(failures)} fold(s) failed (the others are kept): "
                         + "; ".join(f"seed {f['seed']} fold {f['fold']}: {f['error']}" for f in failures))
    return summary


def write_results(cfg: Config, classes) -> dict:
    """Summaries of the finished folds into results/<name>/."""
    root = study_dir(cfg)
    summary = summarize(root, classes)
    summary |= {"name": cfg.study.name, "dataset": cfg.data.dataset, "model": cfg.model.model,
                "protocol": f"LOSO, {cfg.train.epochs} epochs, last epoch evaluated", "config": cfg.to_flat()}
    res = Path(cfg.study.results_dir) / cfg.study.name
    res.mkdir(parents=True, exist_ok=True)
    atomic_write_text(res / "summary.json", json.dumps(summary, indent=1))
    atomic_write_text(res / "folds.csv", read_folds(root).to_csv(index=False))
    atomic_write_text(res / "table.csv", summary_table(summary).to_csv(index=False))
    atomic_write_text(res / "confusion.csv", confusion_table(summary).to_csv())
    return summary
