"""One fold and a tiny study on SynthME on the CPU: artifacts, resume after a kill,
config errors, λ = 0 branches, a non-finite loss."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from cmnet.io import write_text
from cmnet.config import Config, ConfigError, load_config
from cmnet.data.splits import loso_folds
from cmnet.preprocess.prepare import prepare_cache
from cmnet.study.plan import StudyError
from cmnet.study.run import run_study
from cmnet.fold import FoldError
from cmnet.fold.run import run_fold

ROOT = Path(__file__).resolve().parents[1]


def tiny(tmp_path, **kw) -> Config:
    flat = dict(synth_subjects=3, synth_clips_per_subject=4, synth_size=64, size=32, epochs=2, batch_size=4,
                ice_width=8, lstm_hidden=32, embed_dim=16, num_negatives=5, name="tiny",
                data_root=str(tmp_path / "synth"), cache_dir=str(tmp_path / "cache"),
                runs_dir=str(tmp_path / "runs"), results_dir=str(tmp_path / "results"))
    flat.update(kw)
    return Config.from_flat(flat, "test")


def _predict_is_the_folds_own_evaluation(tmp_path, fold):
    """`cmnet predict` on a test clip's frames (onset … offset) gives the probabilities the fold's
    own evaluation wrote for it, and a second call the same: a model left in training mode (batch
    norm on the clip's own statistics, its running statistics overwritten) fails this."""
    import shutil

    from cmnet.data import read_dataset
    from cmnet.predict import predict_folder

    preds = pd.read_csv(fold / "predictions.csv").set_index("key")
    clips, _ = read_dataset("synthme", tmp_path / "synth")
    clip = next(c for c in clips if c.key in preds.index)
    one = tmp_path / "one_clip"
    one.mkdir()
    for f in clip.frames:
        shutil.copy2(f, one / f.name)
    first, second = (predict_folder(fold / "final.pt", one) for _ in range(2))
    want = preds.loc[clip.key, [f"p_{c}" for c in first["probs"]]].to_numpy(float)
    np.testing.assert_allclose(list(first["probs"].values()), want, atol=2e-6)
    assert first["probs"] == second["probs"] and first["k"] == second["k"]


def test_tiny_study_writes_every_artifact(tmp_path):
    cfg = tiny(tmp_path)
    s = run_study(cfg, progress=False)
    fold_dirs = sorted((tmp_path / "runs" / "tiny" / "seed0").iterdir())
    assert [d.name for d in fold_dirs] == ["sub01", "sub02", "sub03"]
    for d in fold_dirs:
        for f in ("config.json", "env.json", "metrics.jsonl", "final.pt", "predictions.csv", "intensity.npz", "done.json"):
            assert (d / f).is_file(), f"{d.name}/{f} missing"
        assert not (d / "last.pt").exists()
        lines = [json.loads(x) for x in (d / "metrics.jsonl").read_text().splitlines()]
        assert [r["epoch"] for r in lines] == [1, 2] and all(np.isfinite(r["train_loss"]) for r in lines)
        assert {"train_id", "train_wrst", "train_ce", "test_accuracy"} <= set(lines[0])
        env = json.loads((d / "env.json").read_text())
        assert env["torch"] == torch.__version__ and env["device"] == "cpu" and "git_commit" in env
        assert env["cpu_model"] and env["cpu_capability"]  # the same seed rounds differently on another CPU
        assert json.loads((d / "config.json").read_text())["epochs"] == 2
        preds = pd.read_csv(d / "predictions.csv")
        assert len(preds) == 4 and set(preds.subject) == {d.name}
        np.testing.assert_allclose(preds.filter(like="p_").sum(1), 1, atol=1e-4)
        z = np.load(d / "intensity.npz")
        assert z["k"].shape == (4, 16) and z["q_mean"].shape == (4, 16) and np.isfinite(z["truth"]).all()
        assert np.allclose(z["q_mean"][np.arange(4), z["apex"]], 1.0)
        state = torch.load(d / "final.pt", weights_only=True)
        assert "model" in state and state["classes"][0] == "disgust"
        done = json.loads((d / "done.json").read_text())
        # the reported metrics are those of the saved predictions (the last epoch)
        assert done["accuracy"] == pytest.approx((preds.label == preds.pred).mean())
    res = tmp_path / "results" / "tiny"
    for f in ("summary.json", "folds.csv", "table.csv", "confusion.csv"):
        assert (res / f).is_file()
    assert np.asarray(s["confusion"]).sum() == 12
    assert s["summary"]["pooled_accuracy"]["mean"] == pytest.approx(
        np.mean([(pd.read_csv(d / "predictions.csv").eval("label == pred")).mean() for d in fold_dirs]))
    # the command: report (tables again from the artifacts) and predict (a trained fold on a folder of frames)
    from cmnet.cli import main

    dirs = [f"--set=runs_dir={tmp_path / 'runs'}", f"--set=results_dir={tmp_path / 'results'}", "--set=name=tiny"]
    assert main(["report", *dirs]) == 1  # the default settings are not those the folds were made with
    made = [f"--set={k}={json.dumps(v)}" for k, v in cfg.to_flat().items()
            if k in ("synth_subjects", "synth_clips_per_subject", "synth_size", "size", "epochs", "batch_size",
                     "ice_width", "lstm_hidden", "embed_dim", "num_negatives", "data_root", "cache_dir")]
    assert main(["report", *dirs, *made]) == 0
    clip_dir = next((tmp_path / "synth" / "CASME2_RAW_selected" / "sub01").iterdir())
    assert main(["predict", str(fold_dirs[0] / "final.pt"), str(clip_dir), "--csv", str(tmp_path / "k.csv"),
                 "--figure", str(tmp_path / "pred.png")]) == 0
    k = pd.read_csv(tmp_path / "k.csv")
    assert len(k) == 16 and np.isfinite(k["k"]).all()
    _predict_is_the_folds_own_evaluation(tmp_path, fold_dirs[0])
    import matplotlib.image

    img = matplotlib.image.imread(tmp_path / "pred.png")  # frames, the k curve and the probabilities
    assert img.shape[0] > 300 and img.shape[1] > 600 and img[..., :3].std() > 0.05
    # a rerun recomputes nothing
    mtimes = {p: p.stat().st_mtime_ns for p in (tmp_path / "runs").rglob("final.pt")}
    run_study(cfg, progress=False)
    assert mtimes == {p: p.stat().st_mtime_ns for p in (tmp_path / "runs").rglob("final.pt")}


def interrupt_after_epoch(epoch, cfg, cache, classes, fold, out):
    """Run the fold in ``out`` and stop it (KeyboardInterrupt) right after epoch ``epoch``'s checkpoint."""
    import cmnet.io as fio

    real = fio.torch_save

    def save_then_stop(obj, path):
        real(obj, path)
        if path.name == "last.pt" and obj["epoch"] == epoch:
            raise KeyboardInterrupt

    fio.torch_save = save_then_stop
    try:
        with pytest.raises(KeyboardInterrupt):
            run_fold(cfg, cache, classes, fold, out, progress=False)
    finally:
        fio.torch_save = real


def _fold(cfg):
    cache, classes = prepare_cache(cfg, progress=False)
    return cache, classes, loso_folds(list(cache.subjects))[0]


def test_interrupted_fold_resumes_to_the_same_result(tmp_path, caplog):
    cfg = tiny(tmp_path, epochs=3)
    cache, classes, fold = _fold(cfg)
    ref = run_fold(cfg, cache, classes, fold, tmp_path / "ref", progress=False)
    interrupt_after_epoch(2, cfg, cache, classes, fold, tmp_path / "cut")  # the checkpoint is written, then resume
    assert not (tmp_path / "cut" / "done.json").exists()
    assert torch.load(tmp_path / "cut" / "last.pt", weights_only=True)["epoch"] == 2
    import logging

    with caplog.at_level(logging.INFO, logger="cmnet.fold"):
        res = run_fold(cfg, cache, classes, fold, tmp_path / "cut", progress=False)
    assert f"fold {fold.subject}: resuming after epoch 2" in caplog.messages
    for k in ("accuracy", "f1_paper", "uf1", "uar"):
        assert res[k] == ref[k]
    a = pd.read_csv(tmp_path / "ref" / "predictions.csv")
    b = pd.read_csv(tmp_path / "cut" / "predictions.csv")
    pd.testing.assert_frame_equal(a, b)
    la = [json.loads(x) for x in (tmp_path / "ref" / "metrics.jsonl").read_text().splitlines()]
    lb = [json.loads(x) for x in (tmp_path / "cut" / "metrics.jsonl").read_text().splitlines()]
    assert [r["train_loss"] for r in la] == [r["train_loss"] for r in lb]


def test_killed_process_resumes(tmp_path):
    """A real kill (SIGKILL) of `cmnet train` in the middle of a fold, then a rerun."""
    params = tmp_path / "p.yaml"
    cfg = tiny(tmp_path, epochs=6)
    params.write_text("\n".join(f"{k}: {json.dumps(v)}" for k, v in cfg.to_flat().items() if k in
                                {"synth_subjects", "synth_clips_per_subject", "synth_size", "size", "epochs", "batch_size",
                                 "ice_width", "lstm_hidden", "embed_dim", "num_negatives", "name", "data_root",
                                 "cache_dir", "runs_dir", "results_dir"}))
    prepare_cache(cfg, progress=False)  # data ready, so the run starts training at once
    out = tmp_path / "fold"
    cmd = [sys.executable, "-m", "cmnet.cli", "train", str(params), "--fold", "sub01", "--out", str(out), "--quiet"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if (out / "metrics.jsonl").is_file() and len((out / "metrics.jsonl").read_text().splitlines()) >= 2:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (out / "done.json").exists()
    ckpt_epoch = torch.load(out / "last.pt", weights_only=True)["epoch"]
    assert 1 <= ckpt_epoch < 6  # metrics.jsonl is written just before the checkpoint
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    lines = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert [x["epoch"] for x in lines] == list(range(1, 7))
    assert (out / "done.json").is_file()


def test_unknown_key_names_key_and_file(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("epochs: 2\nlearning_rate: 0.1\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: unknown parameter 'learning_rate'"):
        load_config(p)
    p.write_text("epochs: two\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: parameter 'epochs' must be int"):
        load_config(p)
    p.write_text("train:\n  epochs: 2\n")
    with pytest.raises(ConfigError, match="flat"):
        load_config(p)


def test_every_params_file_matches_the_config():
    for p in sorted((ROOT / "params").glob("*.yaml")):
        cfg = load_config(p)
        assert isinstance(cfg, Config), p


def test_lambda_id_zero_does_no_lid_work(tmp_path, monkeypatch):
    import cmnet.losses.total as total
    from cmnet.fold.batches import ClipTransform

    def boom(*a, **k):
        raise AssertionError("L_ID work with λ1 = 0")

    monkeypatch.setattr(total, "intensity_distillation_loss", boom)
    monkeypatch.setattr(ClipTransform, "views", boom)
    cfg = tiny(tmp_path, lambda_id=0.0, epochs=1)
    cache, classes, fold = _fold(cfg)
    r = run_fold(cfg, cache, classes, fold, tmp_path / "f", progress=False)
    line = json.loads((tmp_path / "f" / "metrics.jsonl").read_text().splitlines()[0])
    assert "train_id" not in line and "train_wrst" in line and np.isfinite(r["accuracy"])


def test_baseline_trains_with_ce_only(tmp_path):
    cfg = tiny(tmp_path, model="resnet_lstm", lambda_id=0.0, lambda_wrst=0.0, lambda_ce=1.0, epochs=1)
    cache, classes, fold = _fold(cfg)
    run_fold(cfg, cache, classes, fold, tmp_path / "f", progress=False)
    assert not (tmp_path / "f" / "intensity.npz").exists()
    line = json.loads((tmp_path / "f" / "metrics.jsonl").read_text().splitlines()[0])
    assert set(k for k in line if k.startswith("train_")) == {"train_acc", "train_loss", "train_ce"}


def test_non_finite_loss_stops_that_fold_and_keeps_the_others(tmp_path, monkeypatch):
    import cmnet.losses.total as total

    real = total.F.cross_entropy
    cfg = tiny(tmp_path, epochs=1, lambda_id=0.0, lambda_wrst=0.0, lambda_ce=1.0, model="resnet_lstm")

    def poisoned(logits, y, *a, **k):  # NaN while the fold with test subject sub01 trains
        loss = real(logits, y, *a, **k)
        return loss * float("nan") if poisoned.fold == "sub01" else loss

    import cmnet.fold.run as train_mod

    orig_run = train_mod.run_fold

    def run_marked(cfg_, cache_, classes_, fold, out, progress=True):
        poisoned.fold = fold.subject
        return orig_run(cfg_, cache_, classes_, fold, out, progress)

    monkeypatch.setattr(total.F, "cross_entropy", poisoned)
    monkeypatch.setattr(train_mod, "run_fold", run_marked)  # the executor looks it up when it runs
    with pytest.raises(StudyError, match=r"fold sub01, epoch 1, step 1: .*loss is nan"):
        run_study(cfg, progress=False)
    runs = tmp_path / "runs" / "tiny" / "seed0"
    assert (runs / "sub01" / "failed.json").is_file() and not (runs / "sub01" / "done.json").exists()
    assert (runs / "sub02" / "done.json").is_file() and (runs / "sub03" / "done.json").is_file()
    assert (tmp_path / "results" / "tiny" / "summary.json").is_file()


def test_fold_error_on_unknown_labels(tmp_path):
    cfg = tiny(tmp_path, epochs=1)
    cache, classes, fold = _fold(cfg)
    with pytest.raises(FoldError, match="not classes"):
        run_fold(cfg, cache, ["a", "b"], fold, tmp_path / "f", progress=False)


def test_evaluation_is_repeatable_and_independent_of_batch_composition(tmp_path):
    """evaluate() must run the model in evaluation mode: BatchNorm then uses its running
    statistics, so a clip's prediction does not depend on which clips share its batch, and
    evaluating changes no running statistic."""
    from cmnet.fold.batches import load_batch
    from cmnet.fold.evaluate import evaluate
    from cmnet.fold.loop import build, train_step

    cfg = tiny(tmp_path, epochs=1)
    cache, classes, fold = _fold(cfg)
    torch.manual_seed(0)
    dev = torch.device("cpu")
    kit = build(cfg, len(classes), dev)
    model = kit.model
    idx = np.arange(len(cache))
    gen = torch.Generator().manual_seed(0)
    y = torch.tensor([classes.index(lab) for lab in cache.labels[idx[:4]]])
    x = load_batch(cache, idx[:4], dev, cfg.train.channels_last)
    train_step(kit, model, x, y, torch.as_tensor(cache.apex[idx[:4]]), gen)
    stats = {k: v.clone() for k, v in model.state_dict().items() if "running" in k}
    kit.batch_size = len(idx)
    whole = evaluate(kit, cache, idx, classes, 0)["probs"]
    kit.batch_size = 1
    single = evaluate(kit, cache, idx, classes, 0)["probs"]
    again = evaluate(kit, cache, idx[::-1].copy(), classes, 0)["probs"][::-1]
    np.testing.assert_allclose(whole, single, atol=1e-5)
    np.testing.assert_allclose(single, again, atol=1e-6)
    for k, v in model.state_dict().items():
        if "running" in k:
            torch.testing.assert_close(v, stats[k])
    assert model.training  # evaluate() hands the model back in training mode


def test_pooled_metrics_are_not_the_mean_over_folds(tmp_path):
    """Two hand-made folds: A has 1 clip, right; B has 3 clips, all wrong. Mean over folds
    of accuracy = (1 + 0) / 2 = 0.5; pooled = 1 / 4 = 0.25."""
    from cmnet.report.tables import summarize

    classes = ["disgust", "happiness"]
    for subject, labels, preds in (("subA", ["disgust"], ["disgust"]),
                                   ("subB", ["disgust", "happiness", "happiness"], ["happiness", "disgust", "disgust"])):
        d = tmp_path / "seed0" / subject
        d.mkdir(parents=True)
        acc = float(np.mean([a == b for a, b in zip(labels, preds)]))
        write_text(d / "done.json", json.dumps({"fold": subject, "n_test": len(labels), "accuracy": acc,
                                                "f1_paper": acc, "uf1": acc, "uar": acc}))
        rows = ["key,subject,label,pred,p_disgust,p_happiness"] + [
            f"{subject}/c{i},{subject},{a},{b},0.5,0.5" for i, (a, b) in enumerate(zip(labels, preds))]
        write_text(d / "predictions.csv", "\n".join(rows) + "\n")
    s = summarize(tmp_path, classes)
    assert s["summary"]["fold_mean_accuracy"]["mean"] == pytest.approx(0.5)
    assert s["summary"]["pooled_accuracy"]["mean"] == pytest.approx(0.25)
    assert s["confusion"] == [[1, 1], [2, 0]]


def test_study_with_two_workers_equals_one_worker(tmp_path):
    """Folds trained in two spawned processes write the same predictions as folds trained
    one after another (up to floating-point summation order of different thread counts)."""
    import shutil

    out = {}
    for w in (1, 2):
        cfg = tiny(tmp_path / f"w{w}", workers=w, epochs=1)
        if w == 2:  # the same SynthME, generated once
            shutil.copytree(tmp_path / "w1" / "synth", tmp_path / "w2" / "synth")
        run_study(cfg, progress=False)
        out[w] = pd.concat([pd.read_csv(p) for p in sorted((tmp_path / f"w{w}" / "runs" / "tiny" / "seed0").glob("*/predictions.csv"))])
    assert len(out[1]) == 12 and list(out[1].key) == list(out[2].key)
    assert list(out[1].pred) == list(out[2].pred)
    np.testing.assert_allclose(out[1].filter(like="p_").to_numpy(), out[2].filter(like="p_").to_numpy(), atol=1e-3)


def test_epoch_seeds_are_the_published_ones():
    """Each epoch's shuffle, augmentation and draws are seeded from (seed, epoch): these
    values are part of the protocol (another formula changes every number of the book)."""
    from cmnet.fold.loop import epoch_seed

    assert [epoch_seed(0, 1), epoch_seed(1, 0), epoch_seed(2, 5), epoch_seed(4, 199)] == [7919, 1000003, 2039601, 5575893]
    assert epoch_seed(0, 10**6) == 1476549059 and epoch_seed(1, 10**6 + 1) == 1477556981  # the final evaluation's
    grid = {epoch_seed(s, e) for s in range(5) for e in range(200)}
    assert len(grid) == 1000 and max(grid) < 2**31 - 1


def test_fold_artifacts_hold_what_the_final_model_gives(tmp_path, monkeypatch, capsys):
    """Every artifact of a finished fold, recomputed from final.pt: done.json (the metrics of
    the saved predictions, the epochs, the summed epoch seconds), predictions.csv,
    intensity.npz (k, the prototype draw of the final evaluation's seed, η), diagnostics.json
    (its own seed). torch.compile is asked for the model when ``compile`` is set, and a
    finished fold is returned from done.json without building anything."""
    import cmnet.fold.run as train_mod
    from cmnet.fold.device import autocast_for
    from cmnet.fold.evaluate import evaluate, ice_diagnostics
    from cmnet.fold.loop import build, epoch_seed

    compiled = []
    monkeypatch.setattr(torch, "compile", lambda m: compiled.append(m) or m)
    # the tiny model's ICE embeddings are collapsed (every cosine 1.0), so the diagnostic's values barely
    # depend on its seed: the seed is checked as passed
    real_diag, diag_seeds = ice_diagnostics, []
    monkeypatch.setattr(train_mod, "ice_diagnostics", lambda *a: diag_seeds.append(a[-1]) or real_diag(*a))
    cfg = tiny(tmp_path, epochs=1, compile=True)
    cache, classes, fold = _fold(cfg)
    out = tmp_path / "runs" / "tiny" / "f"  # parents made as needed
    res = run_fold(cfg, cache, classes, fold, out)  # progress on by default: a bar on stderr
    assert f"fold {fold.subject}" in capsys.readouterr().err
    assert len(compiled) == 1 and isinstance(compiled[0], torch.nn.Module)
    test_idx = np.asarray(fold.test)
    config_text, env_text = (out / "config.json").read_text(), (out / "env.json").read_text()
    assert json.loads(config_text) == cfg.to_flat() and config_text == json.dumps(cfg.to_flat(), indent=1)
    assert env_text == json.dumps(json.loads(env_text), indent=1) and json.loads(env_text)["device"] == "cpu"
    assert len(list(out.glob("events.out.tfevents.*"))) == 1  # the TensorBoard scalars (tensorboard: true)
    # final.pt → the same evaluation
    state = torch.load(out / "final.pt", weights_only=True)
    assert set(state) == {"model", "loss", "classes", "config", "history"} and state["classes"] == list(classes)
    assert json.loads(state["history"]) == [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    dev = torch.device("cpu")
    kit = build(cfg, len(classes), dev)
    kit.model.load_state_dict(state["model"])
    kit.crit.load_state_dict(state["loss"])
    assert kit.amp is autocast_for("auto", dev)  # fp32 on the CPU: no autocast
    crit = kit.crit
    ev = evaluate(kit, cache, test_idx, classes, epoch_seed(cfg.train.seed, 10**6))
    preds = pd.read_csv(out / "predictions.csv")
    assert list(preds.columns) == ["key", "subject", "label", "pred"] + [f"p_{c}" for c in classes]
    assert preds.key.tolist() == cache.keys[test_idx].tolist()
    np.testing.assert_allclose(preds.filter(like="p_").to_numpy(), ev["probs"], atol=1e-6)
    z = np.load(out / "intensity.npz")
    assert set(z.files) == {"keys", "k", "q", "q_mean", "q_std", "truth", "apex", "eta"}
    assert z["keys"].tolist() == cache.keys[test_idx].tolist()
    for key in ("k", "q", "q_mean", "q_std"):
        np.testing.assert_allclose(z[key], ev[key], rtol=0, atol=1e-6, err_msg=key)
    np.testing.assert_array_equal(z["truth"], cache.intensity[test_idx])
    np.testing.assert_array_equal(z["apex"], cache.apex[test_idx])
    np.testing.assert_allclose(z["eta"], crit.prototype.eta.detach().numpy(), rtol=0, atol=1e-7)
    diag_text = (out / "diagnostics.json").read_text()
    diag = json.loads(diag_text)
    assert diag_seeds == [epoch_seed(cfg.train.seed, 10**6 + 1)]
    want = real_diag(kit, cache, test_idx, epoch_seed(cfg.train.seed, 10**6 + 1))
    assert diag.keys() == want.keys()
    for key, v in want.items():
        assert diag[key] == pytest.approx(v, rel=1e-5, abs=1e-6), key
    assert diag_text == json.dumps(diag, indent=1)
    done_text = (out / "done.json").read_text()
    done = json.loads(done_text)
    assert done_text == json.dumps(done, indent=1)
    epochs = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert list(done) == ["fold", "n_test", "epochs", "seconds", "accuracy", "f1_paper", "uf1", "uar"]
    assert (done["fold"], done["n_test"], done["epochs"]) == (fold.subject, len(test_idx), 1)
    assert done["seconds"] == round(sum(r["seconds"] for r in epochs), 3)
    assert done["accuracy"] == pytest.approx(float(np.mean(ev["pred"] == ev["y"])))
    assert res == done
    # finished: returned as recorded, nothing rebuilt
    monkeypatch.setattr(train_mod, "build", lambda *a, **k: pytest.fail("a finished fold was rebuilt"))
    assert run_fold(cfg, cache, classes, fold, out, progress=False) == done


def test_load_batch_gives_the_cached_frames_in_0_1(tmp_path):
    """Frames as (B, N, 3, S, S) floats = uint8 / 255, in the order asked; channels_last
    gives the same values (the cached frames are already stored channels-last)."""
    from cmnet.fold.batches import load_batch

    cfg = tiny(tmp_path)
    cache, _, _ = _fold(cfg)
    idx = np.array([3, 0, 5])
    want = torch.from_numpy(cache.frames[idx]).permute(0, 1, 4, 2, 3).float() / 255
    for cl in (False, True):
        x = load_batch(cache, idx, torch.device("cpu"), cl)
        assert x.shape == want.shape and x.dtype == torch.float32
        torch.testing.assert_close(x, want, rtol=0, atol=0)


def test_a_yaml_syntax_error_is_one_line_naming_file_line_and_column(tmp_path, capsys):
    from cmnet.cli import main

    bad = tmp_path / "broken.yaml"
    bad.write_text("epochs: 2\nseeds: [0, 1\nlr: 0.1\n")
    with pytest.raises(ConfigError) as e:
        load_config(bad)
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith(f"{bad}, line 3, column 3: YAML syntax error: ")
    assert main(["study", str(bad)]) != 0
    err = capsys.readouterr().err
    assert f"{bad}, line 3, column 3: YAML syntax error" in err and "Traceback" not in err


def test_a_study_under_subject_grouped_kfold(tmp_path, capsys):
    """protocol: kfold — folds k1…kK hold whole subjects; every clip tested once per seed; the
    tables name the protocol; `cmnet train` names the folds it has."""
    import json as _json

    from cmnet.cli import main

    cfg = tiny(tmp_path, synth_subjects=4, synth_clips_per_subject=3, epochs=1, protocol="kfold", kfold_k=2,
               tensorboard=False)
    s = run_study(cfg, progress=False)
    assert sorted(d.name for d in (tmp_path / "runs" / "tiny" / "seed0").iterdir()) == ["k1", "k2"]
    assert s["protocol"].startswith("subject-grouped 2-fold")
    preds = pd.read_csv(tmp_path / "results" / "tiny" / "predictions.csv")
    assert len(preds) == 12 and preds.key.is_unique and sorted(set(preds.subject)) == ["sub01", "sub02", "sub03", "sub04"]
    for fold in ("k1", "k2"):
        fp = _json.loads((tmp_path / "runs" / "tiny" / "seed0" / fold / "fingerprint.json").read_text())
        assert fp["fold"] == fold and fp["config"]["protocol"] == "kfold" and fp["config"]["kfold_k"] == 2
        subjects = set(pd.read_csv(tmp_path / "runs" / "tiny" / "seed0" / fold / "predictions.csv").subject)
        assert len(subjects) == 2
    params = tmp_path / "p.yaml"
    params.write_text("\n".join(f"{k}: {_json.dumps(v)}" for k, v in cfg.to_flat().items()
                                if k in {"synth_subjects", "synth_clips_per_subject", "synth_size", "size", "epochs",
                                         "batch_size", "ice_width", "lstm_hidden", "embed_dim", "num_negatives", "name",
                                         "data_root", "cache_dir", "runs_dir", "results_dir", "protocol", "kfold_k"}))
    assert main(["train", str(params), "--fold", "sub01", "--quiet"]) == 2
    assert "fold 'sub01' is not a fold of the 2-fold split; folds: k1, k2" in capsys.readouterr().err
