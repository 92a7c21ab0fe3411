"""Kill anywhere: a study process killed with SIGKILL at several points (half-way through a
checkpoint write, during an evaluation, between the final weights and done.json, half-way
through writing the tables), then run again: the results equal an uninterrupted run's."""

import json
import subprocess
import sys
import textwrap

import pandas as pd
import pytest

from cmnet import io as rundir
from cmnet.preprocess.prepare import prepare_cache
from cmnet.study.run import run_study

from test_training import ROOT, tiny

_KILLER = textwrap.dedent("""
    import json, os, signal, sys
    import cmnet.io as A, cmnet.fold.run as T
    from cmnet.config import Config
    from cmnet.study.run import run_study

    point, flat = sys.argv[1], json.loads(sys.argv[2])
    seen = {"n": 0}

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    real_write, real_eval = A._write_all, T.evaluate

    def write_all(fd, data):
        path = os.readlink(f"/proc/self/fd/{fd}")
        if point == "checkpoint" and path.endswith(".last.pt.tmp"):
            seen["n"] += 1
            if seen["n"] == 2:  # the second checkpoint, half written
                os.write(fd, data[: len(data) // 2])
                die()
        if point == "before-done" and path.endswith(".done.json.tmp"):
            die()  # final.pt written, done.json not
        if point == "tables" and path.endswith(".table.csv.tmp"):
            os.write(fd, data[:5])
            die()
        real_write(fd, data)

    def evaluate(*a, **k):
        seen["n"] += 1
        if point == "evaluation" and seen["n"] == 3:  # the first fold's final evaluation
            die()
        return real_eval(*a, **k)

    A._write_all, T.evaluate = write_all, evaluate
    run_study(Config.from_flat(flat, "test"), progress=False)
""")


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("kills")
    cfg = tiny(tmp, epochs=2, folds=["sub01", "sub02"])
    prepare_cache(cfg, progress=False)
    return tmp, run_study(cfg, progress=False)


def _predictions(runs):
    return {p.relative_to(runs): pd.read_csv(p) for p in sorted(runs.rglob("predictions.csv"))}


@pytest.mark.parametrize("point", ["checkpoint", "evaluation", "before-done", "tables"])
def test_a_study_killed_at_any_point_resumes_to_the_uninterrupted_results(reference, point):
    tmp, ref = reference
    runs = tmp / f"runs-{point}"
    flat = tiny(tmp, epochs=2, folds=["sub01", "sub02"], runs_dir=str(runs),
                results_dir=str(tmp / f"results-{point}")).to_flat()
    r = subprocess.run([sys.executable, "-c", _KILLER, point, json.dumps(flat)], cwd=ROOT, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == -9, r.stderr  # it was killed, not finished
    fold = runs / "tiny" / "seed0" / "sub01"
    left = {"checkpoint": [".last.pt.tmp"], "before-done": [".done.json.tmp"]}.get(point, [])
    assert sorted(p.name for p in fold.glob(".*.tmp")) == left  # a killed write leaves only its temporary
    if point != "tables":
        assert not (fold / "done.json").exists()
    s = run_study(tiny(tmp, epochs=2, folds=["sub01", "sub02"], runs_dir=str(runs),
                       results_dir=str(tmp / f"results-{point}")), progress=False)
    assert s["summary"] == ref["summary"] and s["confusion"] == ref["confusion"]
    got, want = _predictions(runs), _predictions(tmp / "runs")
    assert list(got) == list(want)
    for k in want:
        pd.testing.assert_frame_equal(got[k], want[k])
    for d in (runs / "tiny" / "seed0").iterdir():
        assert [rundir.problem(d / n) for n in ("done.json", "final.pt", "predictions.csv")] == [None] * 3
    assert not list(runs.rglob(".*.tmp")) and not list((tmp / f"results-{point}").rglob(".*.tmp"))
    table = (tmp / f"results-{point}" / "tiny" / "table.csv").read_text()
    assert table == (tmp / "results" / "tiny" / "table.csv").read_text()
