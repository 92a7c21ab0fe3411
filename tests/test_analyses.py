"""cmnet.report.analyses on hand-made studies (no training), each against a plain loop or scipy."""

import io
import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cmnet.report import analyses, stats as cstats
from cmnet.io import write_bytes, write_text

SEEDS, FOLDS, EPOCHS = (0, 2), ("subA", "subB", "subC"), 5
CLASSES = ["negative", "positive", "surprise"]


def _study(root, shift=0.0, seed_base=0):
    """Per-epoch test metrics, done.json, predictions and intensities of every (seed, fold)."""
    truth = {}
    for seed in SEEDS:
        for j, fold in enumerate(FOLDS):
            rng = np.random.default_rng(1000 * seed_base + 10 * seed + j)
            d = root / f"seed{seed}" / fold
            d.mkdir(parents=True)
            epochs = []
            for e in range(1, EPOCHS + 1):
                vals = {k: float(np.round(rng.random(), 3)) for k in ("accuracy", "f1_paper", "uf1", "uar")}
                epochs.append({"epoch": e, "train_loss": 1.0 / e, **{f"test_{k}": v for k, v in vals.items()}})
            if fold == "subB":  # a tie for the best accuracy: the earliest epoch is the one chosen
                epochs[3]["test_accuracy"] = epochs[1]["test_accuracy"] = 0.999
            write_text(d / "metrics.jsonl", "".join(json.dumps(r) + "\n" for r in epochs))
            last = {k: epochs[-1][f"test_{k}"] + shift for k in ("accuracy", "f1_paper", "uf1", "uar")}
            write_text(d / "done.json", json.dumps({"fold": fold, "n_test": 4, **last}))
            n = 4
            keys = np.array([f"{fold}/c{i}" for i in range(n)])
            labels = [CLASSES[(i + j) % 3] for i in range(n)]
            rows = ["key,subject,label,pred," + ",".join(f"p_{c}" for c in CLASSES)]
            rows += [f"{k},{fold},{lab},{lab},0.2,0.3,0.5" for k, lab in zip(keys, labels)]
            write_text(d / "predictions.csv", "\n".join(rows) + "\n")
            t = np.sort(rng.random((n, 8)), axis=1) * rng.uniform(0.2, 1.0, (n, 1))
            k = t + rng.normal(0, 0.3, (n, 8))
            k[0] = 0.5  # constant k: no ρ
            if fold == "subC":
                t[1] = np.nan  # no ground truth for this clip
            buf = io.BytesIO()
            np.savez(buf, keys=keys, k=k, q=k, q_mean=k, q_std=k, truth=t, apex=np.zeros(n, int), eta=np.zeros(1))
            write_bytes(d / "intensity.npz", buf.getvalue())
            truth[(seed, fold)] = (epochs, keys, labels, k, t)
    return truth


def test_oracle_against_a_plain_loop(tmp_path):
    data = _study(tmp_path)
    e = analyses.epoch_selection(tmp_path)
    assert len(e) == len(SEEDS) * len(FOLDS)
    for _, row in e.iterrows():
        epochs = data[(row.seed, row.fold)][0]
        best = None
        for r in epochs:  # the first epoch with the highest test accuracy
            if best is None or r["test_accuracy"] > best["test_accuracy"]:
                best = r
        assert row.best_epoch == best["epoch"] and row.best_uf1 == best["test_uf1"]
        assert row.last_accuracy == epochs[-1]["test_accuracy"] and row.epochs == EPOCHS
    assert e[e.fold == "subB"].best_epoch.tolist() == [2, 2]
    o = analyses.oracle_inflation(tmp_path)
    for ps in o["per_seed"]:
        honest = np.mean([data[(ps["seed"], f)][0][-1]["test_uf1"] for f in FOLDS])
        oracle = np.mean([e[(e.seed == ps["seed"]) & (e.fold == f)].best_uf1.item() for f in FOLDS])
        assert ps["honest_uf1"] == pytest.approx(honest) and ps["inflation_uf1"] == pytest.approx(oracle - honest)
        assert ps["inflation_accuracy"] >= 0  # selected on accuracy: never below the last epoch
    infl = [ps["inflation_accuracy"] for ps in o["per_seed"]]
    half = stats.t.ppf(0.975, len(infl) - 1) * np.std(infl, ddof=1) / np.sqrt(len(infl))
    s = o["summary"]["inflation_accuracy"]
    assert s["mean"] == pytest.approx(np.mean(infl)) and s["ci_high"] - s["mean"] == pytest.approx(half)
    # selected on UF1 instead: UF1's inflation is then the one that cannot be negative
    assert all(ps["inflation_uf1"] >= 0 for ps in analyses.oracle_inflation(tmp_path, select="uf1")["per_seed"])


