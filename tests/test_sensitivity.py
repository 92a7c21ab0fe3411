"""Could the experiment have seen the paper's effects? The positive controls (k given from
outside, k taught the truth), each loss term's activity and gradient share, the tuning rules,
the probe and the motion-energy control, the inactive-term verdict, the dose–response tables —
each against a plain reference."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from scipy.stats import spearmanr, t as student_t

from cmnet.config import Config, ConfigError
from cmnet.fold import FoldError
from cmnet.fold.loop import build, term_gradient_norms
from cmnet.fold.probe import motion_energy, ridge_probe
from cmnet.losses import CMNetLoss
from cmnet.losses.tendency import intensity_prototype
from cmnet.models import create_model
from cmnet.models.output import ModelOutput
from cmnet.report.dose import subject_accuracy
from cmnet.report.scope import mark_inactive, scope_words
from cmnet.report.tables import loss_terms
from cmnet.report.tuning import level_epoch, tuning_choice, tuning_table
from cmnet.study.run import run_study
from cmnet.variants import TUNED, TUNING, variant_config

ROOT = Path(__file__).resolve().parents[1]


def tiny(tmp_path, **kw) -> Config:
    flat = dict(synth_subjects=3, synth_clips_per_subject=4, synth_size=64, size=32, epochs=2, batch_size=4,
                ice_width=8, lstm_hidden=32, embed_dim=16, num_negatives=5, name="tiny", input="onset_diff",
                k_init="prototype", data_root=str(tmp_path / "synth"), cache_dir=str(tmp_path / "cache"),
                runs_dir=str(tmp_path / "runs"), results_dir=str(tmp_path / "results"))
    flat.update(kw)
    return Config.from_flat(flat, "test")


def test_given_k_replaces_squeeze_and_skips_the_ice():
    torch.manual_seed(0)
    m = create_model("cmnet", num_classes=3, lstm_hidden=16, ice_width=8, embed_dim=8, k_init="prototype").eval()
    with torch.no_grad():
        m.extend.weight.normal_()
    x = torch.rand(2, 4, 3, 32, 32)
    k = torch.rand(2, 4)
    calls = []
    m.ice.register_forward_hook(lambda *a: calls.append(1))
    out = m(x, k=k)
    assert not calls and out.z is None and torch.equal(out.k, k)
    # the reference: texture × extend(k), by hand, through the LSTM and the classifier
    feats = m.texture(x) * (k[..., None] * m.extend.weight[:, 0] + m.extend.bias)
    assert torch.allclose(out.logits, m.classify(feats), atol=1e-6)
    with pytest.raises(ValueError, match="given k must be"):
        m(x, k=torch.rand(2, 5))
    with pytest.raises(ValueError, match="non-finite"):
        m(x, k=torch.full((2, 4), float("nan")))


def test_oracle_and_prototype_k_are_the_truth_and_the_prototype_mean(tmp_path):
    kit = build(tiny(tmp_path, k_source="oracle", lambda_id=0, lambda_wrst=0), 5, torch.device("cpu"))
    truth, apex = torch.rand(3, 16), torch.tensor([2, 8, 15])
    assert torch.allclose(kit.given_k(apex, truth), 0.2 + 0.8 * truth)
    with pytest.raises(FoldError, match="true intensity"):
        kit.given_k(apex, torch.full((3, 16), float("nan")))
    kit = build(tiny(tmp_path, k_source="prototype", lambda_id=0, lambda_wrst=0), 5, torch.device("cpu"))
    mean, _ = intensity_prototype(apex, 16, 0.2)
    assert torch.allclose(kit.given_k(apex, None), mean)
    assert kit.given_k(apex, None)[1, 8] == 1.0  # the apex is at the prototype's top
    assert build(tiny(tmp_path), 5, torch.device("cpu")).given_k(apex, truth) is None


def test_a_given_k_needs_cmnet_without_the_ice_losses(tmp_path):
    with pytest.raises(ConfigError, match="k_source 'oracle'.*lambda_id = lambda_wrst = 0"):
        tiny(tmp_path, k_source="oracle").validate("test")
    with pytest.raises(ConfigError, match="k_source 'prototype'"):
        tiny(tmp_path, k_source="prototype", model="resnet_lstm", lambda_id=0, lambda_wrst=0).validate("test")


def test_supervised_k_is_the_mean_squared_error_to_the_mapped_truth():
    crit = CMNetLoss(lambdas=(0.0, 0.5, 0.0), tendency="truth", eps=0.2)
    k, truth = torch.rand(2, 16), torch.rand(2, 16)
    out = ModelOutput(logits=torch.zeros(2, 5), k=k)
    total, parts = crit(out, torch.zeros(2, dtype=torch.long), torch.tensor([3, 7]), None, truth)
    ref = sum((k[b, n] - (0.2 + 0.8 * truth[b, n])) ** 2 for b in range(2) for n in range(16)) / 32
    assert torch.allclose(parts["truth"], ref) and torch.allclose(total, 0.5 * ref)
    with pytest.raises(ValueError, match="true intensity"):
        crit(out, torch.zeros(2, dtype=torch.long), torch.tensor([3, 7]), None, None)


def test_term_gradient_norms_equal_one_backward_per_term(tmp_path):
    cfg = tiny(tmp_path, lambda_id=0.3, lambda_wrst=0.7, lambda_ce=0.5, tendency="spearman", negatives="augmented")
    torch.manual_seed(0)
    kit = build(cfg, 5, torch.device("cpu"))
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(2, 16, 3, 32, 32)
    views = kit.transform.views(x, gen)
    out = kit.model(x, views=views)
    apex, y = torch.tensor([4, 9]), torch.tensor([0, 3])
    _, parts = kit.crit(out, y, apex, torch.Generator().manual_seed(1))
    norms = term_gradient_norms(kit, parts)
    assert set(norms) == {"id", "spearman", "ce"}
    weights = {"id": 0.3, "spearman": 0.7, "ce": 0.5}
    params = [p for p in list(kit.model.parameters()) + list(kit.crit.parameters()) if p.requires_grad]
    for name, w in weights.items():  # the reference: backward of that term alone, then the norm of every .grad
        for p in params:
            p.grad = None
        (w * parts[name]).backward(retain_graph=True)
        ref = float(torch.sqrt(sum((p.grad ** 2).sum() for p in params if p.grad is not None)))
        assert norms[name] == pytest.approx(ref, rel=1e-5)


def test_a_control_study_trains_and_records_active_shares(tmp_path):
    cfg = tiny(tmp_path, k_source="oracle", lambda_id=0, lambda_wrst=0, epochs=1)
    run_study(cfg, progress=False)
    folder = Path(cfg.study.runs_dir) / "tiny"
    with np.load(next(folder.glob("seed0/*/intensity.npz"))) as z:
        assert np.allclose(z["k"], 0.2 + 0.8 * z["truth"], atol=1e-6)  # the oracle's k is the truth, mapped
    hist = [json.loads(line) for line in next(folder.glob("seed0/*/metrics.jsonl")).read_text().splitlines()]
    assert hist[0]["active_ce"] == 1.0 and hist[0]["gradnorm_ce"] > 0
    terms = pd.DataFrame(loss_terms(Path(cfg.study.results_dir) / "tiny"))  # read back from results/ (epochs.csv)
    assert list(terms.term) == ["L_C"] and terms["steps above zero"].iloc[0] == 1.0


def test_loss_terms_count_steps_and_gradient_shares(tmp_path):
    rows = [{"seed": 0, "fold": "k1", "epoch": e, "train_ce": 1.0, "train_wrst": w, "active_ce": 1.0,
             "active_wrst": a, "gradnorm_ce": 3.0, "gradnorm_wrst": g}
            for e, w, a, g in [(1, 0.2, 0.5, 1.0), (2, 0.0, 0.0, 0.0), (3, 0.0, 0.0, 0.0), (4, 0.0, 0.0, 0.0)]]
    (tmp_path / "epochs.csv").write_text(pd.DataFrame(rows).to_csv(index=False))
    t = {r["term"]: r for r in loss_terms(tmp_path)}
    assert t["L_Wrst"]["epochs above zero"] == 0.25
    assert t["L_Wrst"]["steps above zero"] == pytest.approx(0.125)
    assert t["L_Wrst"]["gradient share"] == pytest.approx((1 / 4) / 4)  # 1/(1+3) in one epoch of four
    assert t["L_C"]["gradient share"] == pytest.approx((3 / 4 + 1 + 1 + 1) / 4)


def test_an_inactive_term_is_not_tested(tmp_path):
    claims = pd.DataFrame({"claim": ["Table 3: adding L_Wrst helps (all three vs L_C + L_ID)",
                                     "Table 3: adding L_ID helps (all three vs L_C + L_Wrst)",
                                     "Table 3: CMNet beats its ResNet + LSTM baseline (L_C alone)"],
                           "verdict": ["the paper's effect is excluded here"] * 3})
    rows = [{"seed": 0, "fold": "k1", "epoch": e, "train_ce": 1.0, "train_id": 2.0, "train_wrst": 0.0}
            for e in range(1, 41)]
    rows[0]["train_wrst"] = 0.1  # above zero in 1 epoch of 40 (2.5 %)
    (tmp_path / "epochs.csv").write_text(pd.DataFrame(rows).to_csv(index=False))
    out = mark_inactive(claims, {"cmnet": tmp_path})
    assert out.verdict[0].startswith("not tested here: L_Wrst was inactive") and "2.5 % of epochs" in out.verdict[0]
    assert out.verdict[1] == out.verdict[2] == "the paper's effect is excluded here"  # L_ID acted


def test_level_epoch_and_the_tuning_choice():
    assert level_epoch([5.0] * 10) == 1
    loss = np.r_[np.linspace(10, 1, 10), np.full(10, 1.0)]
    # the smoothed curve's remaining fall is ≤ 10 % of the whole from the first epoch on which it is
    s = np.array([loss[max(0, i - 2): i + 1].mean() for i in range(20)])
    floor = s.min()
    ref = next(i + 1 for i in range(20) if s[i] - min(s[i:]) <= 0.1 * (s[0] - floor))
    assert level_epoch(loss) == ref
    with pytest.raises(ValueError):
        level_epoch([1.0, np.nan])
    curves = pd.DataFrame([{"arm": arm, "lr": lr, "variant": f"{arm}_lr{lr:g}", "epoch": e,
                            "train_loss": 2.0 / e ** (1 if lr > 0.01 else 0.5), "train_acc": 0.5,
                            "test_accuracy": acc + (0.05 if e > 28 else 0)}
                           for arm, lr, acc in [("baseline", 0.005, 0.3), ("baseline", 0.02, 0.4), ("cmnet", 0.005, 0.5),
                                                ("cmnet", 0.02, 0.45)] for e in range(1, 33)])
    t = tuning_table(curves=curves)
    assert t.loc[t.chosen, ["arm", "lr"]].values.tolist() == [["baseline", 0.02], ["cmnet", 0.005]]
    c = tuning_choice(t)
    assert c["lr"] == {"baseline": 0.02, "cmnet": 0.005}
    assert c["epochs"] % 4 == 0 and c["epochs"] >= c["levels off"] and c["epochs"] <= 32


def test_the_tuned_rates_are_the_committed_tuning_choice():
    if not (ROOT / "results" / f"cpu_tuning-{next(iter(TUNING))}").is_dir():
        pytest.fail("results/cpu_tuning-* are missing: the tuned rates must come from a committed tuning run")
    choice = tuning_choice(tuning_table("cpu_tuning", ROOT / "results"))
    assert TUNED == choice["lr"]
    for p in ("cpu_dose05", "cpu_dose1", "cpu_dose2", "cpu_draw2"):
        assert variant_config(p, "cmnet", ROOT / "params").train.epochs == choice["epochs"], p
        assert variant_config(p, "mmnet", ROOT / "params").train.lr == TUNED["mmnet"], p


def test_the_probe_finds_a_planted_signal_and_not_noise():
    rng = np.random.default_rng(0)
    n = 16
    truth = rng.random((40, n))
    feats = np.c_[truth.reshape(-1, 1) * 3 + 1, rng.normal(size=(40 * n, 5))]
    r = ridge_probe(feats[: 20 * n], truth[:20].ravel(), feats[20 * n:], truth[20:].ravel(), n, alpha=1e-6)
    assert r["r2"] > 0.99 and r["rho"] > 0.99
    noise = rng.normal(size=(40 * n, 6))
    r = ridge_probe(noise[: 20 * n], truth[:20].ravel(), noise[20 * n:], truth[20:].ravel(), n)
    assert r["r2"] < 0.05 and abs(r["rho"]) < 0.25  # 20 clips: the mean ρ of noise has SE ≈ 0.06


def test_motion_energy_is_the_mean_absolute_grey_difference():
    rng = np.random.default_rng(1)
    f = rng.integers(0, 256, (2, 3, 4, 4, 3), dtype=np.uint8)
    m = motion_energy(f)
    for k in range(2):
        for n in range(3):
            ref = np.mean([abs(f[k, n, i, j].astype(float).mean() - f[k, 0, i, j].astype(float).mean())
                           for i in range(4) for j in range(4)])
            assert m[k, n] == pytest.approx(ref, rel=1e-5)
    assert (m[:, 0] == 0).all()


def test_subject_accuracy_interval_is_students_t_over_subjects():
    rng = np.random.default_rng(2)
    rows = [{"subject": f"s{s}", "label": "a", "pred": "a" if rng.random() < 0.3 + 0.1 * s else "b"}
            for s in range(6) for _ in range(10)]
    clips = pd.DataFrame(rows)
    r = subject_accuracy(clips)
    acc = clips.assign(ok=clips.label == clips.pred).groupby("subject").ok.mean().to_numpy()
    half = student_t.ppf(0.975, 5) * acc.std(ddof=1) / np.sqrt(6)
    assert r["accuracy"] == pytest.approx(acc.mean()) and r["ci_low"] == pytest.approx(acc.mean() - half)
    assert r["ci_high"] == pytest.approx(acc.mean() + half) and r["subjects"] == 6


def test_scope_words_name_data_size_epochs_pretraining_and_input():
    cfg = variant_config("cpu", "cmnet", ROOT / "params")
    s = scope_words(cfg)
    assert s == f"SynthME, difficulty 0.5, 32² frames, {cfg.train.epochs} epochs, from scratch, onset-difference input"
    assert "onset" not in scope_words(variant_config("cpu", "cmnet_printed", ROOT / "params"))


def test_the_dose_sentence_says_why_a_row_sits_near_chance():
    from cmnet.report.dose import dose_sentence

    t = pd.DataFrame([{"difficulty": d, "arm": a, "row": a, "accuracy": acc, "chance": 0.2, "train acc": tr}
                      for d, a, acc, tr in [(0.5, "plain", 0.6, 1.0), (0.5, "baseline", 0.5, 0.9),
                                            (2.0, "plain", 0.25, 1.0), (2.0, "baseline", 0.22, 0.8),
                                            (2.0, "cmnet", 0.21, 0.3)]])
    s = dose_sentence(t, pd.DataFrame(columns=["contrast"]))
    assert "baseline at 2 (22.0 % held out, 80.0 % on its training clips)" in s
    assert "cmnet at 2 (21.0 % held out, 30.0 % on its training clips)" in s and "baseline at 0.5" not in s
    assert "1 of them fitted their training clips" in s  # the cmnet row (30 % < 2 × chance) did not
