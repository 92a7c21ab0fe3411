"""Results that can be trusted: fingerprints of fold folders, validated parameters, damaged
artifacts, one writer per study, disk full. Each test is a row of the "bad input → what you
get" table (README); tests/test_kills.py holds the kills at several points."""

import errno
import json
import logging
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
import torch

from cmnet import io as fio
from cmnet.runs import pack
from cmnet.io import ArtifactError, WriteError
from cmnet.runs.lock import FolderLock, LockedError
from cmnet.cli import main
from cmnet.config import NOT_IN_FINGERPRINT, Config
from cmnet.preprocess.prepare import prepare_cache
from cmnet.preprocess.cache import load_cache
from cmnet.study.plan import StudyError
from cmnet.study.run import run_study
from cmnet.fold.run import FingerprintError, run_fold

from test_training import ROOT, _fold, interrupt_after_epoch, tiny


def _cli_dirs(tmp_path, **kw):
    cfg = tiny(tmp_path, **kw)
    keep = {"synth_subjects", "synth_clips_per_subject", "synth_size", "size", "epochs", "batch_size", "ice_width",
            "lstm_hidden", "embed_dim", "num_negatives", "name", "data_root", "cache_dir", "runs_dir", "results_dir"}
    return [f"--set={k}={json.dumps(v)}" for k, v in cfg.to_flat().items() if k in keep]


def _final_mtimes(tmp_path):
    return {p: p.stat().st_mtime_ns for p in (tmp_path / "runs").rglob("final.pt")}


# ------------------------------------------------------------------ fingerprints

