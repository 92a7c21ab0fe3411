"""Where everything of a study lives, by name: the one module that spells the run folder's
file names, and their readers.

    runs/<name>/                      the study's folder (``study_dir(cfg)``)
      study.json                      the plan: seeds, folds, epochs, executor (written when it starts)
      .lock                           one writer at a time (cmnet.runs.lock)
      seed<k>/<subject>/              one fold folder (``fold_dir``), holding:
        config.json       the resolved config (flat)
        env.json          package versions, git commit, device (cmnet.runs.provenance)
        fingerprint.json  what produced the folder (cmnet.runs.fingerprint)
        metrics.jsonl     one line per epoch: training losses and accuracy; monitored test metrics
        last.pt           checkpoint after every epoch (the resume point)
        final.pt          the final weights, classes, config and history (``weights_only`` loadable)
        predictions.csv   per test clip: key, subject, true and predicted class, probabilities
        intensity.npz     per test clip and frame (INTENSITY_KEYS): k, a prototype draw q and its
                          mean and std, the ground truth (SynthME; NaN otherwise), the apex; and η
        diagnostics.json  CMNet with λ1 > 0: the L_ID shortcut diagnostic on the test clips
        done.json         the final metrics; its presence marks the fold finished
        failed.json       why the fold failed (a non-finite loss), if it did
        resumes.jsonl     one line per resume from last.pt, if any
        checksums.json    size and SHA-256 of every file above (cmnet.io)
    results/<name>/                   the study's tables (``results_dir(cfg)``): summary.json,
                                      folds.csv, table.csv, confusion.csv

Every reader of a finished fold reads only the folds of the study's plan and checks each file
against the size and checksum recorded when it was written (ArtifactError when damaged).
"""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import numpy as np

from .. import io as fio

log = logging.getLogger("cmnet.runs")

SEEDS = "seed*"  # the study's seed<k>/ folders (fold_dir makes them)
STUDY = "study.json"
LOCK = ".lock"
CONFIG = "config.json"
ENV = "env.json"
FINGERPRINT = "fingerprint.json"
METRICS = "metrics.jsonl"
LAST = "last.pt"
FINAL = "final.pt"
PREDICTIONS = "predictions.csv"
INTENSITY = "intensity.npz"
DIAGNOSTICS = "diagnostics.json"
DONE = "done.json"
FAILED = "failed.json"
RESUMES = "resumes.jsonl"
WEIGHTS = (FINAL, LAST)
# a finished fold has these and every other file its checksums.json records (final.pt too,
# unless its weights were stripped on purpose: cmnet.runs.pack.strip_weights)
FINISHED = (DONE, PREDICTIONS, METRICS)
# the study's tables under results/<name>/
SUMMARY, FOLDS_TABLE, METRIC_TABLE, CONFUSION_TABLE = "summary.json", "folds.csv", "table.csv", "confusion.csv"
# ... and every test clip's prediction and intensity record (small: every interval of the book
# is recomputed from results/ alone); the same names as a fold's files, one level up
PREDICTIONS_TABLE, INTENSITY_TABLE = PREDICTIONS, INTENSITY
# ... and every finished fold's per-epoch record (training losses, each term's active share and
# gradient norm, the monitored test metrics): the learning curves and loss terms from results/ alone
EPOCHS_TABLE = "epochs.csv"
PREDICTION_COLUMNS = ("seed", "key", "subject", "label", "pred")
# per test clip (first axis) of intensity.npz; "eta" (the prototype's η) is stored beside them
INTENSITY_KEYS = ("keys", "k", "q", "q_mean", "q_std", "truth", "apex")


# ------------------------------------------------------------------ folders

def study_dir(cfg) -> Path:
    return _named(Path(cfg.study.runs_dir), cfg.study.name)


def results_dir(cfg) -> Path:
    return _named(Path(cfg.study.results_dir), cfg.study.name)


