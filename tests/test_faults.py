"""Issue 22's reproductions, each with the behaviour it gets now: one clear line naming the
key, flag, file, row or fold, or a correct run (rows of the README's table)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from _fixtures import CASME2_HEADER, casme2, write_xlsx
from cmnet.cli import main
from cmnet.config import Config, ConfigError, load_config
from cmnet.data import read_casme2
from cmnet.io import ArtifactError, write_bytes
from cmnet.params import parse_sets
from cmnet.study.plan import StudyError
from cmnet.study.run import run_study

from test_training import ROOT, tiny


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """A finished tiny study (3 folds, 1 epoch) and its params file."""
    tmp = tmp_path_factory.mktemp("faults")
    cfg = tiny(tmp, epochs=1, tensorboard=False)
    run_study(cfg, progress=False)
    params = tmp / "p.yaml"
    params.write_text("\n".join(f"{k}: {json.dumps(v)}" for k, v in cfg.to_flat().items()
                                if k in {"synth_subjects", "synth_clips_per_subject", "synth_size", "size", "epochs",
                                         "batch_size", "ice_width", "lstm_hidden", "embed_dim", "num_negatives", "name",
                                         "data_root", "cache_dir", "runs_dir", "results_dir", "tensorboard"}))
    return tmp, cfg, params


def _err(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err


# ------------------------------------------------------------------ values

@pytest.mark.parametrize("item, want", [
    ("lr=1e-3", 1e-3), ("lr=1E-3", 1e-3), ("lr=.5", 0.5), ("lr=+2.", 2.0), ("epochs=1e1", 10), ("epochs='3'", 3)])
def test_numbers_in_any_common_notation(item, want):
    cfg = Config.from_flat(parse_sets([item]), "--set")
    key = item.split("=")[0]
    assert getattr(cfg.train, key) == want and type(getattr(cfg.train, key)) is type(want)


@pytest.mark.parametrize("key", ["tau", "rank_temperature", "margin", "blur_sigma", "affine_rotate", "color_jitter",
                                 "weight_decay", "lr", "lambda_id"])
@pytest.mark.parametrize("value", [".inf", "-.inf", ".nan"])
def test_every_float_key_is_finite(key, value):
    with pytest.raises(ConfigError, match=rf"^--set: parameter '{key}' must be a finite number, got"):
        Config.from_flat(parse_sets([f"{key}={value}"]), "--set")


FLOAT_KEYS = [k for k, (_, _, typ) in Config.key_index().items() if typ is float]


@pytest.mark.parametrize("key", FLOAT_KEYS)
def test_every_float_key_has_an_upper_bound(key):
    """A huge finite value (1e300) is refused by the key's range or, for a size in pixels, by the
    frame side it must fit in: never an OverflowError or a padding error mid-training."""
    with pytest.raises(ConfigError, match=rf"^--set: .*'{key}'"):
        Config.from_flat(parse_sets([f"{key}=1e300"]), "--set").validate("--set")


@pytest.mark.parametrize("sets, message", [
    (["blur_sigma=11"], r"'blur_sigma' 11 is 11 px at size 32: .* below 10.6667 px"),
    (["blur_sigma=75", "blur_relative=true"], r"'blur_sigma' 75 is 10.7143 px at size 32"),
    (["affine_translate=16"], r"'affine_translate' 16 px shifts the face out of a 32-px frame")])
def test_sizes_in_pixels_must_fit_the_frame(sets, message):
    with pytest.raises(ConfigError, match=message):
        Config.from_flat(parse_sets(sets + ["size=32"]), "--set").validate("--set")
    ok = [s.replace("=11", "=10").replace("=75", "=74").replace("=16", "=15") for s in sets]
    Config.from_flat(parse_sets(ok + ["size=32"]), "--set").validate("--set")


def test_a_variant_and_its_set_are_checked_once_together(capsys):
    """--variant then --set, one check of the result: a rule is judged on the values that run
    (mmnet's ViT needs a side divisible by 16: 40 is refused, 48 with a patch-aligned side runs)."""
    from cmnet.cli_settings import config_of

    class Args:
        params, variant, set = "params/smoke.yaml", "mmnet", ["size=40"]

    with pytest.raises(ConfigError, match=r"^params/smoke.yaml with --variant mmnet with --set: model 'mmnet' needs 'size' divisible by 16"):
        config_of(Args)
    Args.set = ["size=48"]
    cfg = config_of(Args)
    assert cfg.preprocess.size == 48 and cfg.train.affine_translate == pytest.approx(15 * 48 / 224)


def test_a_key_written_twice_in_a_profile_is_refused(tmp_path):
    p = tmp_path / "twice.yaml"
    p.write_text("epochs: 2\nlr: 0.1\nepochs: 50\n")
    with pytest.raises(ConfigError, match=r"twice\.yaml, line 3: parameter 'epochs' is written twice \(first on "
                                          r"line 1\); keep one$"):
        load_config(p)


@pytest.mark.parametrize("item, message", [
    ("seeds=[0,1", r"^--set 'seeds=\[0,1': not a YAML value \(expected ',' or '\]'"),
    ("epochs", r"^--set takes KEY=VALUE, got 'epochs'$"),
    ("data_root=a\udc80b", r"^--set data_root=…: the value is not valid UTF-8 text$"),
])
def test_malformed_set_items_are_one_line(item, message, capsys):
    assert main(["study", "params/smoke.yaml", "--set", item, "--quiet"]) == 1
    assert __import__("re").match(message, _err(capsys)[len("error: "):])


# ------------------------------------------------------------------ identity of folds and reports

def test_report_refuses_settings_its_folds_were_not_made_with(study, capsys):
    tmp, cfg, params = study
    before = (tmp / "results" / "tiny" / "summary.json").read_text()
    assert main(["report", str(params), "--set", "epochs=50", "--set", "model=resnet_lstm", "--set", "lambda_id=0",
                 "--set", "lambda_wrst=0"]) == 1
    err = _err(capsys)
    assert "study 'tiny': 3 finished folds were made with other settings than these" in err and "epochs: 1 → 50" in err
    assert (tmp / "results" / "tiny" / "summary.json").read_text() == before  # nothing rewritten
    assert main(["report", str(params)]) == 0  # the settings it was run with


def test_a_fold_folder_of_another_fold_is_refused(study, tmp_path, capsys):
    tmp, cfg, params = study
    out = tmp_path / "sub01"
    shutil.copytree(tmp / "runs" / "tiny" / "seed0" / "sub01", out)
    assert main(["train", str(params), "--fold", "sub02", "--out", str(out), "--quiet"]) == 1
    assert "was made with other settings (fold: sub01 → sub02 (its done.json is another fold's)" in _err(capsys)


def test_a_fold_folder_records_its_study_seed_and_fold(study):
    tmp, cfg, params = study
    fp = json.loads((tmp / "runs" / "tiny" / "seed0" / "sub02" / "fingerprint.json").read_text())
    assert (fp["study"], fp["config"]["seed"], fp["fold"]) == ("tiny", 0, "sub02")


def test_a_table_is_never_built_from_a_fold_folder_copied_over_another(study, tmp_path):
    tmp, cfg, params = study
    runs = tmp_path / "runs"
    shutil.copytree(tmp / "runs" / "tiny", runs / "tiny")
    shutil.rmtree(runs / "tiny" / "seed0" / "sub02")
    shutil.copytree(runs / "tiny" / "seed0" / "sub01", runs / "tiny" / "seed0" / "sub02")
    from cmnet.report.tables import summarize

    with pytest.raises(ArtifactError, match=r"sub02/done.json: the results of fold sub01, in the folder of fold sub02"):
        summarize(runs / "tiny", ["happiness", "disgust", "repression", "surprise", "others"])


def test_a_deleted_fingerprint_is_read_from_the_config_and_nothing_is_refused(study, tmp_path):
    tmp, cfg, params = study
    shutil.copytree(tmp / "runs" / "tiny", tmp_path / "runs" / "tiny")
    fold = tmp_path / "runs" / "tiny" / "seed0" / "sub02"
    (fold / "fingerprint.json").unlink()
    want = pd.read_csv(fold / "predictions.csv")
    cfg2 = tiny(tmp, epochs=1, tensorboard=False, runs_dir=str(tmp_path / "runs"), results_dir=str(tmp_path / "res"))
    run_study(cfg2, progress=False)  # no StudyError: config.json says the same settings
    assert (fold / "fingerprint.json").is_file()  # written again (its fold's artifacts from final.pt)
    pd.testing.assert_frame_equal(pd.read_csv(fold / "predictions.csv"), want)


# ------------------------------------------------------------------ files, folders, names

def test_pack_keeps_what_exists_and_refuses_what_would_mix(study, tmp_path, capsys):
    tmp, _, _ = study
    s = tmp / "runs" / "tiny"
    out = tmp_path / "a.tar.gz"
    out.write_bytes(b"old")
    assert main(["pack", str(s), "--out", str(out)]) == 1
    assert f"{out} exists; choose another --out, or --force to replace it" in _err(capsys) and out.read_bytes() == b"old"
    assert main(["pack", str(s), "--out", str(out), "--force"]) == 0 and out.stat().st_size > 3
    capsys.readouterr()
    assert main(["pack", str(s), "--out", str(s / "inside.tar.gz")]) == 1
    assert "is inside the study" in _err(capsys) and not (s / "inside.tar.gz").exists()
    other = tmp_path / "elsewhere" / "tiny"
    shutil.copytree(s, other)
    assert main(["pack", str(s), str(other), "--out", str(tmp_path / "b.tar.gz")]) == 1
    assert "two studies named tiny" in _err(capsys) and not list(tmp_path.glob("*b.tar.gz*"))


def test_a_failed_pack_leaves_no_temporary_file(study, tmp_path, monkeypatch):
    import tarfile

    tmp, _, _ = study

    def broken(self, *a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tarfile.TarFile, "add", broken)
    from cmnet.runs.pack import pack

    with pytest.raises(OSError):
        pack([tmp / "runs" / "tiny"], tmp_path / "c.tar.gz")
    assert list(tmp_path.iterdir()) == []


def test_a_profile_is_a_name_not_a_path(capsys):
    assert main(["book", "--profile", "../params/smoke", "--no-build"]) == 1
    assert "--profile '../params/smoke': not a profile; give the name of a file in params/" in _err(capsys)


@pytest.mark.parametrize("kind", ["file", "loop"])
def test_a_data_root_that_is_not_a_folder(tmp_path, capsys, kind):
    root = tmp_path / "root"
    if kind == "file":
        root.write_text("not a folder")
    else:
        root.symlink_to(tmp_path / "root")
    assert main(["study", "params/casme2.yaml", "--set", f"data_root={root}", "--quiet"]) == 1
    want = "a file, not a folder" if kind == "file" else "cannot be read"
    assert f"data_root {root}: {want}" in _err(capsys)


def test_a_lock_that_is_a_folder(study, tmp_path, capsys):
    tmp, cfg, params = study
    runs = tmp_path / "runs"
    (runs / "tiny" / ".lock").mkdir(parents=True)
    assert main(["study", str(params), "--set", f"runs_dir={runs}", "--quiet"]) == 1
    assert "/.lock: cannot take the study's lock (Is a directory)" in _err(capsys)


def _read_only(monkeypatch, folder: Path) -> None:
    """``folder`` behaves as a read-only filesystem (EROFS on every create, rename or mkdir
    below it): the suite runs as root in CI, where permissions would not stop a write."""
    import errno

    def guard(fn):
        def wrapped(path, *a, **k):
            if str(os.fspath(path)).startswith(str(folder)) and (fn is not os.open or a[0] & (os.O_WRONLY | os.O_RDWR)):
                raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
            return fn(path, *a, **k)
        return wrapped

    for name in ("open", "mkdir", "replace", "rename"):
        monkeypatch.setattr(os, name, guard(getattr(os, name)))


def test_runs_on_a_read_only_disk(study, tmp_path, monkeypatch, capsys):
    tmp, cfg, params = study
    _read_only(monkeypatch, tmp_path)
    assert main(["study", str(params), "--set", f"runs_dir={tmp_path / 'runs'}", "--quiet"]) == 1
    assert f"{tmp_path}/runs/tiny/.lock: cannot take the study's lock (Read-only file system)" in _err(capsys)


def test_results_on_a_read_only_disk_keep_the_folds(study, tmp_path, monkeypatch, capsys):
    tmp, cfg, params = study
    def folds():  # every file the fold folders hold (the study's own record names its latest run)
        return {p: p.read_bytes() for p in (tmp / "runs").glob("*/seed*/**/*") if p.is_file() and p.name != ".lock"}

    before = folds()
    (tmp_path / "res").mkdir()
    _read_only(monkeypatch, tmp_path)
    for command in ("study", "report"):
        assert main([command, str(params), "--set", f"results_dir={tmp_path / 'res'}", "--quiet"]) == 1
        err = _err(capsys)
        assert f"{tmp_path}/res/tiny: cannot make the study's tables folder (Read-only file system)" in err
        assert "the trained folds in" in err and "are kept" in err
    assert folds() == before


def test_a_hostile_checkpoint_is_a_failed_fold_not_a_traceback(tmp_path, capsys):
    """A last.pt whose record is right but which would run code when unpickled: refused by
    weights_only, reported as that fold's failure naming the file; the other folds finish."""
    cfg = tiny(tmp_path, epochs=1, tensorboard=False)
    fold = tmp_path / "runs" / "tiny" / "seed0" / "sub01"
    fold.mkdir(parents=True)

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    import io
    import pickle

    buf = io.BytesIO()
    torch.save({"model": Evil()}, buf, pickle_module=pickle)
    write_bytes(fold / "last.pt", buf.getvalue())
    with pytest.raises(StudyError, match=r"last.pt: not a checkpoint cmnet wrote \(UnpicklingError"):
        run_study(cfg, progress=False)
    assert (tmp_path / "runs" / "tiny" / "seed0" / "sub02" / "done.json").is_file()


def test_predict_on_a_video_file(study, tmp_path, capsys):
    tmp, _, _ = study
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42")
    ckpt = tmp / "runs" / "tiny" / "seed0" / "sub01" / "final.pt"
    assert main(["predict", str(ckpt), str(video), "--no-figure"]) == 1
    assert _err(capsys) == (f"error: {video}: a file, not a folder of frames (a video? extract its frames into a "
                            "folder first)")


# ------------------------------------------------------------------ datasets

def test_fractional_frame_numbers_exclude_the_clip_by_name(tmp_path):
    casme2(tmp_path)
    rows = [[1, "EP01_01", None, 8.5, 10, 13, None, "1+2", "surprise"],
            [1, "EP01_02", None, 1, 3.25, 5, None, "12", "happiness"],
            [1, "EP01_03", None, 1, 3, 5, None, "12", "happiness"]]
    write_xlsx(tmp_path / "CASME2-coding-20140508.xlsx", CASME2_HEADER, rows)
    clips, report = read_casme2(tmp_path)
    reasons = {r.clip: r.reason for r in report.rows}
    assert reasons.get("sub01/EP01_01") == "onset 8.5 is not a whole frame number"
    assert reasons.get("sub01/EP01_02") == "apex 3.25 is not a whole frame number"


def test_three_studies_generating_one_synthme_at_once(tmp_path):
    """Three processes preparing the same (missing) SynthME and cache together: one generates,
    the others wait and read it; every one gets the same clips."""
    cfg = tiny(tmp_path)
    code = ("import json, sys; from cmnet.config import Config; from cmnet.preprocess.prepare import prepare_cache; "
            "c, _ = prepare_cache(Config.from_flat(json.loads(sys.argv[1]), 't'), progress=False); "
            "print(c.manifest['content'])")
    flat = json.dumps({k: v for k, v in cfg.to_flat().items() if k in ("synth_subjects", "synth_clips_per_subject",
                                                                       "synth_size", "size", "data_root", "cache_dir")})
    procs = [subprocess.Popen([sys.executable, "-c", code, flat], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [e for _, e in outs]
    assert len({o.strip() for o, _ in outs}) == 1
    assert np.isfinite(len(list(Path(cfg.data.data_root).rglob("*.jpg"))))


def test_a_copy_of_a_subject_folder_is_not_a_new_subject(tmp_path):
    """`cp -r HS/s1 HS/s1_backup` in an SMIC-HS tree: the copy's clips are reported as copies
    of s1's and left out, so no fold trains on copies of its own test clips."""
    from _fixtures import smic
    from cmnet.data import read_dataset, read_smic_hs

    smic(tmp_path)
    shutil.copytree(tmp_path / "HS" / "s1", tmp_path / "HS" / "s1_backup")
    raw, _ = read_smic_hs(tmp_path)
    assert sorted({c.subject for c in raw}) == ["s1", "s1_backup", "s2"]  # what the reader alone sees
    clips, report = read_dataset("smic_hs", tmp_path)
    assert sorted({c.subject for c in clips}) == ["s1", "s2"] and len(clips) == 3
    copies = {r.clip: r.reason for r in report.exclusions}
    assert set(copies) == {"s1_backup/s1_po_01", "s1_backup/s1_ne_01"}
    assert copies["s1_backup/s1_po_01"].startswith("the same frames as s1/s1_po_01 (")


def test_an_error_nobody_foresaw_is_an_internal_error_with_its_traceback_on_file(monkeypatch, capsys):
    import cmnet.report.status as status

    def bug(*a, **k):
        raise KeyError("no such column")

    monkeypatch.setattr(status, "find_studies", bug)
    assert main(["status", "runs"]) == 70
    err = _err(capsys)
    assert err.startswith("internal error (a bug in cmnet: please report it with the log): KeyError: 'no such column'")
    log = Path(err.rsplit("traceback in ", 1)[1])
    assert "Traceback" in log.read_text() and "no such column" in log.read_text()
    log.unlink()


def test_keys_added_since_a_fold_was_recorded_read_as_the_value_that_reproduces_it():
    """A fold recorded before synth_curves/protocol existed equals a config with the first
    edition's values and differs from the new defaults; a LOSO fold never records kfold_k."""
    from cmnet.runs.fingerprint import _fingerprinted, fingerprint_changes

    legacy = Config.from_flat({"synth_curves": "bump", "synth_others": "template"})
    now = {"config": _fingerprinted(legacy.to_flat())}
    old = {"config": {k: v for k, v in now["config"].items()
                      if k not in ("synth_curves", "synth_others", "synth_proportions", "protocol")}}
    assert "kfold_k" not in now["config"] and fingerprint_changes(old, now) == []
    assert fingerprint_changes(now, now) == []
    new = {"config": _fingerprinted(Config().to_flat())}
    assert fingerprint_changes(old, new) == ["synth_curves: 'bump' → 'varied'", "synth_others: 'template' → 'varied'"]
    kf = {"config": _fingerprinted(Config.from_flat({"protocol": "kfold"}).to_flat())}
    assert "kfold_k: (not recorded) → 4" not in fingerprint_changes(new, kf) and "protocol: 'loso' → 'kfold'" in \
        fingerprint_changes(new, kf)