def test_oracle_needs_per_epoch_test_metrics(tmp_path):
    d = tmp_path / "seed0" / "subA"
    d.mkdir(parents=True)
    write_text(d / "metrics.jsonl", json.dumps({"epoch": 1, "train_loss": 1.0}) + "\n")
    write_text(d / "done.json", json.dumps({"fold": "subA", "n_test": 1, "accuracy": 1.0}))
    with pytest.raises(FileNotFoundError, match="eval_every: 1"):
        analyses.epoch_selection(tmp_path)


def _amplitudes(data):
    """A made-up peak displacement per clip key (the same clip in every seed), one clip left out."""
    keys = sorted({str(k) for (_, keys, _, _, _) in data.values() for k in keys})
    rng = np.random.default_rng(5)
    amp = {k: float(rng.uniform(0.8, 3.0)) for k in keys}
    amp.pop("subA/c2")
    return amp


@pytest.mark.parametrize("by", [None, "class", "amplitude"])
def test_rho_truth_against_scipy(tmp_path, by):
    data = _study(tmp_path)
    amp = _amplitudes(data)
    got = analyses.rho_truth_summary(tmp_path, by=by, amplitudes=amp)
    rows = []  # a plain loop: every clip with a defined ρ, its group
    for (seed, fold), (_, keys, labels, k, t) in data.items():
        for i in range(len(keys)):
            if np.ptp(k[i]) == 0 or not np.isfinite(t[i]).all():
                continue
            rows.append({"seed": seed, "rho": stats.spearmanr(k[i], t[i]).statistic, "class": labels[i],
                         "amp": amp.get(str(keys[i]), np.nan)})
    ref = pd.DataFrame(rows)
    if by is None:
        ref["group"] = "all"
    elif by == "class":
        ref["group"] = ref["class"]
    else:  # thirds of the amplitude over every test clip (of every seed) whose amplitude is known
        known = np.array([amp[str(key)] for (_, keys, _, _, _) in data.values() for key in keys if str(key) in amp])
        cut = np.quantile(known, [1 / 3, 2 / 3])
        ref["group"] = np.select([ref.amp.isna(), ref.amp <= cut[0], ref.amp <= cut[1]],
                                 ["amplitude not known", "low third", "middle third"], "high third")
    assert set(got.group) == set(ref.group)
    for _, row in got.iterrows():
        r = ref[ref.group == row.group]
        per_seed = r.groupby("seed").rho.mean()
        assert row.clips == len(r) and row.per_seed == pytest.approx({int(s): v for s, v in per_seed.items()})
        assert row.rho_mean == pytest.approx(per_seed.mean())
        if len(per_seed) > 1:
            half = stats.t.ppf(0.975, len(per_seed) - 1) * per_seed.std(ddof=1) / np.sqrt(len(per_seed))
            assert row.ci_high == pytest.approx(per_seed.mean() + half)
    assert got.clips_without_rho.sum() == 2 * 3 + 2  # constant k in every fold; subC's clip without truth
    if by == "amplitude":
        assert list(got.group) == ["low third", "middle third", "high third", "amplitude not known"]
        assert got.clips[:3].sum() > 0 and all(got.clips[:3] > 0)
        spans = [tuple(float(x) for x in r.split("–")) for r in got.amplitude_px[:3]]  # each third's range, px
        assert spans[0][0] == pytest.approx(min(amp.values()), abs=0.005)
        assert spans[2][1] == pytest.approx(max(amp.values()), abs=0.005)
        assert spans[0][1] <= spans[1][0] and spans[1][1] <= spans[2][0]  # the thirds do not overlap
        assert got.amplitude_px[3] == ""
    with pytest.raises(ValueError, match="by must be"):
        analyses.rho_truth_summary(tmp_path, by="subject")