def _named(parent: Path, name: str) -> Path:
    """``parent / name``; a name longer than the file system takes (NAME_MAX: 255 bytes on most)
    is a ConfigError naming the key, before anything is written."""
    import os

    from ..params import ConfigError

    probe = parent.absolute()
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        limit = os.pathconf(probe, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):  # no pathconf (Windows): the common limit
        limit = 255
    if len(name.encode("utf-8")) > limit:
        raise ConfigError(f"parameter 'name' is {len(name.encode('utf-8'))} bytes long ({name[:40]}…); a folder name "
                          f"on this file system ({probe}) holds at most {limit}: give a shorter name")
    return parent / name


def fold_dir(study: Path, seed: int, subject: str) -> Path:
    return Path(study) / f"seed{seed}" / subject


def seed_of(fold: Path) -> int:
    """The seed of a fold folder ``…/seed<k>/<subject>``."""
    return int(Path(fold).parent.name.removeprefix("seed"))


def fold_folders(study: Path) -> list[Path]:
    """Every fold folder of a study (started, finished or not), in seed then name order."""
    return [f for s in sorted(Path(study).glob(SEEDS)) for f in sorted(p for p in s.iterdir() if p.is_dir())]


def is_study(folder: Path) -> bool:
    """A study's folder: it has a plan or seed folders."""
    folder = Path(folder)
    return (folder / STUDY).is_file() or any(folder.glob(SEEDS))


def is_finished(fold: Path) -> bool:
    return (Path(fold) / DONE).is_file()


# ------------------------------------------------------------------ the plan

def write_plan(study: Path, plan: dict) -> None:
    fio.write_text(Path(study) / STUDY, json.dumps(plan, indent=1))


def read_plan(study: Path, checked: bool = True) -> dict | None:
    """The study's plan (None without one); ``checked``: ArtifactError when it is damaged,
    else an unreadable plan reads as {} (the status reader, while the study writes it)."""
    p = Path(study) / STUDY
    if not p.is_file():
        return None
    return json.loads(fio.check(p).read_text()) if checked else read_json(p)


def plan_folds(study: Path, plan: dict | None = None) -> dict[int, list[str]] | None:
    """The plan's folds per seed (study.json: ``seeds`` × ``folds``; ``plan``: one already read),
    None without a plan; a plan that is not one (a key missing, a value of the wrong type) is an
    ArtifactError naming the file and the key."""
    plan = read_plan(study) if plan is None else plan
    if plan is None:
        return None
    seeds, folds = (plan.get("seeds"), plan.get("folds")) if isinstance(plan, dict) else (None, None)
    for key, value, ok in (("seeds", seeds, lambda v: type(v) is int and v >= 0),
                           ("folds", folds, lambda v: isinstance(v, str) and v and "/" not in v)):
        if not isinstance(value, list) or not value or not all(map(ok, value)):
            want = "whole numbers ≥ 0" if key == "seeds" else "fold names"
            raise fio.ArtifactError(f"{Path(study) / STUDY}: not a study's plan: {key!r} must be a list of {want}, "
                                    f"got {fio.shorten(repr(value))} (a study writes it when it starts: run it again)")
    return {s: list(dict.fromkeys(folds)) for s in dict.fromkeys(seeds)}


def missing_folds(study: Path, plan: dict | None = None) -> dict[int, list[str]]:
    """Per seed of the plan, its folds without done.json (``cmnet status`` counts the others as
    done; tables and packs refuse a study while any is missing, unless asked for a partial one)."""
    planned = plan_folds(study, plan) or {}
    out = {s: [f for f in folds if not is_finished(fold_dir(study, s, f))] for s, folds in planned.items()}
    return {s: f for s, f in out.items() if f}


def describe_missing(missing: dict[int, list[str]], plan: dict[int, list[str]]) -> str:
    """"seed 0: k2, k3 missing; seed 1: all 4 folds missing" """
    return "; ".join(f"seed {s}: " + (f"all {len(plan[s])} folds" if len(f) == len(plan[s]) and len(f) > 1
                                       else ", ".join(f)) + " missing" for s, f in missing.items())


class UnfinishedStudy(RuntimeError):
    """Tables or a pack asked of a study whose planned folds are not all finished."""


