"""`cmnet status` (a study's progress from its folders) and the TensorBoard scalars of a fold."""

import json
import os
import time

import numpy as np
import pytest

from cmnet.cli import main
from cmnet.fold.scalars import ScalarLog
from cmnet.report.status import find_studies, format_status, study_status


def _fold(root, seed, fold, epochs_done, epochs=4, seconds=10.0, done=False, failed=False, age=0.0, torn=False):
    d = root / f"seed{seed}" / fold
    d.mkdir(parents=True)
    (d / "config.json").write_text(json.dumps({"epochs": epochs}))
    recs = [{"epoch": e, "seconds": seconds, "train_loss": 2.0 - 0.1 * e, "train_ce": 1.6 - 0.1 * e,
             "train_acc": 0.2 * e, "test_accuracy": 0.1 * e} for e in range(1, epochs_done + 1)]
    text = "".join(json.dumps(r) + "\n" for r in recs)
    (d / "metrics.jsonl").write_text(text + ('{"epoch": 9, "seco' if torn else ""))
    if done:
        (d / "done.json").write_text(json.dumps({"accuracy": 0.5}))
    if failed:
        (d / "failed.json").write_text(json.dumps({"error": "non-finite loss"}))
    t = time.time() - age
    for f in d.iterdir():
        os.utime(f, (t, t))
    return d


def test_status_counts_states_and_estimates_what_is_left(tmp_path, capsys):
    study = tmp_path / "runs" / "cpu-cmnet"
    _fold(study, 0, "sub01", 4, done=True, age=7200)
    _fold(study, 0, "sub02", 2, age=5, torn=True)  # being written: the torn last line is skipped
    _fold(study, 0, "sub03", 1, age=3600)  # untouched for an hour: stopped (killed, or waiting for a resume)
    _fold(study, 1, "sub01", 3, failed=True, age=60)
    (study / "study.json").write_text(json.dumps({"name": "cpu-cmnet", "seeds": [0, 1],
                                                  "folds": ["sub01", "sub02", "sub03"], "epochs": 4, "workers": 2}))
    df, tot = study_status(study)
    states = {(r.seed, r.fold): r.state for r in df.itertuples()}
    assert states == {("0", "sub01"): "done", ("0", "sub02"): "running", ("0", "sub03"): "stopped",
                      ("1", "sub01"): "failed", ("1", "sub02"): "pending", ("1", "sub03"): "pending"}
    assert (tot["done"], tot["running"], tot["stopped"], tot["failed"], tot["pending"], tot["folds"]) == (1, 1, 1, 1, 2, 6)
    assert tot["elapsed_s"] == pytest.approx(10.0 * (4 + 2 + 1 + 3))
    # left: sub02 2 epochs, sub03 3, two pending folds 4 each = 13 epochs at 10 s, shared by 2 workers
    assert tot["eta_s"] == pytest.approx(13 * 10.0 / 2)
    row = df[(df.seed == "0") & (df.fold == "sub02")].iloc[0]
    assert row.epoch == 2 and row.train_loss == pytest.approx(1.8) and row.remaining_s == pytest.approx(20.0)
    # the command: one study, or the runs folder holding it
    assert find_studies([tmp_path / "runs"]) == [study]
    assert main(["status", str(tmp_path / "runs")]) == 0
    out = capsys.readouterr().out
    assert "cpu-cmnet: 1/6 folds done, 1 running, 1 stopped, 1 failed, 2 pending" in out
    assert "estimate 0:01:05 to go" in out and "sub03" in out and "stopped" in out
    assert "sub01" in format_status([study], folds=True)
    assert main(["status", str(tmp_path / "nowhere")]) == 1


def test_a_finished_study_has_nothing_left(tmp_path):
    study = tmp_path / "s"
    for f in ("sub01", "sub02"):
        _fold(study, 0, f, 4, done=True, age=100)
    _, tot = study_status(study)
    assert (tot["done"], tot["folds"], tot["eta_s"]) == (2, 2, 0.0)


