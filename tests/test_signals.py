"""SIGTERM, SIGHUP and SIGINT stop a two-worker study (`cmnet study`) whole: the command says
so in one line, no worker process is left, the lock is free, and a rerun finishes to the
numbers of an uninterrupted study."""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pandas as pd
import pytest

from cmnet.preprocess.prepare import prepare_cache
from cmnet.runs.lock import lock_holder
from cmnet.study.run import run_study

from test_training import ROOT, tiny

KEYS = ("synth_subjects", "synth_clips_per_subject", "synth_size", "size", "epochs", "batch_size", "ice_width",
        "lstm_hidden", "embed_dim", "num_negatives", "name", "data_root", "cache_dir", "runs_dir", "results_dir",
        "workers", "tensorboard", "executor")


# a stopped study and every process it started are gone within this (the pipe's end: stderr closed by all)
STOP_WITHIN_S = 10.0

# the one line a local Ray instance prints on its own when it starts (from its C++ core)
RAY_NOTICE = "Token authentication is enabled for this Ray cluster."


def _params(tmp: Path, cfg) -> Path:
    p = tmp / "p.yaml"
    p.write_text("\n".join(f"{k}: {json.dumps(v)}" for k, v in cfg.to_flat().items() if k in KEYS))
    return p


def _predictions(runs: Path) -> dict:
    return {p.relative_to(runs).as_posix(): pd.read_csv(p) for p in sorted(runs.rglob("predictions.csv"))}


def _marked(mark: str) -> list[int]:
    """Processes alive whose environment holds ``mark`` (the study's and its workers')."""
    found = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if mark.encode() in (d / "environ").read_bytes():
                    found.append(int(d.name))
            except OSError:
                continue
    return found


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("signals")
    cfg = tiny(tmp, epochs=4, workers=2, tensorboard=False, name="ref")
    prepare_cache(cfg, progress=False)
    run_study(cfg, progress=False)
    return tmp, _predictions(tmp / "runs" / "ref")


# every signal on the local executor; on Ray the two paths that differ there: SIGTERM (ray.init installs a
# handler of its own for it) and SIGINT (KeyboardInterrupt); SIGHUP takes SIGTERM's handler (a minute saved)
@pytest.mark.parametrize("sig, executor", [(signal.SIGTERM, "local"), (signal.SIGHUP, "local"), (signal.SIGINT, "local"),
                                           (signal.SIGTERM, "ray"), (signal.SIGINT, "ray")],
                         ids=lambda v: v.name if isinstance(v, signal.Signals) else v)
def test_a_signal_stops_every_worker_and_the_rerun_finishes_equal(reference, tmp_path, sig, executor):
    """Local: two worker processes; Ray: a local Ray instance the study starts (its raylet,
    GCS and two workers, each fold a task of one CPU)."""
    tmp, want = reference
    cfg = tiny(tmp_path, epochs=4, workers=2, tensorboard=False, name="ref", data_root=str(tmp / "synth"),
               cache_dir=str(tmp / "cache"), executor=executor)
    cmd = [sys.executable, "-m", "cmnet.cli", "study", str(_params(tmp_path, cfg)), "--quiet"]
    mark = f"CMNET_SIGNAL_TEST={uuid.uuid4().hex}"
    env = os.environ | dict([mark.split("=")])
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    study, deadline = tmp_path / "runs" / "ref", time.time() + 180
    while time.time() < deadline and proc.poll() is None:  # both workers have trained an epoch
        started = [m for m in study.glob("seed0/*/metrics.jsonl") if m.read_text().strip()]
        if len(started) >= 2:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the study ended before the signal"
    t0 = time.monotonic()
    os.kill(proc.pid, sig)
    _, err = proc.communicate(timeout=60)
    took = time.monotonic() - t0
    assert proc.returncode == 128 + sig, err
    assert took < STOP_WITHIN_S, f"the study took {took:.1f} s to stop"  # every process, the stderr pipe closed
    lines = [line for line in err.strip().splitlines() if executor != "ray" or not line.startswith(RAY_NOTICE)]
    assert lines == [f"stopped by {signal.Signals(sig).name}: finished folds are kept, the "
                                        "others resume from their last checkpoint when you run the same command "
                                        "again"], err
    time.sleep(0.5)
    assert _marked(mark.split("=")[1]) == [], "a worker outlived the study"
    assert lock_holder(study) is None  # the study's lock is free
    assert len(list(study.rglob("done.json"))) < 3  # stopped before the end: the rerun has folds to resume
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    got = _predictions(study)
    assert got.keys() == want.keys()
    for k in want:
        pd.testing.assert_frame_equal(got[k], want[k])
