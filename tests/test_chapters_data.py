"""What chapters 1–3 and 11 compute (cmnet.report.chapters_data, cmnet.report.own_data),
checked against reference computations: plain loops, scipy, the generator's own rules."""

import math

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import binomtest, norm, spearmanr

from cmnet.report import chapters_data as ch
from cmnet.fold import cost as fold_cost
from cmnet.report import own_data as od


def test_amplified_difference_and_the_grid():
    a = np.full((2, 2, 3), 100, np.uint8)
    b = a.copy()
    b[0, 0] = [101, 90, 200]
    d = ch.amplified_difference(a, b, gain=8)
    assert d[0, 0].tolist() == [136, 48, 255] and d[1, 1].tolist() == [128, 128, 128]
    fig = ch.image_grid([a] * 14, [f"t{i}" for i in range(14)], ncols=6, width=9.0)
    assert len(fig.axes) == 18 and fig.get_size_inches()[0] == pytest.approx(9.0)
    assert {ax.title.get_fontsize() for ax in fig.axes[:14]} == {ch.FONT}


@pytest.mark.parametrize("curve, want", [
    ([0, .5, 1, .5, 0], dict(apex_position=0.5, plateau_frames=0, second_peak=False, neutral_frames=0)),
    ([0, .5, 1, 1, 1, .5, 0], dict(apex_position=0.5, plateau_frames=2, second_peak=False, neutral_frames=0)),
    ([0, 1, .5, .2, .4, .1, 0], dict(apex_position=1 / 6, plateau_frames=0, second_peak=True, neutral_frames=0)),
    ([0, 0, 0, .5, 1, .3, 0, 0], dict(apex_position=4 / 7, plateau_frames=0, second_peak=False, neutral_frames=3)),
])
def test_curve_shape_on_curves_drawn_by_hand(curve, want):
    got = ch.curve_shape(curve)
    assert got == pytest.approx(want)


def test_curve_shapes_follow_the_generators_rules():
    from cmnet.data.synthme import clip_curve

    rng = np.random.default_rng(3)
    bumps, varied = [], []
    for _ in range(300):
        n = int(rng.integers(9, 61))
        bumps.append(ch.curve_shape(clip_curve("bump", n + 6, 3, n + 2, rng)[0][3:n + 3]))
        varied.append(ch.curve_shape(clip_curve("varied", n + 6, 3, n + 2, rng)[0][3:n + 3]))
    bumps, varied = pd.DataFrame(bumps), pd.DataFrame(varied)
    # the first edition's bump: apex at 25–60 % of the clip, nothing else
    assert bumps["apex_position"].between(0.2, 0.65).all()
    assert not bumps["second_peak"].any() and (bumps["plateau_frames"] == 0).all() and (bumps["neutral_frames"] == 0).all()
    s = ch.curve_summary(varied)  # each of the three extras has probability 0.3 (for clips long enough)
    for key in ("plateau", "neutral", "second_peak"):
        assert 0.1 < s[key] < 0.4, key
    assert s["apex_p10"] < 0.25 and s["apex_p90"] > 0.7


def test_fixed_bump_rho_is_the_leave_one_out_mean_of_spearman():
    rng = np.random.default_rng(0)
    curves = rng.uniform(size=(6, 16))
    loop = np.mean([spearmanr(np.delete(curves, i, 0).mean(0), curves[i]).statistic for i in range(6)])
    assert ch.fixed_bump_rho(curves) == pytest.approx(loop)
    assert ch.fixed_bump_rho(np.tile(np.hanning(16), (5, 1))) == pytest.approx(1.0)
    varied, bump = (ch.fixed_bump_rho(ch.simulated_curves(m, 200)) for m in ("varied", "bump"))
    assert bump > 0.9 and varied < bump - 0.1
    assert "no longer follows" in ch.bump_sentence(varied, bump) and "still follows" in ch.bump_sentence(0.9, 0.92)


def test_against_chance_is_scipys_wilson_interval():
    ci = binomtest(70, 100).proportion_ci(0.95, method="wilson")
    r = ch.against_chance(70, 100, 0.2)
    assert (r["lo"], r["hi"], r["accuracy"], r["relation"]) == (pytest.approx(ci.low), pytest.approx(ci.high), 0.7, "above")
    assert ch.against_chance(21, 100, 0.2)["relation"] == "indistinguishable from"
    assert "room above" in ch.hardness_sentence(r, 0.2)
    assert "cannot be told apart" in ch.hardness_sentence(ch.against_chance(21, 100, 0.2), 0.2)


def test_parameter_table_counts_every_parameter():
    from cmnet.models import create_model

    models = {"seq": torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2)),
              "baseline": create_model("resnet_lstm", num_classes=5)}
    t = ch.parameter_table(models)
    assert t["parameters"].tolist() == [sum(p.numel() for p in m.parameters()) for m in models.values()]
    assert t["parameters"][0] == 3 * 4 + 4 + 4 * 2 + 2 and t["by module"][0] == "0 16, 2 10"