def _scalars(folder, tag):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    ea = EventAccumulator(str(folder))
    ea.Reload()
    return {e.step: e.value for e in ea.Scalars(tag)}


def test_tensorboard_scalars_of_a_fold_equal_its_metrics(tmp_path):
    from test_training import _fold as fold_of, tiny

    from cmnet.fold.run import run_fold

    cfg = tiny(tmp_path, epochs=3)
    cache, classes, fold = fold_of(cfg)
    out = tmp_path / "fold"
    run_fold(cfg, cache, classes, fold, out, progress=False)
    hist = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    for tag, key in (("train/loss", "train_loss"), ("train/ce", "train_ce"), ("train/acc", "train_acc"),
                     ("test/accuracy", "test_accuracy"), ("optim/lr", "lr")):
        got = _scalars(out, tag)
        assert sorted(got) == [1, 2, 3]
        np.testing.assert_allclose([got[r["epoch"]] for r in hist], [r[key] for r in hist], rtol=1e-6)
    # off: no event files
    off = tmp_path / "off"
    run_fold(tiny(tmp_path, epochs=1, tensorboard=False), cache, classes, fold, off, progress=False)
    assert not list(off.glob("events.out.tfevents.*"))


def test_a_resumed_fold_never_shows_an_epoch_twice(tmp_path):
    log = ScalarLog(tmp_path, 0)
    for e in (1, 2, 3):  # epoch 3 was logged, then the process died before its checkpoint
        log.epoch({"epoch": e, "train_loss": float(e)})
    log.close()
    time.sleep(1.1)  # a new event file (its name carries the second)
    log = ScalarLog(tmp_path, 2)  # resumed from the checkpoint of epoch 2
    for e in (3, 4):
        log.epoch({"epoch": e, "train_loss": 10.0 * e})
    log.close()
    assert _scalars(tmp_path, "train/loss") == {1: 1.0, 2: 2.0, 3: 30.0, 4: 40.0}


def test_prediction_figure_shows_the_predicted_class_and_k():
    import matplotlib

    matplotlib.use("Agg")
    from cmnet.report.plots import prediction_figure

    frames = np.zeros((16, 8, 8, 3), np.uint8)
    probs = {"disgust": 0.1, "happiness": 0.6, "others": 0.3}
    fig = prediction_figure({"frames": frames, "probs": probs, "k": list(np.linspace(0, 1, 16))}, "clip")
    titles = [a.get_title() for a in fig.axes]
    assert "predicted: happiness (60.0 %)" in titles
    assert len(fig.axes[1].lines[0].get_ydata()) == 16
    bars = fig.axes[2].patches
    assert [round(b.get_width(), 6) for b in bars] == [10.0, 60.0, 30.0]
    # MMNet: two frames, no intensity curve
    fig = prediction_figure({"frames": frames[:2], "probs": probs, "k": None, "model": "mmnet"})
    assert "mmnet has no per-frame intensity" in fig.axes[1].texts[0].get_text()


def test_a_folds_lock_decides_running_or_stopped_on_its_machine(tmp_path):
    """Files untouched for an hour but the lock held by a live process: running; fresh files but
    the lock's process gone (killed): stopped."""
    import socket
    import subprocess
    import sys

    from cmnet.report.status import fold_status
    from cmnet.runs.lock import FolderLock

    quiet = _fold(tmp_path, 0, "sub01", 2, age=3600)
    with FolderLock(quiet, "fold"):
        assert fold_status(quiet)["state"] == "running"
    assert fold_status(quiet)["state"] == "stopped"  # released, untouched: the file times decide
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    fresh = _fold(tmp_path, 0, "sub02", 2, age=1)
    (fresh / ".lock").write_text(json.dumps({"host": socket.gethostname(), "pid": int(dead.stdout), "since": "x"}))
    assert fold_status(fresh)["state"] == "stopped"
    elsewhere = _fold(tmp_path, 0, "sub03", 2, age=1)  # a lock of another machine: the file times decide
    (elsewhere / ".lock").write_text(json.dumps({"host": "another-host", "pid": 1, "since": "x"}))
    assert fold_status(elsewhere)["state"] == "running"
