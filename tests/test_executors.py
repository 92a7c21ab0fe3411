"""Studies on Ray (cmnet.executors) against the local executor, with a real Ray instance: the
same artifacts and numbers, a killed worker's fold resumed from its checkpoint, a failing fold
recorded once, and a cluster started with `ray start` (a head and a second worker node on this
machine, loopback only) joined through ``address``."""

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
import ray  # a dependency (pyproject.toml): `make test` runs these with a real Ray instance

from cmnet.study.plan import StudyError
from cmnet.study.run import run_studies, run_study

from test_training import tiny

RAY = dict(executor="ray", cpus_per_fold=1.0)


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def local_run(cfg):
    """The local executor with one torch thread, as each Ray task here has (cpus_per_fold 1):
    other thread counts sum in another order, and a few epochs make it visible."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return run_study(cfg, progress=False)
    finally:
        torch.set_num_threads(n)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """A tiny study run by the local executor (and the data every test here shares)."""
    tmp = tmp_path_factory.mktemp("executors")
    return tmp, local_run(tiny(tmp, epochs=2))


def _same_as_reference(tmp, runs_dir, name="tiny"):
    ref_dir, got_dir = tmp / "runs" / "tiny", Path(runs_dir) / name
    ref = sorted(p.relative_to(ref_dir) for p in ref_dir.rglob("predictions.csv"))
    assert ref == sorted(p.relative_to(got_dir) for p in got_dir.rglob("predictions.csv"))
    for rel in ref:
        pd.testing.assert_frame_equal(pd.read_csv(ref_dir / rel), pd.read_csv(got_dir / rel))
        a = [{k: v for k, v in json.loads(x).items() if k != "seconds"} for x in (ref_dir / rel).with_name("metrics.jsonl").read_text().splitlines()]
        b = [{k: v for k, v in json.loads(x).items() if k != "seconds"} for x in (got_dir / rel).with_name("metrics.jsonl").read_text().splitlines()]
        assert a == b


def test_a_study_on_ray_writes_the_same_artifacts_and_numbers(local_ray, reference):
    tmp, ref = reference
    s = run_study(tiny(tmp, epochs=2, runs_dir=str(tmp / "ray-runs"), results_dir=str(tmp / "ray-results"), **RAY),
                  progress=False)
    assert s["summary"] == ref["summary"] and s["confusion"] == ref["confusion"]
    _same_as_reference(tmp, tmp / "ray-runs")
    for fold in ("sub01", "sub02", "sub03"):
        names = lambda root: sorted(p.name for p in (root / "tiny" / "seed0" / fold).iterdir()  # noqa: E731
                                    if not p.name.startswith("events.out"))
        assert names(tmp / "ray-runs") == names(tmp / "runs")
    assert (tmp / "ray-results" / "tiny" / "table.csv").read_text() == (tmp / "results" / "tiny" / "table.csv").read_text()


def test_several_studies_go_to_ray_in_one_submission(local_ray, reference):
    tmp, ref = reference
    a = tiny(tmp, epochs=2, runs_dir=str(tmp / "multi"), results_dir=str(tmp / "multi-res"), **RAY)
    b = tiny(tmp, epochs=2, runs_dir=str(tmp / "multi"), results_dir=str(tmp / "multi-res"), name="tiny-b",
             sampler="random", **RAY)
    sa, sb = run_studies([a, b], progress=False)
    assert sa["summary"] == ref["summary"] and sb["name"] == "tiny-b" and sb["config"]["sampler"] == "random"
    with pytest.raises(StudyError, match="one submission names a study twice"):
        run_studies([a, a], progress=False)


def test_a_killed_ray_worker_resumes_its_fold_from_its_checkpoint(local_ray, reference):
    tmp, _ = reference
    kw = dict(epochs=8, folds=["sub01"], results_dir=str(tmp / "kill-res"))
    local = local_run(tiny(tmp, runs_dir=str(tmp / "kill-local"), **kw))
    out = tmp / "kill-ray" / "tiny" / "seed0" / "sub01"
    box = {}
    th = threading.Thread(target=lambda: box.update(s=run_study(tiny(tmp, runs_dir=str(tmp / "kill-ray"), **RAY, **kw),
                                                                   progress=False)))
    th.start()
    deadline, victim = time.time() + 120, None
    while time.time() < deadline and victim is None:
        m = out / "metrics.jsonl"
        if m.is_file() and len(m.read_text().splitlines()) >= 2:
            victim = json.loads((out / ".lock").read_text())["pid"]  # the fold's lock names its worker
        time.sleep(0.02)
    assert victim and victim != os.getpid(), "the fold ended before it could be killed"
    os.kill(victim, signal.SIGKILL)
    th.join(300)
    assert not th.is_alive() and "s" in box, "the study did not finish after the kill"
    resumes = [json.loads(x) for x in (out / "resumes.jsonl").read_text().splitlines()]
    # metrics.jsonl is written just before its epoch's checkpoint: the resume is after epoch 1 or later, never 0
    assert len(resumes) == 1 and 1 <= resumes[0]["after_epoch"] < 8 and resumes[0]["pid"] != victim
    lines = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert [x["epoch"] for x in lines] == list(range(1, 9))
    assert box["s"]["summary"] == local["summary"]
    pd.testing.assert_frame_equal(pd.read_csv(out / "predictions.csv"),
                                  pd.read_csv(tmp / "kill-local" / "tiny" / "seed0" / "sub01" / "predictions.csv"))


def test_a_fold_that_fails_on_ray_is_recorded_once_and_the_others_finish(local_ray, reference):
    tmp, _ = reference
    cfg = tiny(tmp, epochs=2, runs_dir=str(tmp / "fail"), results_dir=str(tmp / "fail-res"), **RAY)
    cfg.train.lr = 1e30  # past the key's range (at most 10) on purpose: every fold diverges
    t0 = time.time()
    with pytest.raises(StudyError, match=r"3 folds failed .*frame embeddings are not finite"):
        run_study(cfg, progress=False)
    assert time.time() - t0 < 120  # not retried forever
    for fold in ("sub01", "sub02", "sub03"):
        failed = json.loads((tmp / "fail" / "tiny" / "seed0" / fold / "failed.json").read_text())
        assert "training diverged" in failed["error"]


def test_a_cluster_started_with_ray_start_runs_a_study_through_its_address(reference):
    """`ray start --head` and a second node joined to it (both on this machine, loopback), then
    `cmnet study … --executor ray --address 127.0.0.1:PORT`: the local executor's table."""
    tmp, ref = reference
    ray.shutdown()  # the module's local instance: this test is a client of its own cluster
    exe = str(Path(sys.executable).with_name("ray"))
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0")
    port = 6390 + os.getpid() % 500
    common = ["--num-cpus", "1", "--disable-usage-stats", "--node-ip-address", "127.0.0.1"]
    try:
        subprocess.run([exe, "start", "--head", "--port", str(port), "--include-dashboard=false", *common],
                       check=True, capture_output=True, text=True, env=env, timeout=120)
        subprocess.run([exe, "start", "--address", f"127.0.0.1:{port}", *common], check=True, capture_output=True,
                       text=True, env=env, timeout=120)
        ray.init(address=f"127.0.0.1:{port}", log_to_driver=False, configure_logging=False)
        nodes = [n for n in ray.nodes() if n["Alive"]]
        ray.shutdown()
        assert len(nodes) == 2 and sum(n["Resources"].get("CPU", 0) for n in nodes) == 2
        from cmnet.cli import main

        dirs = [f"--set=runs_dir={tmp / 'cluster'}", f"--set=results_dir={tmp / 'cluster-res'}"]
        base = tiny(tmp, epochs=2).to_flat()
        args = [f"--set={k}={json.dumps(base[k])}" for k in ("synth_subjects", "synth_clips_per_subject", "synth_size",
                                                              "size", "epochs", "batch_size", "ice_width", "lstm_hidden",
                                                              "embed_dim", "num_negatives", "name", "data_root",
                                                              "cache_dir")]
        assert main(["study", *args, *dirs, "--executor", "ray", "--address", f"127.0.0.1:{port}", "--quiet"]) == 0
        _same_as_reference(tmp, tmp / "cluster")
        assert (tmp / "cluster-res" / "tiny" / "table.csv").read_text() == (tmp / "results" / "tiny" / "table.csv").read_text()
    finally:
        ray.shutdown()
        subprocess.run([exe, "stop", "--force"], capture_output=True, env=env, timeout=120)
        shutil.rmtree(tmp / "cluster", ignore_errors=True)
