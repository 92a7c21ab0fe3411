"""How far a study is, read from its artifacts only — from another terminal, while it runs.

    cmnet status runs/cpu-cmnet                  # one study
    cmnet status runs/cpu-*                      # every variant of a profile
    cmnet status runs/ --watch 30                # every study under runs/, refreshed every 30 s

A fold folder is **done** (``done.json``), **failed** (``failed.json``), **running** or
**stopped** (started, not running: killed, or waiting for a resume). On the machine that runs
it, the fold's lock says which (the process it names is alive or gone); elsewhere (another
machine of a Ray cluster, a shared disk) its files tell: running when they changed within the
last ``stale_after`` seconds (by default three of its epochs, at least five minutes); folds the study planned (``study.json``, written when a study starts) with no
folder yet are **pending**. The estimate is the pending and remaining epochs at the
observed seconds per epoch, shared among the study's workers.

TensorBoard: every fold also writes its per-epoch scalars (train losses and accuracy, the
monitored test metrics, the learning rate) as event files in its folder
(``tensorboard: true``, the default): ``tensorboard --logdir runs/``.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import pandas as pd

from ..runs import layout as L
from ..runs.lock import held_here, lock_holder

STATES = ("done", "running", "stopped", "failed", "pending")
LOSS_COLUMNS = ("train_loss", "train_ce", "train_id", "train_wrst", "train_spearman", "train_acc", "test_accuracy")


def hms(sec) -> str:
    """Seconds as h:mm:ss; "?" when unknown (None or NaN)."""
    if sec is None or (isinstance(sec, float) and math.isnan(sec)):
        return "?"
    sec = int(round(sec))
    return f"{sec // 3600}:{sec // 60 % 60:02d}:{sec % 60:02d}"


def fold_status(fold_dir: Path, now: float | None = None, stale_after: float | None = None,
                study_idle: bool = False) -> dict:
    """State, progress and latest losses of one fold folder. ``study_idle``: the study's lock is
    free (its driver ended: stopped by a signal, killed, or done), so no fold of it runs."""
    now = time.time() if now is None else now
    hist = L.read_history(fold_dir)
    cfg = L.read_json(fold_dir / L.CONFIG)
    epochs = int(cfg.get("epochs", 0)) or None
    per_epoch = sum(r.get("seconds", 0.0) for r in hist) / len(hist) if hist else None
    files = [p for p in fold_dir.iterdir() if p.is_file() and p.name != L.LOCK]  # taking a lock is not progress
    last_change = max((p.stat().st_mtime for p in files), default=None)
    row = {"seed": str(L.seed_of(fold_dir)), "fold": fold_dir.name,
           "epoch": hist[-1]["epoch"] if hist else 0, "epochs": epochs,
           "elapsed_s": round(sum(r.get("seconds", 0.0) for r in hist), 1),
           "s_per_epoch": round(per_epoch, 2) if per_epoch else None}
    row |= {k: hist[-1].get(k) for k in LOSS_COLUMNS} if hist else {k: None for k in LOSS_COLUMNS}
    if L.is_finished(fold_dir):
        state = "done"
        row["epoch"] = epochs or row["epoch"]
    elif (fold_dir / L.FAILED).is_file():
        state = "failed"
    elif held_here(fold_dir):  # its lock names a process of this machine: alive → running, gone → stopped
        state = "running" if lock_holder(fold_dir) is not None else "stopped"
    elif study_idle or _released(fold_dir):  # a lock let go (a SIGINT's clean stop) holds no running fold
        state = "stopped"
    else:
        stale = stale_after if stale_after is not None else max(300.0, 3 * (per_epoch or 0.0))
        state = "running" if last_change is not None and now - last_change < stale else "stopped"
    row["state"] = state
    remaining = 0 if state in ("done", "failed") else (epochs or 0) - row["epoch"]
    row["remaining_s"] = round(remaining * per_epoch, 1) if per_epoch and remaining else (0.0 if not remaining else None)
    return row


def _released(folder: Path) -> bool:
    """The folder's lock file is there and empty: its holder let it go (FolderLock.release)."""
    try:
        return (Path(folder) / L.LOCK).stat().st_size == 0
    except OSError:
        return False


