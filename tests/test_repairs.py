"""The named repairs of the printed method, each against a plain reference, and the L_ID
shortcut that motivates one of them."""

import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import stats

from cmnet.config import Config, ConfigError, blur_sigma_px
from cmnet.fold.diagnostics import shortcut_stats
from cmnet.fold.batches import encoder_input
from cmnet.losses import TendencyPrototype, intensity_distillation_loss, sample_negatives, wrst_loss
from cmnet.models import create_model
from cmnet.statistics.stats import seed_interval
from test_distillation import _loop_lid


# ------------------------------------------------------------------ L_ID negatives

@pytest.mark.parametrize("sampler", ["deterministic", "random", "probabilistic"])
def test_augmented_negatives_equal_loop(sampler):
    g = torch.Generator().manual_seed(3)
    fr = torch.randn(2, 16, 8, generator=g, dtype=torch.float64)
    v1 = fr + 0.4 * torch.randn(fr.shape, generator=g, dtype=torch.float64)
    v2 = fr + 0.4 * torch.randn(fr.shape, generator=g, dtype=torch.float64)
    idx = sample_negatives(F.normalize(fr, dim=-1), sampler, 0.1, 15, torch.Generator().manual_seed(5))
    got = float(intensity_distillation_loss(v1, v2, fr, sampler, 0.1, 15, torch.Generator().manual_seed(5),
                                            negatives="augmented"))
    assert got == pytest.approx(_loop_lid(v1, v2, fr, idx.tolist(), 0.1, pools=(v1, v2)), rel=1e-9)
    printed = float(intensity_distillation_loss(v1, v2, fr, sampler, 0.1, 15, torch.Generator().manual_seed(5)))
    assert printed != pytest.approx(got, rel=1e-3)  # the option really changes the negatives
    with pytest.raises(ValueError, match="negatives"):
        intensity_distillation_loss(v1, v2, fr, sampler, 0.1, negatives="views")


def _encoders(B=4, N=16, E=8192, seed=0):
    """Embeddings (clean, view1, view2) of four encoders of the same clips:
    shortcut   reports only "augmented or not" (one vector for views, another for clean frames);
    random     unrelated random features for every image (near-orthogonal at E = 8192);
    intended   knows the frame: a view is its own clean frame's feature plus augmentation noise."""
    g = torch.Generator().manual_seed(seed)
    a, c = torch.zeros(E, dtype=torch.float64), torch.zeros(E, dtype=torch.float64)
    a[0], c[1] = 1, 1
    shortcut = (c.expand(B, N, E), a.expand(B, N, E) + 0.1 / math.sqrt(E) * torch.randn(B, N, E, generator=g, dtype=torch.float64),
                a.expand(B, N, E) + 0.1 / math.sqrt(E) * torch.randn(B, N, E, generator=g, dtype=torch.float64))
    rand = tuple(torch.randn(B, N, E, generator=g, dtype=torch.float64) for _ in range(3))
    frames = torch.randn(B, N, E, generator=g, dtype=torch.float64)
    intended = (frames, frames + 0.5 * torch.randn(B, N, E, generator=g, dtype=torch.float64),
                frames + 0.5 * torch.randn(B, N, E, generator=g, dtype=torch.float64))
    return {"shortcut": shortcut, "random": rand, "intended": intended}


@pytest.mark.parametrize("sampler", ["deterministic", "random", "probabilistic"])
def test_the_printed_negatives_reward_the_augmentation_shortcut(sampler):
    """Printed L_ID: knowing only "was this image augmented" already drives the loss near
    zero, far below unrelated random features. Repaired: the shortcut is worth nothing
    (the loss of a constant encoder, 2·log(M + 1): Eq. 1 sums the two anchor views), no
    lower than random features, and only an encoder that knows its frame does better."""
    enc = _encoders()
    m = 15

    def lid(name, negatives):
        clean, v1, v2 = enc[name]
        return float(intensity_distillation_loss(v1, v2, clean, sampler, 0.1, m, torch.Generator().manual_seed(1),
                                                 negatives=negatives))

    assert lid("shortcut", "clean") < 0.01
    assert lid("random", "clean") > 2 * math.log(m + 1) - 0.05
    assert lid("shortcut", "augmented") == pytest.approx(2 * math.log(m + 1), abs=0.01)
    assert lid("shortcut", "augmented") >= lid("random", "augmented") - 0.05
    assert lid("intended", "augmented") < lid("shortcut", "augmented") - 1.0


# ------------------------------------------------------------------ the shortcut diagnostic