def test_a_changed_parameter_never_prints_old_numbers(tmp_path, capsys):
    """The issue's report: a second `cmnet study` with other parameters under the same name
    printed the first run's numbers. Now it stops before training, naming the keys."""
    args = _cli_dirs(tmp_path)
    assert main(["study", *args, "--quiet"]) == 0
    first = capsys.readouterr().out
    before = _final_mtimes(tmp_path)
    assert main(["study", *args, "--set=epochs=3", "--set=lr=0.05", "--quiet"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and "accuracy" not in out  # no table at all, old or new
    assert "study 'tiny'" in err and "3 fold folders were made with other settings" in err
    assert "epochs: 2 → 3" in err and "lr: 0.001 → 0.05" in err
    assert "--discard-changed" in err and "--set name=tiny-new" in err
    assert _final_mtimes(tmp_path) == before  # nothing was trained or removed
    # the explicit flag discards the old folds and trains with the new settings
    assert main(["study", *args, "--set=epochs=3", "--set=lr=0.05", "--quiet", "--discard-changed"]) == 0
    again = capsys.readouterr().out
    assert again != first
    for d in (tmp_path / "runs" / "tiny" / "seed0").iterdir():
        assert json.loads((d / "done.json").read_text())["epochs"] == 3
        assert json.loads((d / "fingerprint.json").read_text())["config"]["lr"] == 0.05
    summary = json.loads((tmp_path / "results" / "tiny" / "summary.json").read_text())
    assert summary["config"]["epochs"] == 3 and "3 epochs" in summary["protocol"]


def test_a_partial_fold_made_with_other_settings_is_not_resumed(tmp_path):
    cfg = tiny(tmp_path, epochs=3)
    cache, classes, fold = _fold(cfg)
    interrupt_after_epoch(1, cfg, cache, classes, fold, tmp_path / "f")
    other = tiny(tmp_path, epochs=3, sampler="random")
    with pytest.raises(FingerprintError, match=r"sampler: 'probabilistic' → 'random'"):
        run_fold(other, cache, classes, fold, tmp_path / "f", progress=False)
    assert torch.load(tmp_path / "f" / "last.pt", weights_only=True)["epoch"] == 1  # left as it was


def test_keys_that_cannot_change_results_keep_finished_folds(tmp_path):
    cfg = tiny(tmp_path)
    run_study(cfg, progress=False)
    before = _final_mtimes(tmp_path)
    same = tiny(tmp_path, eval_every=2, tensorboard=False, workers=2, results_dir=str(tmp_path / "other-results"))
    run_study(same, progress=False)
    assert _final_mtimes(tmp_path) == before
    assert (tmp_path / "other-results" / "tiny" / "table.csv").is_file()
    # the list is one place, and none of its keys is one the model or the data depend on
    assert {"epochs", "lr", "seed", "size", "frames", "device", "precision", "sampler"}.isdisjoint(NOT_IN_FINGERPRINT)
    assert NOT_IN_FINGERPRINT <= set(Config().to_flat())


def test_a_new_clip_cache_content_is_a_change(tmp_path, caplog):
    cfg = tiny(tmp_path, epochs=2)
    cache, classes, fold = _fold(cfg)
    interrupt_after_epoch(1, cfg, cache, classes, fold, tmp_path / "f")
    real = cache.manifest["content"]
    cache.manifest = dict(cache.manifest, content="0" * 40)  # as if the clips had been preprocessed otherwise
    with pytest.raises(FingerprintError, match="clip cache content: "):  # an interrupted fold: not resumed
        run_fold(cfg, cache, classes, fold, tmp_path / "f", progress=False)
    # a finished fold trained on another machine's cache is read as it is, never retrained
    cache.manifest = dict(cache.manifest, content=real)
    done = run_fold(cfg, cache, classes, fold, tmp_path / "f", progress=False)
    cache.manifest = dict(cache.manifest, content="0" * 40)
    with caplog.at_level(logging.WARNING, logger="cmnet.fold"):
        assert run_fold(cfg, cache, classes, fold, tmp_path / "f", progress=False) == done
    assert any("trained on another clip cache" in m for m in caplog.messages)


def test_a_study_trained_on_another_cache_is_read_only_when_nothing_is_trained(tmp_path, caplog):
    cfg = tiny(tmp_path, epochs=1)
    first = run_study(cfg, progress=False)
    for fp in (tmp_path / "runs" / "tiny" / "seed0").glob("*/fingerprint.json"):  # as if made on a GPU machine
        rec = json.loads(fp.read_text())
        fio.write_text(fp, json.dumps(rec | {"cache": "f" * 40}))
    before = _final_mtimes(tmp_path)
    with caplog.at_level(logging.WARNING, logger="cmnet.study"):
        again = run_study(cfg, progress=False)
    assert again["summary"] == first["summary"] and _final_mtimes(tmp_path) == before
    assert any("3 finished folds were trained on another clip cache" in m for m in caplog.messages)
    # with a fold to train, the table would mix two caches: refused
    shutil.rmtree(tmp_path / "runs" / "tiny" / "seed0" / "sub03")
    with pytest.raises(StudyError, match=r"2 fold folders were made with other settings .*clip cache content: "
                                         r"ffffffffffff → "):
        run_study(cfg, progress=False)


def test_a_study_whose_weights_were_stripped_still_reads_as_finished(tmp_path):
    cfg = tiny(tmp_path, epochs=1)
    first = run_study(cfg, progress=False)
    folds = sorted((tmp_path / "runs" / "tiny" / "seed0").iterdir())
    assert sum(pack.strip_weights(d) for d in folds) > 0
    assert not list((tmp_path / "runs").rglob("*.pt"))
    again = run_study(cfg, progress=False)
    assert again["summary"] == first["summary"] and not list((tmp_path / "runs").rglob("*.pt"))  # nothing retrained
    # a weight file that vanished without being stripped is damage: that fold is trained again
    run_study(tiny(tmp_path, epochs=1, name="other"), progress=False)
    (tmp_path / "runs" / "other" / "seed0" / "sub01" / "final.pt").unlink()
    run_study(tiny(tmp_path, epochs=1, name="other"), progress=False)
    assert (tmp_path / "runs" / "other" / "seed0" / "sub01" / "final.pt").is_file()


def test_fewer_seeds_leave_the_old_seeds_out_of_the_tables(tmp_path):
    run_study(tiny(tmp_path, epochs=1, seeds=[0, 1]), progress=False)
    s = run_study(tiny(tmp_path, epochs=1, seeds=[1]), progress=False)
    assert s["n_seeds"] == 1 and [x["seed"] for x in s["seeds"]] == [1]
    folds = pd.read_csv(tmp_path / "results" / "tiny" / "folds.csv")
    assert set(folds.seed) == {1}


# ------------------------------------------------------------------ parameters

@pytest.mark.parametrize("item, message", [
    ("epochs=-1", "parameter 'epochs' must be ≥ 1, got -1"),
    ("epochs=0", "parameter 'epochs' must be ≥ 1, got 0"),
    ("lr=-5", "parameter 'lr' must be in (0, 10], got -5.0"),
    ("batch_size=0", "parameter 'batch_size' must be ≥ 1, got 0"),
    ("momentum=1", "parameter 'momentum' must be in [0, 1), got 1.0"),
    ("lr_gamma=0", "parameter 'lr_gamma' must be in (0, 1], got 0.0"),
    ("blur_p=1.5", "parameter 'blur_p' must be in [0, 1], got 1.5"),
    ("lambda_id=-0.1", "parameter 'lambda_id' must be in [0, 1000], got -0.1"),
    ("tau=0", "parameter 'tau' must be in (0, 1000], got 0.0"),
    ("eps=1", "parameter 'eps' must be in (0, 1), got 1.0"),
    ("frames=1", "parameter 'frames' must be in [2, 1024], got 1"),
    ("size=16", "parameter 'size' must be in [32, 4096], got 16"),
    ("seeds=[]", "parameter 'seeds' must be a non-empty list of seeds ≥ 0, got []"),
    ("name=a/b", "parameter 'name' must be a folder name (letters, digits, . _ -; not starting with . or -), got 'a/b'"),
    ("device=gpu", "parameter 'device' must be auto, cpu, mps, cuda or cuda:N, got 'gpu'"),
    ("precision=fp16", "parameter 'precision' must be one of auto, bf16, fp32, got 'fp16'"),
    ("detector=mtcnn", "parameter 'detector' must be one of haar, dlib, face_alignment, none, got 'mtcnn'"),
    ("dataset=casme3", "parameter 'dataset' must be one of synthme, casme2, samm, smic_hs, megc2019, got 'casme3'"),
    ("epochs=ten", "parameter 'epochs' must be int, got 'ten'"),
])
def test_every_parameter_is_checked_with_one_line(item, message, capsys):
    assert main(["study", "params/smoke.yaml", f"--set={item}", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err == f"error: --set: {message}\n"


@pytest.mark.parametrize("items, message", [
    (["lambda_id=0", "lambda_wrst=0", "lambda_ce=0"], "lambda_id, lambda_wrst and lambda_ce are all 0"),
    (["model=resnet_lstm"], "model 'resnet_lstm' has no intensity branch: lambda_id and lambda_wrst must be 0"),
    (["model=mmnet", "lambda_id=0", "lambda_wrst=0", "size=40"], "model 'mmnet' needs 'size' divisible by 16"),
    (["model=vit"], "parameter 'model' must be one of cmnet, mmnet, resnet_lstm, got 'vit'"),
    (["seeds=[1, 1]"], "'seeds' repeats a seed: [1, 1]"),
])
def test_rules_between_keys_are_one_line_too(items, message, capsys):
    assert main(["study", "params/smoke.yaml", *[f"--set={i}" for i in items], "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: params/smoke.yaml with --set: ") and message in err and err.count("\n") == 1


def test_a_bad_value_in_a_profile_names_the_file(tmp_path, capsys):
    p = tmp_path / "p.yaml"
    p.write_text("epochs: -1\n")
    assert main(["study", str(p), "--quiet"]) == 1
    assert capsys.readouterr().err == f"error: {p}: parameter 'epochs' must be ≥ 1, got -1\n"


# ------------------------------------------------------------------ damaged artifacts

@pytest.fixture(scope="module")
def finished_fold(tmp_path_factory):
    """One finished fold (the reference) and what it needs to run again."""
    tmp = tmp_path_factory.mktemp("ref")
    cfg = tiny(tmp, epochs=2)
    cache, classes, fold = _fold(cfg)
    run_fold(cfg, cache, classes, fold, tmp / "ref", progress=False)
    return tmp, cfg, cache, classes, fold


def _truncate(p):
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])


def _garble(p):
    b = bytearray(p.read_bytes())
    b[len(b) // 2] ^= 0xFF
    p.write_bytes(bytes(b))


@pytest.mark.parametrize("name, damage, retrain", [
    ("done.json", lambda p: p.write_text('{"fold": "sub01", "accura'), False),
    ("predictions.csv", lambda p: p.write_text(p.read_text().replace("disgust", "surprise", 1)), False),
    ("metrics.jsonl", _truncate, False),
    ("intensity.npz", _truncate, False),
    ("diagnostics.json", _garble, False),
    ("final.pt", _truncate, True),
    ("checksums.json", lambda p: p.write_text("{"), True),
])
def test_a_damaged_artifact_of_a_finished_fold_is_recomputed(finished_fold, tmp_path, caplog, name, damage, retrain):
    tmp, cfg, cache, classes, fold = finished_fold
    ref, d = tmp / "ref", tmp_path / "seed0" / fold.subject
    shutil.copytree(ref, d)
    damage(d / name)
    from cmnet.runs import layout

    if name != "checksums.json":
        with pytest.raises(ArtifactError, match=f"{d / name}: damaged"):  # no table from a damaged file
            layout.finished(tmp_path, name)
    with caplog.at_level(logging.INFO, logger="cmnet"):
        r = run_fold(cfg, cache, classes, fold, d, progress=False)
    msgs = "\n".join(caplog.messages)
    if name == "checksums.json":
        assert "checksums.json is damaged" in msgs
    else:
        assert f"{d / name}:" in msgs
    assert ("artifacts written again from" in msgs) != retrain
    assert r == json.loads((ref / "done.json").read_text()) | {"seconds": r["seconds"]}
    for f in ("predictions.csv", "done.json", "metrics.jsonl", "diagnostics.json"):
        a, b = (ref / f).read_text(), (d / f).read_text()
        if f in ("done.json", "metrics.jsonl"):  # seconds differ when retrained
            a, b = ([{k: v for k, v in json.loads(x).items() if k != "seconds"} for x in t.splitlines() if x.strip()]
                    for t in (a, b)) if f == "metrics.jsonl" else (
                {k: v for k, v in json.loads(t).items() if k != "seconds"} for t in (a, b))
        assert a == b, f
        assert fio.problem(d / f) is None
    za, zb = np.load(ref / "intensity.npz"), np.load(d / "intensity.npz")
    for k in za.files:
        np.testing.assert_array_equal(za[k], zb[k])


def test_a_damaged_checkpoint_restarts_the_fold_and_ends_equal(finished_fold, tmp_path, caplog):
    tmp, cfg, cache, classes, fold = finished_fold
    interrupt_after_epoch(1, cfg, cache, classes, fold, tmp_path / "f")
    _garble(tmp_path / "f" / "last.pt")
    with caplog.at_level(logging.WARNING, logger="cmnet.fold"):
        r = run_fold(cfg, cache, classes, fold, tmp_path / "f", progress=False)
    assert any(f"checkpoint {tmp_path / 'f' / 'last.pt'} is damaged" in m and "starts again from epoch 1" in m
               for m in caplog.messages)
    ref = json.loads((tmp / "ref" / "done.json").read_text())
    assert {k: v for k, v in r.items() if k != "seconds"} == {k: v for k, v in ref.items() if k != "seconds"}
    pd.testing.assert_frame_equal(pd.read_csv(tmp / "ref" / "predictions.csv"), pd.read_csv(tmp_path / "f" / "predictions.csv"))


def test_tables_are_never_built_from_a_damaged_file(tmp_path):
    cfg = tiny(tmp_path, epochs=1)
    run_study(cfg, progress=False)
    from cmnet.preprocess.prepare import CLASSES
    from cmnet.report import tables

    p = tmp_path / "runs" / "tiny" / "seed0" / "sub02" / "predictions.csv"
    b = bytearray(p.read_bytes())
    b[-12] = ord("1") if b[-12] != ord("1") else ord("2")  # one digit of a probability
    p.write_bytes(bytes(b))
    with pytest.raises(ArtifactError, match=f"^{p}: damaged \\(checksum differs"):
        tables.summarize(tmp_path / "runs" / "tiny", CLASSES["synthme"])
    assert main(["report", f"--set=runs_dir={tmp_path / 'runs'}", f"--set=results_dir={tmp_path / 'results'}",
                 "--set=name=tiny"]) == 1
    # the study repairs it (from final.pt) before it writes the tables
    s = run_study(cfg, progress=False)
    assert fio.problem(p) is None and np.asarray(s["confusion"]).sum() == 12


@pytest.mark.parametrize("damage", ["truncate", "garble", "manifest"])
def test_a_damaged_clip_cache_is_named_and_rebuilt(tmp_path, caplog, damage):
    cfg = tiny(tmp_path)
    cache, _ = prepare_cache(cfg, progress=False)
    path = cache.path
    good = np.array(cache.frames)
    if damage == "truncate":
        _truncate(path)
    elif damage == "garble":
        b = bytearray(path.read_bytes())
        b[-100] ^= 0xFF
        path.write_bytes(bytes(b))
    else:
        m = json.loads(path.with_suffix(".json").read_text())
        m["records"]["labels"][0] = "happiness" if m["records"]["labels"][0] != "happiness" else "disgust"
        path.with_suffix(".json").write_text(json.dumps(m))
    with pytest.raises(ArtifactError, match=f"clip cache {path}.* damaged"):
        load_cache(path)
    with caplog.at_level(logging.WARNING, logger="cmnet.preprocess"):
        again, _ = prepare_cache(cfg, progress=False)
    assert any(f"clip cache {path}" in m and "rebuilding it" in m for m in caplog.messages)
    np.testing.assert_array_equal(np.asarray(again.frames), good)
    assert load_cache(path).manifest["content"] == cache.manifest["content"]


# ------------------------------------------------------------------ one writer

_HOLD = textwrap.dedent("""
    import sys, time
    from cmnet.runs.lock import FolderLock
    lock = FolderLock(sys.argv[1]).acquire()
    print("held", flush=True)
    time.sleep(120)
""")


def test_a_second_writer_is_refused_and_a_killed_ones_lock_is_stale(tmp_path, caplog):
    cfg = tiny(tmp_path, epochs=1)
    root = tmp_path / "runs" / "tiny"
    proc = subprocess.Popen([sys.executable, "-c", _HOLD, str(root)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        with pytest.raises(LockedError, match=rf"study {root} is being written by another process: host \S+, "
                                              rf"pid {proc.pid}, since 20\d\d-"):
            run_study(cfg, progress=False)
    finally:
        proc.kill()
        proc.wait()
    assert not (root / "seed0").exists()  # nothing was trained by the refused study
    with caplog.at_level(logging.WARNING, logger="cmnet.runs"):
        run_study(cfg, progress=False)
    assert any(f"stale lock of pid {proc.pid}" in m and "its process is gone" in m for m in caplog.messages)
    assert FolderLock(root).holder() == {}  # released at the end


def test_a_lock_is_released_when_the_study_fails(tmp_path):
    lock = FolderLock(tmp_path / "s")
    with pytest.raises(ZeroDivisionError):
        with lock:
            1 / 0
    with FolderLock(tmp_path / "s") as again:
        assert again.holder()["pid"] > 0


# ------------------------------------------------------------------ disk full

def _disk_full_after(monkeypatch, predicate):
    """os.write of files matching ``predicate`` writes a few bytes, then fails with ENOSPC."""
    real = fio._write_all

    def write_all(fd, data):
        import os

        path = os.readlink(f"/proc/self/fd/{fd}")
        if predicate(path):
            os.write(fd, data[:10])
            raise OSError(errno.ENOSPC, "No space left on device")
        real(fd, data)

    monkeypatch.setattr(fio, "_write_all", write_all)


def test_disk_full_while_checkpointing_stops_cleanly_and_resumes_to_equal_results(finished_fold, tmp_path, monkeypatch):
    tmp, cfg, cache, classes, fold = finished_fold
    seen = []

    def second_checkpoint(path):
        seen.append(path.endswith(".last.pt.tmp"))
        return path.endswith(".last.pt.tmp") and sum(seen) == 2

    _disk_full_after(monkeypatch, second_checkpoint)
    out = tmp_path / "f"
    with pytest.raises(WriteError, match=rf"^{out / 'last.pt'}: could not write \d+ bytes \(disk full\)"):
        run_fold(cfg, cache, classes, fold, out, progress=False)
    assert not list(out.glob(".*.tmp"))  # no half-written file left
    assert fio.problem(out / "last.pt") is None  # the epoch-1 checkpoint, intact
    assert torch.load(out / "last.pt", weights_only=True)["epoch"] == 1
    monkeypatch.undo()
    r = run_fold(cfg, cache, classes, fold, out, progress=False)
    ref = json.loads((tmp / "ref" / "done.json").read_text())
    assert {k: v for k, v in r.items() if k != "seconds"} == {k: v for k, v in ref.items() if k != "seconds"}
    pd.testing.assert_frame_equal(pd.read_csv(tmp / "ref" / "predictions.csv"), pd.read_csv(out / "predictions.csv"))


def test_disk_full_while_writing_the_tables_keeps_the_old_ones(tmp_path, monkeypatch):
    cfg = tiny(tmp_path, epochs=1)
    run_study(cfg, progress=False)
    table = tmp_path / "results" / "tiny" / "table.csv"
    old = table.read_bytes()
    _disk_full_after(monkeypatch, lambda p: p.endswith(".table.csv.tmp"))
    with pytest.raises(WriteError, match=rf"^{table}: could not write \d+ bytes \(disk full\)"):
        run_study(tiny(tmp_path, epochs=1, eval_every=0), progress=False)
    assert table.read_bytes() == old and not list(table.parent.glob(".*.tmp"))


def test_disk_full_while_writing_the_clip_cache_leaves_no_cache(tmp_path, monkeypatch):
    cfg = tiny(tmp_path)
    real = np.save

    def full(f, arr, *a, **k):
        f.write(b"\x93NUMPY partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    import cmnet.preprocess.cache as cache_mod

    monkeypatch.setattr(cache_mod.np, "save", full)
    with pytest.raises(WriteError, match=r"\.npy: could not write the clip cache \(No space left on device\)"):
        prepare_cache(cfg, progress=False)
    monkeypatch.setattr(cache_mod.np, "save", real)
    assert not list((tmp_path / "cache").glob("*.json")) and not list((tmp_path / "cache").glob("*.tmp.npy"))
    cache, _ = prepare_cache(cfg, progress=False)  # a later run builds it
    assert len(cache) == 12


def test_a_disk_full_study_stops_with_the_file_named_and_keeps_finished_folds(tmp_path, monkeypatch):
    cfg = tiny(tmp_path, epochs=1)
    _disk_full_after(monkeypatch, lambda p: "/sub02/" in p and p.endswith(".final.pt.tmp"))
    with pytest.raises(StudyError, match=r"study tiny stopped: .*sub02/final.pt: could not write \d+ bytes \(disk full\)"):
        run_study(cfg, progress=False)
    root = tmp_path / "runs" / "tiny" / "seed0"
    assert (root / "sub01" / "done.json").is_file() and not (root / "sub02" / "done.json").exists()
    assert not (root / "sub03").exists()  # stopped: the next folds were not started
    monkeypatch.undo()
    before = (root / "sub01" / "final.pt").stat().st_mtime_ns
    s = run_study(cfg, progress=False)
    assert (root / "sub01" / "final.pt").stat().st_mtime_ns == before and np.asarray(s["confusion"]).sum() == 12


def test_a_packed_study_reads_as_finished_where_it_is_unpacked(tmp_path, capsys):
    import tarfile

    cfg = tiny(tmp_path, epochs=1)
    first = run_study(cfg, progress=False)
    archive = tmp_path / "out" / "study.tar.gz"
    assert main(["pack", str(tmp_path / "runs" / "tiny"), "--out", str(archive)]) == 0
    assert "3 finished folds" in capsys.readouterr().out
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        tar.extractall(tmp_path / "elsewhere", filter="data")
    assert not [n for n in names if n.endswith((".pt", ".lock", ".tmp"))] and "tiny/study.json" in names
    moved = tiny(tmp_path, epochs=1, runs_dir=str(tmp_path / "elsewhere"), results_dir=str(tmp_path / "res2"))
    again = run_study(moved, progress=False)  # the folds are finished: nothing trains, no weights appear
    assert again["summary"] == first["summary"] and not list((tmp_path / "elsewhere").rglob("*.pt"))
    with pytest.raises(FileNotFoundError, match="not a study folder"):
        pack.pack([tmp_path / "res2"], tmp_path / "x.tar.gz")