def test_the_samplers_simulated_match_their_probabilities():
    emb, anchor, tau, m = ch.drifting_embeddings(16), 5, 0.1, 15
    sim = ch.negative_frequencies(emb, anchor, tau, m, draws=3000)
    exp = ch.expected_frequencies(emb, anchor, tau, m)
    for s in sim:
        assert sim[s][anchor] == 0 and sim[s].sum() == pytest.approx(exp[s].sum())
    assert np.array_equal(sim["deterministic"], exp["deterministic"])
    # each frequency is a mean of 3000 draws of a binomial count (m draws): 5 standard errors
    for s in ("random", "probabilistic"):
        se = np.sqrt(m * (exp[s] / m) * (1 - exp[s] / m) / 3000)
        assert np.all(np.abs(sim[s] - exp[s]) <= 5 * se + 1e-9), s
    z = emb[0].numpy()
    w = np.exp(z @ z[anchor] / tau)
    w[anchor] = 0
    assert exp["probabilistic"] == pytest.approx(m * w / w.sum())


def test_zero_loss_bound_is_where_l_wrst_starts():
    from cmnet.losses import wrst_p

    for reading in ("density", "two-sided"):
        b = ch.zero_loss_bound(0.05, 0.01, reading)
        z = torch.tensor([b - 1e-4, b + 1e-4], dtype=torch.float64)
        loss = torch.relu(0.01 - (wrst_p(z, reading) - 0.05))
        assert loss[0] == 0 and loss[1] > 0
    assert ch.zero_loss_bound(0.05, 0.01) == pytest.approx(math.sqrt(-2 * math.log(0.06 * math.sqrt(2 * math.pi))))
    assert ch.zero_loss_bound(0.05, 0.01, "two-sided") == pytest.approx(norm.isf(0.03))
    with pytest.raises(ValueError):
        ch.zero_loss_bound(0.05, 0.01, "one-sided")


def test_wrst_ignores_time_order_and_the_mirror_row_is_what_it_says():
    from cmnet.losses import TendencyPrototype

    q, _, _ = TendencyPrototype(16)(torch.full((1,), 5), torch.Generator().manual_seed(1))
    t = ch.wrst_invariance(q.detach())
    assert t["k"].tolist()[-1] == "k trend inverted (4.5 − k)"
    assert np.allclose(t["Z"], t["Z"][0]) and "the same Z" in ch.invariance_sentence(t)
    t.loc[1, "Z"] += 1
    assert "differ" in ch.invariance_sentence(t)


def test_layout_trees_name_the_readers_files():
    from cmnet.data.readers import CASME2_SHEETS, SAMM_SHEET

    assert all(s in od.layout_tree("casme2") for s in CASME2_SHEETS) and "CASME2_RAW_selected/" in od.layout_tree("casme2")
    assert SAMM_SHEET in od.layout_tree("samm") and "*.bmp" in od.layout_tree("smic_hs")
    assert "smic_root/" in od.layout_tree("megc2019")
    with pytest.raises(ValueError):
        od.layout_tree("casme3")


def test_folder_tree_natural_order(tmp_path):
    for n in (10, 9, 11, 2):
        (tmp_path / "clip" / f"img{n}.jpg").parent.mkdir(exist_ok=True)
        (tmp_path / "clip" / f"img{n}.jpg").write_bytes(b"")
    tree = od.folder_tree(tmp_path, per_dir=2)
    assert tree.index("img2.jpg") < tree.index("img9.jpg") and "img10" not in tree and "… 2 more" in tree


def test_a_damaged_copy_is_reported_row_by_row(tmp_path):
    from cmnet.data import read_dataset
    from cmnet.data.synthme import SynthConfig, generate

    generate(tmp_path / "c", SynthConfig(subjects=1, clips_per_subject=3, size=64), progress=False)
    planted = od.damage_copy(tmp_path / "c", tmp_path / "d")
    clean, _ = read_dataset("casme2", tmp_path / "c")
    damaged, report = read_dataset("casme2", tmp_path / "d")
    assert len(planted) == 2 and len(clean) == 3 and len(damaged) == 2
    assert [r.clip.split("/")[-1] for r in report.repairs] == ["EP01_01"] and len(report.exclusions) == 1
    s = od.outcome_sentence(clean, damaged, report)
    assert "repaired 1 row (" in s and "excluded 1" in s and "2 of 3 clips remain" in s and "every clip lost" in s