def test_shortcut_stats_equal_loops_and_flag_the_shortcut():
    g = torch.Generator().manual_seed(2)
    z, z1, z2 = (F.normalize(torch.randn(3, 5, 6, generator=g, dtype=torch.float64), dim=-1) for _ in range(3))
    k = torch.randn(3, 5, generator=g, dtype=torch.float64)
    s = shortcut_stats(z, z1, z2, k)
    own = np.mean([[0.5 * float(z1[b, n] @ z[b, n] + z2[b, n] @ z[b, n]) for n in range(5)] for b in range(3)])
    other = np.mean([0.5 * float(z1[b, n] @ z[b, m] + z2[b, n] @ z[b, m])
                     for b in range(3) for n in range(5) for m in range(5) if m != n])
    clean = np.mean([float(z[b, n] @ z[b, m]) for b in range(3) for n in range(5) for m in range(5) if m != n])
    assert s["cos_view_own_clean"] == pytest.approx(own, abs=1e-6)
    assert s["cos_view_other_clean"] == pytest.approx(other, abs=1e-6)
    assert s["cos_clean_other_clean"] == pytest.approx(clean, abs=1e-6)
    assert s["cos_view1_view2"] == pytest.approx(float((z1 * z2).sum(-1).mean()), abs=1e-6)
    assert s["k_range"] == pytest.approx(float(np.ptp(k.numpy(), 1).mean()), abs=1e-6)
    enc = _encoders(E=64)
    short = shortcut_stats(*enc["shortcut"])
    good = shortcut_stats(*enc["intended"])
    assert short["cos_view1_view2"] > 0.9 and abs(short["own_minus_other"]) < 0.01
    assert short["cos_clean_other_clean"] > 0.99
    assert good["own_minus_other"] > 0.5


# ------------------------------------------------------------------ input, BatchNorm, k, blur

def test_onset_diff_input():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(2, 4, 3, 8, 8, generator=g)
    d = encoder_input(x, "onset_diff", gain=2.0)
    ref = np.clip(0.5 + 2.0 * (x.numpy() - x.numpy()[:, :1]), 0, 1)
    np.testing.assert_allclose(d.numpy(), ref, atol=1e-6)
    assert torch.all(d[:, 0] == 0.5)  # the onset frame becomes uniform grey
    assert encoder_input(x, "frames") is x
    with pytest.raises(ValueError, match="unknown input"):
        encoder_input(x, "flow")


def _bn_stats(model):
    return [(m.running_mean.clone(), m.running_var.clone()) for m in model.ice.modules()
            if isinstance(m, torch.nn.BatchNorm2d)]


def test_ice_bn_clean_takes_running_stats_from_clean_frames_only():
    g = torch.Generator().manual_seed(0)
    clips = torch.rand(2, 4, 3, 32, 32, generator=g)
    views = (torch.rand(2, 4, 3, 32, 32, generator=g) * 3, torch.rand(2, 4, 3, 32, 32, generator=g) * 3)
    stats_of = {}
    for bn in ("clean", "mixed"):
        torch.manual_seed(0)
        m = create_model("cmnet", num_classes=5, ice_width=4, embed_dim=8, lstm_hidden=8, ice_bn=bn)
        m.train()
        out = m(clips, views)
        assert out.z1.shape == out.z.shape == (2, 4, 8)
        stats_of[bn] = _bn_stats(m)
    torch.manual_seed(0)
    ref = create_model("cmnet", num_classes=5, ice_width=4, embed_dim=8, lstm_hidden=8)
    ref.train()
    ref(clips)  # the clean frames alone
    for (a_mean, a_var), (r_mean, r_var) in zip(stats_of["clean"], _bn_stats(ref)):
        torch.testing.assert_close(a_mean, r_mean)
        torch.testing.assert_close(a_var, r_var)
    assert not torch.allclose(stats_of["mixed"][0][0], _bn_stats(ref)[0][0])  # mixed: the views leak in