def study_status(study: str | Path, now: float | None = None, stale_after: float | None = None) -> tuple[pd.DataFrame, dict]:
    """One row per fold (planned or started) of one study, and its totals."""
    study = Path(study)
    if not study.is_dir():
        raise FileNotFoundError(f"{study}: no such study folder (expected runs/<name>/seed<k>/<subject>/)")
    now = time.time() if now is None else now
    plan = L.read_plan(study, checked=False) or {}  # {} while it is being written
    planned = L.plan_folds(study, plan) if plan else {}  # a malformed plan: ArtifactError naming the key
    plan = {k: v for k, v in plan.items() if k not in ("epochs", "workers") or (type(v) is int and v > 0)}
    idle = _released(study) or (held_here(study) and lock_holder(study) is None)
    rows = [fold_status(fold_dir, now, stale_after, idle) for fold_dir in L.fold_folders(study)]
    seen = {(r["seed"], r["fold"]) for r in rows}
    for seed, folds in planned.items():
        for fold in folds:
            if (str(seed), fold) not in seen:
                rows.append({"seed": str(seed), "fold": fold, "state": "pending", "epoch": 0,
                             "epochs": plan.get("epochs"), "elapsed_s": 0.0, "remaining_s": None})
    df = pd.DataFrame(rows)
    if df.empty:
        return df, {"study": study.name, **{s: 0 for s in STATES}, "folds": 0, "elapsed_s": 0.0, "eta_s": None}
    df = df.sort_values(["seed", "fold"], key=lambda c: c.map(lambda v: (len(str(v)), str(v)))).reset_index(drop=True)
    counts = df["state"].value_counts()
    totals = {"study": study.name, **{s: int(counts.get(s, 0)) for s in STATES}, "folds": len(df),
              "elapsed_s": round(float(df["elapsed_s"].sum()), 1)}
    # the estimate: remaining epochs of started folds plus pending folds at the mean fold time
    per_epoch = df["s_per_epoch"].dropna().mean() if "s_per_epoch" in df else float("nan")
    epochs = plan.get("epochs") or (df["epochs"].dropna().max() if df["epochs"].notna().any() else None)
    open_ = df[df.state.isin(["running", "stopped", "pending"])]
    if open_.empty:
        totals["eta_s"] = 0.0
    elif pd.notna(per_epoch) and epochs:
        todo_epochs = float((epochs - open_["epoch"]).clip(lower=0).sum())
        totals["eta_s"] = round(todo_epochs * per_epoch / max(1, int(plan.get("workers", 1))), 1)
    else:
        totals["eta_s"] = None
    return df, totals


def find_studies(paths: list[str | Path]) -> list[Path]:
    """Study folders among ``paths``: a study itself (it has seed*/ or study.json), or a
    runs folder holding studies."""
    out = []
    for p in map(Path, paths):
        if not p.is_dir():
            raise FileNotFoundError(f"{p}: no such folder")
        if L.is_study(p):
            out.append(p)
        else:
            found = sorted(q for q in p.iterdir() if q.is_dir() and L.is_study(q))
            if not found:
                raise FileNotFoundError(f"{p}: neither a study folder ({L.SEEDS}/) nor a folder of studies")
            out += found
    return out


def status_table(studies: list[str | Path], now: float | None = None) -> pd.DataFrame:
    """One row per study: its folds per state, training time so far and the estimate left
    (h:mm:ss) — what the training chapter shows, and ``cmnet status`` prints per study."""
    rows = []
    for s in studies:
        _, tot = study_status(s, now)
        rows.append({"study": tot["study"], **{k: tot[k] for k in STATES}, "folds": tot["folds"],
                     "trained": hms(tot["elapsed_s"]), "left (estimate)": hms(tot["eta_s"])})
    return pd.DataFrame(rows).set_index("study")


def by_seed(df: pd.DataFrame) -> pd.DataFrame:
    """Folds per state for every seed of one study."""
    t = df.pivot_table(index="seed", columns="state", values="fold", aggfunc="count", fill_value=0)
    return t.reindex(columns=[s for s in STATES if s in t.columns])


def format_status(studies: list[Path], now: float | None = None, folds: bool = False) -> str:
    """The text ``cmnet status`` prints: per study, its folds per state and seed, the folds
    still open (or, with ``folds``, every fold) with their latest epoch's losses, the elapsed
    training time and the estimate."""
    lines = []
    for s in studies:
        df, tot = study_status(s, now)
        lines.append(f"{tot['study']}: {tot['done']}/{tot['folds']} folds done, {tot['running']} running, "
                     f"{tot['stopped']} stopped, {tot['failed']} failed, {tot['pending']} pending; "
                     f"trained {hms(tot['elapsed_s'])}, estimate {hms(tot['eta_s'])} to go")
        if df.empty:
            continue
        lines += ["  " + line for line in by_seed(df).to_string().splitlines()]
        show = df if folds else df[df.state.isin(["running", "stopped", "failed"])]
        if not show.empty:
            cols = [c for c in ("seed", "fold", "state", "epoch", "epochs", *LOSS_COLUMNS, "remaining_s") if c in show]
            lines += ["  " + line for line in show[cols].to_string(index=False, float_format=lambda v: f"{v:.4g}").splitlines()]
        lines.append("")
    return "\n".join(lines)