def refuse_unfinished(study: Path, partial: bool, what: str = "tables") -> dict[int, list[str]]:
    """The missing folds per seed; UnfinishedStudy naming them unless ``partial``."""
    planned = plan_folds(study)
    missing = missing_folds(study) if planned else {}
    if missing and not partial:
        how = "--partial writes them labelled partial" if what == "tables" else "--partial packs it as it is"
        raise UnfinishedStudy(f"{study}: not finished ({describe_missing(missing, planned)}): no {what} from half a "
                              f"study; `cmnet study` finishes it, or {how}")
    return missing


def read_json(path: Path) -> dict:
    """A JSON file as it is now, {} when missing or being written (the status reader)."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError):
        return {}


# ------------------------------------------------------------------ finished folds

def finished_problems(out: Path) -> list[str]:
    """Why the finished fold ``out`` cannot be read as it is ([] when it can): each damaged
    or missing file, by path."""
    rec = fio.read_checksums(out)
    names = list(dict.fromkeys([*FINISHED, *rec]))
    return [f"{out / n}: {why}" for n in names if (why := fio.problem(out / n, rec))]


def finished_result(out: Path) -> dict | None:
    """done.json's metrics when ``out`` is a finished fold whose every file is intact; None
    otherwise (unfinished, or damaged: then each damaged file is logged by path)."""
    out = Path(out)
    if not is_finished(out):
        return None
    bad = finished_problems(out)
    if not bad:
        return json.loads((out / DONE).read_text())
    log.warning("finished fold %s has damaged files, recomputed: %s", out, "; ".join(bad))
    return None


def finished(study: str | Path, name: str) -> list[tuple[int, Path]]:
    """(seed, path of ``name``) of every finished fold of the study's plan that has ``name``,
    each checked (ArtifactError when damaged). Without a plan, every fold folder."""
    study = Path(study)
    p = plan_folds(study)
    plan = None if p is None else {(s, f) for s, folds in p.items() for f in folds}
    out = []
    for done in sorted(study.glob(f"{SEEDS}/*/{DONE}")):
        seed, fold = seed_of(done.parent), done.parent.name
        f = done.parent / name
        if (plan is None or (seed, fold) in plan) and f.is_file():
            named = done_record(fio.check(done)).get("fold", fold)
            if named != fold:  # a fold folder copied over another
                raise fio.ArtifactError(f"{done}: the results of fold {named}, in the folder of fold {fold}; remove "
                                        f"{done.parent} (the study trains it again)")
            out.append((seed, fio.check(f)))
    return out


# ------------------------------------------------------------------ per-epoch history

def parse_history(text: str) -> list[dict]:
    """metrics.jsonl's records; a line being written (or damaged) is skipped."""
    out = []
    for line in text.splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


def write_history(fold: Path, history: list[dict]) -> None:
    fio.write_text(Path(fold) / METRICS, "".join(json.dumps(r) + "\n" for r in history))


def read_history(fold: Path) -> list[dict]:
    """The per-epoch records of a fold folder as they are now (a fold in training too)."""
    f = Path(fold) / METRICS
    return parse_history(f.read_text()) if f.is_file() else []


def histories(study: str | Path) -> list[tuple[int, str, list[dict]]]:
    """(seed, fold, per-epoch records) of every finished fold of the study's plan, checked."""
    return [(seed, f.parent.name, parse_history(f.read_text())) for seed, f in finished(study, METRICS)]


def read_epochs(study: str | Path):
    """Every finished fold's per-epoch records, a row per (seed, fold, epoch): from the fold
    folders (runs/<study>/), or a results folder's committed epochs.csv (results/<study>/)."""
    import pandas as pd

    if (Path(study) / EPOCHS_TABLE).is_file():
        return pd.read_csv(Path(study) / EPOCHS_TABLE, dtype={"fold": str})
    return pd.DataFrame([{"seed": seed, "fold": fold, **r} for seed, fold, hist in histories(study) for r in hist])


# ------------------------------------------------------------------ per-clip results