def test_k_init_prototype_starts_inside_the_prototype_and_wrst_has_a_gradient():
    torch.manual_seed(0)
    clips = torch.rand(4, 16, 3, 32, 32)
    apex = torch.tensor([3, 5, 8, 10])
    q, _, _ = TendencyPrototype(16)(apex, torch.Generator().manual_seed(0))
    q = q.detach()
    for k_init in ("default", "prototype"):
        torch.manual_seed(0)
        m = create_model("cmnet", num_classes=5, ice_width=4, embed_dim=8, lstm_hidden=8, k_init=k_init)
        k = m(clips).k.detach()
        if k_init == "prototype":
            assert 0.4 < float(k.min()) and float(k.max()) < 0.8  # inside q's range [0.2, 1]
            assert float(wrst_loss(q, k, temperature=None)) == 0.0  # the test is not rejected: calibrated
    # k at or below the prototype's lower end: far below (the printed init's k ≈ −0.1 after a
    # few steps, |Z| ≈ 4.8) the density of Eq. 8 leaves L_Wrst no usable gradient whatever the
    # temperature; at the edge the wider soft ranks (t = 0.2) give it 10× more than t = 0.05
    noise = 0.05 * torch.randn(4, 16, generator=torch.Generator().manual_seed(1))

    def grad(level, t):
        kk = (level + noise).requires_grad_(True)
        wrst_loss(q, kk, temperature=t).backward()
        return float(kk.grad.abs().max())

    assert grad(-0.1, 0.05) < 1e-6 and grad(-0.1, 0.2) < 1e-4
    assert grad(0.1, 0.2) > 10 * grad(0.1, 0.05) and grad(0.2, 0.2) > 10 * grad(0.2, 0.05)
    assert grad(0.2, 0.2) > 1e-3


def test_blur_sigma_relative_to_frame_size():
    assert blur_sigma_px(1.5, False, 32) == 1.5
    assert blur_sigma_px(1.5, True, 224) == pytest.approx(1.5) and blur_sigma_px(1.5, True, 32) == pytest.approx(1.5 * 32 / 224)
    from cmnet.fold.batches import ClipTransform

    cfg = Config.from_flat({"blur_sigma": 1.5, "blur_relative": True}, "t")
    t = ClipTransform.from_config(cfg)  # the views read both keys
    assert (t.blur_sigma, t.blur_relative) == (1.5, True)


@pytest.mark.parametrize("key,value", [("input", "flow"), ("negatives", "views"), ("ice_bn", "none"),
                                       ("k_init", "zero"), ("sampler", "greedy")])
def test_unknown_choice_is_a_config_error(key, value):
    with pytest.raises(ConfigError, match=f"{key}.*must be one of"):
        Config.from_flat({key: value}, "profile.yaml")


# ------------------------------------------------------------------ intervals over seeds

@pytest.mark.parametrize("vals", [[0.31, 0.42, 0.38], [0.5, 0.52, 0.47, 0.61, 0.44]])
def test_seed_interval_equals_scipy(vals):
    s = seed_interval(vals)
    lo, hi = stats.t.interval(0.95, len(vals) - 1, loc=np.mean(vals), scale=stats.sem(vals))
    assert s["ci_low"] == pytest.approx(lo) and s["ci_high"] == pytest.approx(hi)
    assert s["std"] == pytest.approx(np.std(vals, ddof=1)) and s["n"] == len(vals)
    one = seed_interval([0.4])
    assert one["ci_low"] == one["ci_high"] == 0.4 and one["n"] == 1
    with pytest.raises(ValueError):
        seed_interval([0.1, float("nan")])


# ------------------------------------------------------------------ the book's variants

def test_variants_printed_and_repaired_and_fair_baseline():
    import argparse

    from cmnet.cli_settings import config_of as _config
    from cmnet.variants import MAIN, PRINTED, REPAIRS, variant_config, VARIANTS

    root = __import__("pathlib").Path(__file__).resolve().parents[1] / "params"
    rep = variant_config("cpu", "cmnet", params_dir=root).to_flat()
    pri = variant_config("cpu", "cmnet_printed", params_dir=root).to_flat()
    assert all(rep[k] == v for k, v in MAIN.items()) and all(pri[k] == v for k, v in PRINTED.items())
    # the main rows follow the held-out ablation: every repair but augmented negatives (chapter 10)
    assert MAIN == REPAIRS | {"negatives": PRINTED["negatives"]}
    # only the repairs kept, the study name and the seeds (the printed row runs the first seed only: one_seed)
    assert {k for k in rep if rep[k] != pri[k]} == set(REPAIRS) - {"negatives"} | {"name", "seeds"}
    assert rep["seeds"] == [0, 1] and pri["seeds"] == [0]
    for v in VARIANTS:  # every ablation keeps the paper's λ for the terms it keeps
        f = variant_config("cpu", v, params_dir=root).to_flat()
        if v not in ("mmnet", "baseline_ce1"):
            assert f["lambda_ce"] == 0.22, v
            assert f["lambda_id"] in (0.0, 0.07) and f["lambda_wrst"] in (0.0, 0.71), v
    mm = variant_config("cpu", "mmnet", params_dir=root)
    assert mm.train.batch_size == 32 and mm.train.optimizer == "adamw"
    args = argparse.Namespace(params=root / "cpu.yaml", set=["epochs=3"], variant="cmnet_printed")
    cfg = _config(args)
    assert cfg.study.name == "cpu-cmnet_printed" and cfg.train.epochs == 3 and cfg.loss.negatives == "clean"
    with pytest.raises(ValueError, match="unknown variant"):
        _config(argparse.Namespace(params=root / "cpu.yaml", set=None, variant="cmnet_best"))