def test_run_cli_shows_the_command_and_raises_on_failure(tmp_path):
    cmd, out = od.run_cli(["synth", "--help"], {tmp_path: "$TMP"})
    assert cmd == "cmnet synth --help" and "--subjects" in out
    with pytest.raises(RuntimeError, match="cmnet preprocess"):
        od.run_cli(["preprocess", "--dataset", "casme2"])


def test_design_passes_against_the_folds():
    from cmnet.config import Config
    from cmnet.data.splits import make_folds

    for protocol in ("kfold", "loso"):
        cfg = Config.from_flat({"synth_subjects": 6, "synth_clips_per_subject": 5, "protocol": protocol, "kfold_k": 3,
                                "epochs": 4, "eval_every": 2}, "test")
        subjects = [f"s{i}" for i in range(6) for _ in range(5)]
        labels = [j % 5 for _ in range(6) for j in range(5)]
        folds = make_folds(protocol, subjects, labels, 3)
        train, test = fold_cost.design_passes(cfg)
        assert train == 4 * sum(len(f.train) for f in folds)
        assert test == sum(len(f.test) for f in folds) * (4 // 2 + 1)


def test_clip_flops_match_resnet18s_and_the_cost_adds_up():
    from cmnet.config import Config
    from torch.utils.flop_counter import FlopCounterMode
    from cmnet._torchvision import import_torchvision

    resnet18 = import_torchvision().models.resnet18  # the CPU wheel's import needs the shim (order-independent)

    ref = resnet18().to("meta")
    with FlopCounterMode(display=False) as fc:
        ref(torch.empty(1, 3, 224, 224, device="meta"))
    per_frame = fc.get_total_flops() - 2 * 512 * 1000  # without torchvision's 1000-class layer
    cfg = Config.from_flat({"model": "resnet_lstm", "lambda_id": 0.0, "lambda_wrst": 0.0, "size": 224}, "test")
    train, test = fold_cost.clip_flops(cfg)
    assert test == pytest.approx(16 * per_frame, rel=0.01) and 2.5 < train / test < 3.1
    assert fold_cost.gpu_hours(3.6, peak=1e12, utilisation=1.0) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        fold_cost.gpu_hours(1.0, utilisation=0)
    cost = fold_cost.study_cost("smoke", variants=["baseline"])
    tr, te = fold_cost.design_passes(__import__("cmnet.variants", fromlist=["x"]).variant_config("smoke", "baseline"))
    row = cost.iloc[0]
    assert row["PFLOP"] == pytest.approx(row["seeds"] * (row["GFLOP / training clip"] * tr + row["GFLOP / test clip"] * te) / 1e6)


def test_others_sentence_follows_what_was_drawn():
    assert "cannot learn 'others' as one movement" in ch.others_sentence("varied", 4, 6)
    assert "one movement like every other class" in ch.others_sentence("template", 1, 6)


def test_trees_draw_siblings_and_open_branches():
    tree = od._tree([(0, "r/", ""), (1, "a/", ""), (2, "x", "note"), (1, "b", "")]).splitlines()
    assert tree == ["r/", "├── a/", "│   └── x    ← note", "└── b"]


def test_outcome_sentence_hides_the_temporary_folder(tmp_path):
    from cmnet.data.clip import LoadReport

    report = LoadReport("casme2")
    report.excluded("sheet row 3", "sub01/EP01_02", f"frame missing in {tmp_path}/d/sub01")
    s = od.outcome_sentence([1, 2], [1], report, {tmp_path: "$TMP"})
    assert str(tmp_path) not in s and "$TMP/d/sub01" in s and "repaired 0 rows (none)" in s


def test_chapter_one_builds_its_text_on_a_real_dataset(monkeypatch):
    """Every name chapter 1's text reads is glued on every dataset: those glued only under
    `if synthetic:` are the SynthME-only names, which a real dataset glues as a dash."""
    import json
    import re
    from pathlib import Path

    import myst_nb

    cells = json.loads((Path(__file__).parents[1] / "notebooks" / "01_explore_data.ipynb").read_text())["cells"]
    read = {n for c in cells if c["cell_type"] == "markdown"
            for n in re.findall(r"\{glue:\w+\}`(\w+)`", "".join(c["source"]))}
    always, synth_only = set(), set()
    for c in cells:
        if c["cell_type"] != "code":
            continue
        src = "".join(c["source"])
        names = set(re.findall(r"\b(c1_\w+)=", src))
        (synth_only if src.startswith("if synthetic:") else always).update(names)
    assert read <= always | synth_only and synth_only, "a name chapter 1 reads is glued nowhere"
    glued = {}
    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display=True: glued.setdefault(name, value))
    ch.glue_synthme_absent()
    assert set(glued) == (read & synth_only) and set(glued) == set(ch.SYNTHME_ONLY) | set(ch.SYNTHME_ONLY_MD)
    assert {glued[n] for n in ch.SYNTHME_ONLY} == {"—"}