def test_rho_by_amplitude_needs_the_amplitudes(tmp_path):
    """The stored truth curve peaks at 1 in every clip: thirds of it would be thirds of nothing,
    so the amplitude must come from the dataset, and clips it does not name are said."""
    data = _study(tmp_path)
    with pytest.raises(ValueError, match="clip_amplitudes"):
        analyses.rho_truth_summary(tmp_path, by="amplitude")
    with pytest.raises(ValueError, match="none of its test clips"):
        analyses.rho_truth_summary(tmp_path, by="amplitude", amplitudes={"synthme/sub01/EP01_01": 1.0})
    assert len(_amplitudes(data)) == len(FOLDS) * 4 - 1


def test_paired_delta_against_a_loop_and_scipy(tmp_path):
    _study(tmp_path / "a", seed_base=1)
    _study(tmp_path / "b", seed_base=2)
    m = cstats.paired_folds(tmp_path / "a", tmp_path / "b", "uf1")
    assert len(m) == len(SEEDS) * len(FOLDS)
    got = cstats.paired_delta(tmp_path / "a", tmp_path / "b", "uf1", n_boot=2000, seed=7)
    d = m["diff"].to_numpy()
    rng = np.random.default_rng(7)
    idx = rng.integers(0, len(d), size=(2000, len(d)))
    boots = [np.mean([d[j] for j in row]) for row in idx]  # a plain loop over the same draws
    assert got["mean"] == pytest.approx(np.mean(d))
    assert got["ci_low"] == pytest.approx(np.quantile(boots, 0.025)) and got["ci_high"] == pytest.approx(np.quantile(boots, 0.975))
    # the signed-rank statistic by hand: the smaller of the rank sums of positive and negative differences
    ranks = stats.rankdata(np.abs(d))
    w = min(ranks[d > 0].sum(), ranks[d < 0].sum())
    assert got["wilcoxon_statistic"] == pytest.approx(w)
    assert got["p_value"] == pytest.approx(stats.wilcoxon(d).pvalue)
    assert got["distinguishable"] == (got["ci_low"] > 0 or got["ci_high"] < 0)
    a, b = tmp_path / "a", tmp_path / "b"  # the bootstrap's default seed is 0 (and the seed matters)
    assert cstats.paired_delta(a, b, "uf1") == cstats.paired_delta(a, b, "uf1", seed=0)
    assert cstats.paired_delta(a, b, "uf1")["ci_low"] != cstats.paired_delta(a, b, "uf1", seed=1)["ci_low"]


def test_a_constant_shift_is_distinguishable_and_no_difference_is_not(tmp_path):
    _study(tmp_path / "a", seed_base=3)
    _study(tmp_path / "b", seed_base=3, shift=-0.05)  # the same folds, every metric 0.05 lower
    up = cstats.paired_delta(tmp_path / "a", tmp_path / "b", "accuracy")
    assert up["mean"] == pytest.approx(0.05) and up["ci_low"] == pytest.approx(0.05) and up["distinguishable"]
    same = cstats.paired_delta(tmp_path / "a", tmp_path / "a", "accuracy")
    assert same["mean"] == 0 and same["p_value"] == 1.0 and not same["distinguishable"]
    _study(tmp_path / "c", seed_base=3)
    for p in (tmp_path / "c").glob("seed2"):
        import shutil

        shutil.rmtree(p)
    assert len(cstats.paired_folds(tmp_path / "a", tmp_path / "c")) == len(FOLDS)  # only the pairs both have


def test_with_deltas_adds_the_paired_differences_to_a_table(tmp_path):
    from cmnet.report.paper import with_deltas

    for name, base, shift in (("ref", 4, 0.0), ("low", 4, -0.1), ("other", 5, 0.0)):
        _study(tmp_path / name, seed_base=base, shift=shift)
    runs = {"A": tmp_path / "ref", "B": tmp_path / "low", "C": tmp_path / "other"}
    t = with_deltas(pd.DataFrame({"x": [1, 2, 3]}, index=["A", "B", "C"]), runs, "A")
    assert list(t.columns) == ["x", "Δ acc vs A (folds)", "p (acc)", "Δ UF1 vs A (folds)", "p (UF1)"]
    assert t.loc["A", "Δ acc vs A (folds)"] == "—" and np.isnan(t.loc["A", "p (acc)"])
    assert t.loc["B", "Δ UF1 vs A (folds)"] == "-10.0 [-10.0, -10.0]"  # every pair exactly 0.1 lower
    d = cstats.paired_delta(runs["C"], runs["A"], "accuracy")
    assert t.loc["C", "Δ acc vs A (folds)"] == f"{100 * d['mean']:+.1f} [{100 * d['ci_low']:+.1f}, {100 * d['ci_high']:+.1f}]"
    assert t.loc["C", "p (acc)"] == round(d["p_value"], 3)