def test_variant_bars_draws_mean_interval_and_seeds():
    import matplotlib

    matplotlib.use("Agg")
    from cmnet.report.plots import variant_bars

    def summ(vals):
        return {"summary": {"pooled_accuracy": seed_interval(vals)}, "seeds": [{"pooled_accuracy": v} for v in vals]}

    fig = variant_bars({"a": summ([0.4, 0.5, 0.45]), "b (printed)": summ([0.2])}, 0.2, {"plain": 0.6})
    ax = fig.axes[0]
    widths = sorted(round(p.get_width(), 6) for p in ax.patches)
    assert widths == [20.0, 45.0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b (printed)"]
    assert len(ax.get_legend().get_texts()) == 2


def test_each_repair_one_at_a_time_differs_from_its_parent_in_its_keys_only():
    from cmnet.variants import LABELS, REPAIR_ABLATIONS, REPAIR_GROUPS, variant_config

    root = Path(__file__).resolve().parents[1] / "params"
    # the ablations start from all five repairs (cmnet_all_repairs), as they were run on the held-out SynthME
    rep, pri = (variant_config("cpu", "cmnet_all_repairs", params_dir=root).to_flat(),
                variant_config("cpu", "cmnet_printed", params_dir=root).to_flat())
    assert len(REPAIR_ABLATIONS) == 2 * len(REPAIR_GROUPS) == 10
    for r, keys in REPAIR_GROUPS.items():
        without = variant_config("cpu", f"cmnet_without_{r}", params_dir=root).to_flat()
        alone = variant_config("cpu", f"cmnet_printed_with_{r}", params_dir=root).to_flat()
        assert {k for k in rep if rep[k] != without[k]} == set(keys) | {"name"}
        # (the printed row of the cpu profile runs one seed, its ablations every seed: chapter 10 runs them apart)
        assert {k for k in pri if pri[k] != alone[k]} == set(keys) | {"name", "seeds"}
        assert all(without[k] == pri[k] and alone[k] == rep[k] for k in keys)
        assert f"cmnet_without_{r}" in LABELS and f"cmnet_printed_with_{r}" in LABELS


def test_one_seed_rows_and_the_repairs_profile_held_out(tmp_path):
    from cmnet.params import ConfigError
    from cmnet.variants import variant_config

    root = Path(__file__).resolve().parents[1] / "params"
    cpu = variant_config("cpu", "cmnet", params_dir=root)
    for v in cpu.study.one_seed:
        assert variant_config("cpu", v, params_dir=root).study.seeds == cpu.study.seeds[:1], v
    for v in ("cmnet", "baseline"):  # the headline rows: every seed
        assert variant_config("cpu", v, params_dir=root).study.seeds == [0, 1], v
    # the repairs profile: the cpu settings on another SynthME (another generator seed), fewer subjects
    a, b = variant_config("cpu", "cmnet", params_dir=root).to_flat(), variant_config(
        "cpu_repairs", "cmnet", params_dir=root).to_flat()
    # run with the first edition's budget (3 folds, 16 epochs, one rate), before cpu took the tuned one
    assert {k for k in a if a[k] != b[k]} == {"name", "synth_seed", "synth_subjects", "seeds", "one_seed",
                                              "kfold_k", "epochs", "tuned"}
    assert b["synth_seed"] != a["synth_seed"]
    # the GPU profile carries the CPU book's design at the paper's size; its imbalanced twin only the class shares
    g, i = (variant_config(p, "baseline", params_dir=root).to_flat() for p in ("synthme", "synthme_imbalanced"))
    c = variant_config("cpu", "baseline", params_dir=root).to_flat()
    assert all(g[k] == c[k] for k in ("synth_subjects", "synth_clips_per_subject", "protocol", "kfold_k", "seeds",
                                      "one_seed")) and g["size"] == 224 and g["epochs"] == 100
    assert {k for k in g if g[k] != i[k]} == {"name", "synth_proportions"} and i["synth_proportions"] == "casme2"
    (tmp_path / "p.yaml").write_text((root / "cpu.yaml").read_text().replace("one_seed: [cmnet_no_id,",
                                                                               "one_seed: [cmnet_best,"))
    with pytest.raises(ConfigError, match="'one_seed' names no variant: cmnet_best"):
        variant_config("p", "cmnet", params_dir=tmp_path)