def write_predictions(fold: Path, classes, keys, subjects, y, pred, probs) -> None:
    """predictions.csv: per test clip its key, subject, true and predicted class and the
    probability of every class (6 decimals)."""
    import csv

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["key", "subject", "label", "pred"] + [f"p_{c}" for c in classes])
    for j in range(len(keys)):
        w.writerow([keys[j], subjects[j], classes[y[j]], classes[pred[j]]] + [f"{p:.6f}" for p in probs[j]])
    fio.write_text(Path(fold) / PREDICTIONS, buf.getvalue())


def read_predictions(study: str | Path):
    """Every finished fold's predictions.csv, one row per test clip, with its seed; for a
    results folder (results/<study>/), its committed predictions.csv."""
    import pandas as pd

    if (Path(study) / PREDICTIONS_TABLE).is_file():
        return pd.read_csv(Path(study) / PREDICTIONS_TABLE)
    frames = []
    for seed, p in finished(study, PREDICTIONS):
        df = pd.read_csv(p)
        df.insert(0, "seed", seed)
        frames.append(df)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def write_intensity(fold: Path, eta, **per_clip) -> None:
    """intensity.npz: the arrays of INTENSITY_KEYS (first axis: test clips) and η."""
    if set(per_clip) != set(INTENSITY_KEYS):
        raise ValueError(f"intensity.npz takes {INTENSITY_KEYS}, got {sorted(per_clip)}")
    b = io.BytesIO()
    np.savez(b, **{k: per_clip[k] for k in INTENSITY_KEYS}, eta=eta)
    fio.write_bytes(Path(fold) / INTENSITY, b.getvalue())


def read_intensity(study: str | Path) -> dict[str, np.ndarray]:
    """All test clips' intensity records of a study (every finished fold and seed), concatenated,
    with each clip's seed; for a results folder, its committed intensity.npz."""
    if (Path(study) / INTENSITY_TABLE).is_file():
        with np.load(Path(study) / INTENSITY_TABLE) as z:
            return {k: z[k] for k in z.files}
    found = finished(study, INTENSITY)
    parts = [np.load(p) for _, p in found]
    if not parts:
        raise FileNotFoundError(f"no {INTENSITY} under {study} (a model without an intensity branch?)")
    out = {k: np.concatenate([p[k] for p in parts]) for k in INTENSITY_KEYS}
    out["seed"] = np.concatenate([np.full(len(p["keys"]), seed) for p, (seed, _) in zip(parts, found)])
    return out


def read_done(study: str | Path) -> list[dict]:
    """done.json of every finished fold of the plan, with its seed."""
    return [{"seed": seed, **done_record(f)} for seed, f in finished(study, DONE)]


DONE_NUMBERS = ("n_test", "accuracy", "f1_paper", "uf1", "uar")
DONE_REQUIRED = ("n_test", "accuracy")  # every record has these; the other metrics, where present, are numbers


def done_record(path: Path) -> dict:
    """A done.json's metrics; one that is not a fold's record (not JSON, not a mapping, n_test or
    accuracy missing, a metric that is not a number) is an ArtifactError naming the file and the key."""
    try:
        rec = json.loads(Path(path).read_text())
    except (ValueError, UnicodeDecodeError) as e:
        raise fio.ArtifactError(f"{path}: not JSON ({fio.shorten(str(e), 100)})") from None
    if not isinstance(rec, dict):
        raise fio.ArtifactError(f"{path}: not a fold's record (a JSON mapping); remove it and the fold trains again")
    bad = [k for k in DONE_NUMBERS if (k in rec or k in DONE_REQUIRED)
           and (isinstance(rec.get(k), bool) or not isinstance(rec.get(k), (int, float)))]
    if bad or not isinstance(rec.get("fold", ""), str):
        raise fio.ArtifactError(f"{path}: not a fold's record: {repr(bad[0]) if bad else 'fold'} is "
                                f"{fio.shorten(repr(rec.get(bad[0] if bad else 'fold')), 60)}; remove it and the "
                                "fold trains again")
    return rec


def read_diagnostics(study: str | Path) -> list[dict]:
    """diagnostics.json of every finished fold of the plan, with its seed and fold."""
    return [{"seed": seed, "fold": d.parent.name, **json.loads(d.read_text())} for seed, d in finished(study, DIAGNOSTICS)]