def test_the_analyses_name_what_they_return(tmp_path):
    """Keys and counts of each result, zero differences, one empty study, the defaults."""
    _study(tmp_path / "a", seed_base=6)
    _study(tmp_path / "b", seed_base=6, shift=0.0)
    b = tmp_path / "b" / "seed0" / "subA" / "done.json"  # one pair differs, by +0.2 in accuracy
    write_text(b, json.dumps(json.loads(b.read_text()) | {"accuracy": json.loads(b.read_text())["accuracy"] + 0.2}))
    o = analyses.oracle_inflation(tmp_path / "a")
    assert o["select"] == "accuracy" and [ps["folds"] for ps in o["per_seed"]] == [3, 3]
    assert set(o["summary"]) == {f"{kind}_{m}" for kind in ("honest", "oracle", "inflation")
                                 for m in ("accuracy", "f1_paper", "uf1", "uar")}
    r = analyses.rho_truth_summary(tmp_path / "a")
    assert list(r.columns) == ["group", "clips", "clips_without_rho", "rho_mean", "ci_low", "ci_high", "seeds", "per_seed"]
    assert r.seeds.tolist() == [2]
    m = cstats.paired_folds(tmp_path / "b", tmp_path / "a", "accuracy")
    assert list(m.index) == list(range(6)) and list(m.columns) == ["seed", "fold", "a", "b", "diff"]
    d = cstats.paired_delta(tmp_path / "b", tmp_path / "a", "accuracy")
    assert d["metric"] == "accuracy" and d["pairs"] == 6 and d["mean"] == pytest.approx(0.2 / 6)
    # five zero differences are dropped (zero_method "wilcox"): one positive difference left
    assert d["wilcoxon_statistic"] == 0.0 and d["p_value"] == pytest.approx(stats.wilcoxon([0.2]).pvalue)
    assert d == cstats.paired_delta(tmp_path / "b", tmp_path / "a", "accuracy", seed=0)  # the default seed
    same = cstats.paired_delta(tmp_path / "a", tmp_path / "a", "uf1")
    assert (same["wilcoxon_statistic"], same["p_value"]) == (0.0, 1.0)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match=f"^no finished folds under {tmp_path / 'empty'}$"):
        cstats.paired_folds(tmp_path / "a", tmp_path / "empty")
    with pytest.raises(FileNotFoundError, match=f"^no finished folds under {tmp_path / 'empty'}$"):
        cstats.paired_folds(tmp_path / "empty", tmp_path / "a")


def test_order_claims_over_seeds_and_over_fold_pairs(tmp_path):
    from cmnet.report.claims import ORDER_CLAIMS, order_claims
    from cmnet.report.stats import paired_difference

    _study(tmp_path / "better", seed_base=8, shift=0.1)  # the same folds, every metric 0.1 higher
    _study(tmp_path / "worse", seed_base=8)
    summaries = {"cmnet": {"seeds": [{"seed": 0, "pooled_accuracy": 0.60}, {"seed": 2, "pooled_accuracy": 0.70}]},
                 "baseline": {"seeds": [{"seed": 0, "pooled_accuracy": 0.50}, {"seed": 2, "pooled_accuracy": 0.65}]}}
    runs = {"cmnet": tmp_path / "better", "baseline": tmp_path / "worse"}
    t = order_claims(summaries, "pooled_accuracy", runs)
    assert t.claim.tolist() == [ORDER_CLAIMS[0][0]]  # only the claims whose two variants ran
    row = t.iloc[0]
    d = paired_difference(summaries["cmnet"], summaries["baseline"], "pooled_accuracy")
    assert row["Δ pooled_accuracy (pp)"] == round(100 * d["mean"], 2) == 7.5
    assert row["verdict"] == ("holds here" if d["ci_low"] > 0 else "not distinguishable here")
    assert row["Δ per fold, 95% bootstrap (pp)"] == "+10.0 [+10.0, +10.0]" and row["(seed, fold) pairs"] == 6
    assert row["verdict over (seed, fold) pairs"] == "holds here"
    plain = order_claims(summaries, "pooled_accuracy")  # without folders: the seed columns only
    assert "verdict over (seed, fold) pairs" not in plain.columns and plain.iloc[0]["verdict"] == row["verdict"]
