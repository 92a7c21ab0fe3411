"""No tables from half a study (issue 35): `cmnet report` and `cmnet pack` refuse a study whose
planned folds (study.json: seeds × folds) are not all finished, naming the missing folds per
seed, unless --partial (then labelled partial); `cmnet status` counts the same folds done; a
study.json that is not a plan is one line naming it."""

import json
import tarfile

import pytest

from cmnet.cli import main
from cmnet.io import write_text
from cmnet.report.status import study_status
from cmnet.runs import layout as L

CLASSES = ["negative", "positive", "surprise"]


def _fold(study, seed, fold):
    d = L.fold_dir(study, seed, fold)
    d.mkdir(parents=True)
    write_text(d / L.METRICS, json.dumps({"epoch": 1, "train_loss": 1.0}) + "\n")
    write_text(d / L.PREDICTIONS, "key,subject,label,pred,p_negative,p_positive,p_surprise\n"
                                  f"{fold}/c0,{fold},negative,negative,0.5,0.3,0.2\n"
                                  f"{fold}/c1,{fold},positive,surprise,0.2,0.3,0.5\n")
    write_text(d / L.DONE, json.dumps({"fold": fold, "n_test": 2, "accuracy": 0.5, "f1_paper": 0.4, "uf1": 0.3,
                                       "uar": 0.5}))


def _study(tmp_path, seeds=(0, 1), folds=("k1", "k2"), done=((0, "k1"), (0, "k2"), (1, "k1"))):
    study = tmp_path / "runs" / "s"
    study.mkdir(parents=True)
    L.write_plan(study, {"name": "s", "seeds": list(seeds), "folds": list(folds), "epochs": 1, "workers": 1})
    for seed, fold in done:
        _fold(study, seed, fold)
    params = tmp_path / "s.yaml"
    params.write_text(f"name: s\ndataset: casme2\nruns_dir: {tmp_path / 'runs'}\nresults_dir: {tmp_path / 'results'}\n")
    return study, params


def _err(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_report_refuses_half_a_study_and_partial_labels_it(tmp_path, capsys):
    study, params = _study(tmp_path)
    assert main(["report", str(params)]) == 1
    assert _err(capsys) == (f"error: {study}: not finished (seed 1: k2 missing): no tables from half a study; "
                            "`cmnet study` finishes it, or --partial writes them labelled partial")
    assert not (tmp_path / "results").exists()
    assert main(["report", str(params), "--partial"]) == 0
    header = capsys.readouterr().out.splitlines()[0]
    assert header.endswith("; PARTIAL: seed 1: k2 missing"), header
    summary = json.loads((tmp_path / "results" / "s" / L.SUMMARY).read_text())
    assert summary["partial"] is True and summary["missing"] == {"1": ["k2"]}
    assert [s["folds"] for s in summary["seeds"]] == [2, 1]
    # status agrees: the same folds done, the missing one pending
    df, tot = study_status(study)
    assert (tot["done"], tot["pending"], tot["folds"]) == (3, 1, 4)
    assert {(r.seed, r.fold) for r in df.itertuples() if r.state != "done"} == {("1", "k2")}
    # finished: not partial
    _fold(study, 1, "k2")
    assert main(["report", str(params)]) == 0
    summary = json.loads((tmp_path / "results" / "s" / L.SUMMARY).read_text())
    assert summary["partial"] is False and summary["missing"] == {}
    assert "PARTIAL" not in capsys.readouterr().out


def test_a_whole_seed_missing_is_named(tmp_path, capsys):
    study, params = _study(tmp_path, done=((0, "k1"), (0, "k2")))
    assert main(["report", str(params)]) == 1
    assert "(seed 1: all 2 folds missing)" in _err(capsys)
    _, tot = study_status(study)
    assert (tot["done"], tot["pending"]) == (2, 2)


def test_pack_refuses_an_unfinished_study_unless_partial(tmp_path, capsys):
    study, _ = _study(tmp_path)
    out = tmp_path / "a.tar.gz"
    assert main(["pack", str(study), "--out", str(out)]) == 1
    assert _err(capsys) == (f"error: {study}: not finished (seed 1: k2 missing): no pack from half a study; "
                            "`cmnet study` finishes it, or --partial packs it as it is")
    assert not out.exists()
    assert main(["pack", str(study), "--out", str(out), "--partial"]) == 0
    with tarfile.open(out) as t:
        assert sum(n.endswith(L.DONE) for n in t.getnames()) == 3
    none, _ = _study(tmp_path / "none", done=())
    assert main(["pack", str(none), "--out", str(tmp_path / "b.tar.gz")]) == 1
    assert "(seed 0: all 2 folds missing; seed 1: all 2 folds missing)" in _err(capsys)


@pytest.mark.parametrize("plan, key", [({"name": "s"}, "seeds"), ({"seeds": [0]}, "folds"),
                                       ({"seeds": "0", "folds": ["k1"]}, "seeds"),
                                       ({"seeds": [0], "folds": [1, 2]}, "folds"), ([1, 2], "seeds")])
def test_a_study_json_that_is_not_a_plan_is_one_line(tmp_path, capsys, plan, key):
    study, params = _study(tmp_path)
    write_text(study / L.STUDY, json.dumps(plan))  # recorded: it reads as written, and is not a plan
    for argv in (["report", str(params)], ["status", str(study)],
                 ["pack", str(study), "--out", str(tmp_path / "x.tar.gz")]):
        assert main(argv) == 1, argv
        line = _err(capsys)
        assert line.startswith(f"error: {study / L.STUDY}: not a study's plan: {key!r} must be a list of "), line


def test_a_fold_stopped_by_sigint_reads_stopped_not_running(tmp_path):
    """A SIGINT stops a study cleanly: its locks are let go (emptied), its fold's files are fresh.
    `status` said "running" for five minutes (the files' age); the released locks say stopped."""
    import os
    import socket

    from cmnet.runs.lock import FolderLock

    study, _ = _study(tmp_path, done=((0, "k1"),))
    fold = L.fold_dir(study, 0, "k2")
    fold.mkdir(parents=True)
    (fold / L.CONFIG).write_text(json.dumps({"epochs": 4}))
    (fold / L.METRICS).write_text(json.dumps({"epoch": 1, "seconds": 3.0}) + "\n")  # written a moment ago
    with FolderLock(study, "study"), FolderLock(fold, "fold"):  # the study runs: its fold is running
        df, _ = study_status(study)
        assert df.set_index(["seed", "fold"]).loc[("0", "k2"), "state"] == "running"
    df, tot = study_status(study)  # stopped (the locks released, as after Ctrl-C)
    assert df.set_index(["seed", "fold"]).loc[("0", "k2"), "state"] == "stopped" and tot["running"] == 0
    # a study whose driver was killed: its lock names a process of this machine that is gone
    (study / L.LOCK).write_text(json.dumps({"host": socket.gethostname(), "pid": 2 ** 22 + os.getpid() % 1000}))
    (fold / L.LOCK).unlink()
    assert study_status(study)[0].set_index(["seed", "fold"]).loc[("0", "k2"), "state"] == "stopped"


# ------------------------------------------------------------------ hostile contents (Hypothesis)

from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                 max_size=4), max_leaves=12)
_PLANS = _JSON | st.fixed_dictionaries({"seeds": _JSON, "folds": _JSON}) | st.fixed_dictionaries(
    {"seeds": st.lists(st.integers(-2, 3), max_size=3), "folds": st.lists(st.sampled_from(["k1", "k2", "", "x/y"]),
                                                                          max_size=3)})
_DONES = _JSON | st.fixed_dictionaries({k: _JSON for k in ("fold", "n_test", "accuracy", "f1_paper", "uf1", "uar")})


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(plan=_PLANS, done=_DONES)
def test_report_status_and_pack_over_hostile_plans_and_records(tmp_path_factory, plan, done):
    """Whatever study.json and a done.json hold (recorded: they read as written), `report`,
    `status` and `pack` give a result or one line, never an internal error."""
    import contextlib
    import io

    tmp = tmp_path_factory.mktemp("hostile")
    study, params = _study(tmp)
    write_text(study / L.STUDY, json.dumps(plan))
    write_text(L.fold_dir(study, 0, "k1") / L.DONE, json.dumps(done))
    for argv in (["report", str(params)], ["status", str(study)], ["pack", str(study), "--out", str(tmp / "p.tar.gz"),
                                                                      "--force"]):
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            rc = main(argv)
        assert rc in (0, 1), (argv, err.getvalue())
        assert rc == 0 or len(err.getvalue().strip().splitlines()) == 1, err.getvalue()
