"""cmnet.report.analyses on hand-made studies (no training), each against a plain loop or scipy."""

import io
import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cmnet.report import analyses
from cmnet.statistics import stats as cstats
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
            rows.append({"seed": seed, "subject": fold, "rho": stats.spearmanr(k[i], t[i]).statistic, "class": labels[i],
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
        # the interval: over subjects (each the mean ρ of its clips and seeds), on Fisher's z scale
        z = np.arctanh(r.groupby("subject").rho.mean())
        assert row.subjects == len(z) and row.rho == pytest.approx(np.tanh(z.mean()))
        if len(z) > 1:
            half = stats.t.ppf(0.975, len(z) - 1) * z.std(ddof=1) / np.sqrt(len(z))
            assert row.ci_low == pytest.approx(np.tanh(z.mean() - half))
            assert row.ci_high == pytest.approx(np.tanh(z.mean() + half))
            assert -1 < row.ci_low <= row.rho <= row.ci_high < 1
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


def _one_wrong(study, seeds=(0,), folds=FOLDS):
    """One clip of each (seed, fold) predicted wrong (its checksum recorded again)."""
    for seed in seeds:
        for fold in folds:
            p = study / f"seed{seed}" / fold / "predictions.csv"
            lines = p.read_text().splitlines()
            key, subject, label, *_ = lines[1].split(",")
            lines[1] = ",".join([key, subject, label, next(c for c in CLASSES if c != label), "0.2,0.3,0.5"])
            write_text(p, "\n".join(lines) + "\n")


def test_with_deltas_adds_the_subject_clustered_differences_to_a_table(tmp_path):
    from cmnet.statistics.claims import order_claims
    from cmnet.report.paper import paper_numbers, with_deltas
    from cmnet.statistics.verdicts import clip_table, compare

    for name in ("ref", "low", "other"):
        _study(tmp_path / name, seed_base=4)
    _one_wrong(tmp_path / "low", seeds=(0, 2))
    _one_wrong(tmp_path / "other", folds=("subA",))
    runs = {"A": tmp_path / "ref", "B": tmp_path / "low", "C": tmp_path / "other"}
    t = with_deltas(pd.DataFrame({"x": [1, 2, 3]}, index=["A", "B", "C"]), runs, "A", CLASSES)
    assert list(t.columns) == ["x", "Δ acc: A − row", "p (acc)", "Δ UF1: A − row", "p (UF1)"]
    assert t.loc["A", "Δ acc: A − row"] == "—" and np.isnan(t.loc["A", "p (acc)"])
    assert t.loc["B", "Δ acc: A − row"] == "+25.0 [+25.0, +25.0]"  # one clip in four wrong in every (seed, fold)
    c = compare(clip_table(runs["A"]), clip_table(runs["C"]), CLASSES).set_index("metric")
    assert t.loc["C", "Δ acc: A − row"] == (f"{100 * c.delta['accuracy']:+.1f} [{100 * c.ci_low['accuracy']:+.1f}, "
                                            f"{100 * c.ci_high['accuracy']:+.1f}]").replace("-", "−")
    assert t.loc["C", "p (acc)"] == round(c.p["accuracy"], 3)
    # one interval per comparison: the claims table gives the same for the same two studies
    claims = order_claims({"cmnet": runs["A"], "baseline": runs["C"]}, CLASSES, paper_numbers())
    assert claims["95% interval (pp)"].iloc[0] == t.loc["C", "Δ acc: A − row"].split(" ", 1)[1]


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
    assert list(r.columns) == ["group", "clips", "clips_without_rho", "rho_mean", "rho", "ci_low", "ci_high", "subjects",
                               "seeds", "per_seed"]
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


def test_order_claims_judge_by_subject_with_holm_and_the_papers_numbers(tmp_path):
    from cmnet.statistics.claims import ORDER_CLAIMS, order_claims
    from cmnet.report.paper import paper_numbers
    from cmnet.statistics.verdicts import clip_table, compare

    _study(tmp_path / "better", seed_base=8)  # every prediction right
    _study(tmp_path / "worse", seed_base=8)
    _one_wrong(tmp_path / "worse")
    runs = {"cmnet": tmp_path / "better", "baseline": tmp_path / "worse"}
    t = order_claims(runs, CLASSES, paper_numbers())
    assert t.claim.tolist() == [ORDER_CLAIMS[0][0]] * 2 and t.metric.tolist() == ["accuracy", "uf1"]
    ref = compare(clip_table(runs["cmnet"]), clip_table(runs["baseline"]), CLASSES, paper={"accuracy": 0.1423})
    assert t["Δ (pp)"].tolist() == [round(100 * d, 1) for d in ref.delta]
    assert t["p"].tolist() == [round(x, 3) for x in ref.p]
    assert t.paper.iloc[0] == "Table 3: 78.05 vs 63.82 (CASME II acc, Δ +14.23)"
    assert "Holm's correction over the 2 rows" in t.attrs["family"]


def test_every_number_a_claim_attributes_to_a_paper_is_in_paper_numbers():
    """Each claim row's paper column, parsed back: its two numbers are the (table, variant) rows
    of results/paper_numbers.csv the claim names, for the dataset and metric it names."""
    import re

    from cmnet.statistics.claims import ORDER_CLAIMS, PAPER_METRIC, _evidence
    from cmnet.report.paper import paper_numbers

    paper = paper_numbers()
    for claim, _, _, brow, wrow in ORDER_CLAIMS:
        if brow is None:
            continue
        for metric in ("accuracy", "uf1"):
            text, delta = _evidence(paper, brow, wrow, "casme2", metric)
            a, b = map(float, re.match(r"^[^:]+: ([\d.]+) vs ([\d.]+) \(CASME II", text).groups())
            for value, (table, method, variant) in ((a, brow), (b, wrow)):
                rows = paper[(paper.table == table) & (paper.method == method) & (paper.dataset == "casme2")
                             & (paper.metric == PAPER_METRIC[metric])
                             & (paper.variant.isna() if variant is None else paper.variant == variant)]
                assert rows.value_percent.tolist() == [value], (claim, table, variant)
            assert delta is None or delta == pytest.approx((a - b) / 100)
    # the rows the first edition got wrong (issue 23): L_C is 63.82, the ablation rows carry their numbers
    t3 = {r[2]: _evidence(paper, r[3], r[4], "casme2", "accuracy")[0] for r in ORDER_CLAIMS
          if r[3] and r[3][0] == "Table 3"}
    assert t3["baseline"].startswith("Table 3: 78.05 vs 63.82") and "70.24" not in "".join(t3.values())
    assert t3["cmnet_no_id"].startswith("Table 3: 78.05 vs 65.45")
    assert t3["cmnet_no_wrst"].startswith("Table 3: 78.05 vs 73.58")


def test_the_claims_table_is_rebuilt_from_results_alone(tmp_path):
    """results/<study>/ holds every test clip's prediction and intensity record: the claims
    table and ρ recomputed from it equal those from the fold folders (runs/ deleted)."""
    import shutil

    from cmnet.config import Config
    from cmnet.statistics.claims import order_claims
    from cmnet.report.paper import paper_numbers
    from cmnet.report.tables import intensity_agreement, write_results

    runs, res = {}, {}
    for name, base in (("cmnet", 3), ("baseline", 4)):
        _study(tmp_path / "runs" / name, seed_base=base)
        cfg = Config.from_flat({"name": name, "runs_dir": str(tmp_path / "runs"), "results_dir": str(tmp_path / "results")})
        write_results(cfg, CLASSES)
        runs[name], res[name] = tmp_path / "runs" / name, tmp_path / "results" / name
    want = order_claims(runs, CLASSES, paper_numbers())
    rho = intensity_agreement(runs["cmnet"])
    shutil.rmtree(tmp_path / "runs")
    pd.testing.assert_frame_equal(order_claims(res, CLASSES, paper_numbers()), want)
    pd.testing.assert_frame_equal(intensity_agreement(res["cmnet"]), rho)


def test_intensity_controls_against_a_plain_loop(tmp_path):
    from scipy.stats import spearmanr

    from cmnet.statistics.controls import controls_summary, intensity_controls
    from cmnet.runs.layout import read_intensity

    _study(tmp_path / "s", seed_base=9)
    c = intensity_controls(tmp_path / "s")
    rec = read_intensity(tmp_path / "s")
    keys, seeds = rec["keys"].astype(str), rec["seed"]
    subj = np.array([k.split("/")[0] for k in keys])  # this fixture's keys: <fold>/c<i>, the fold is the subject
    for i in (1, 5, 9):
        row = c[(c.key == keys[i]) & (c.seed == seeds[i])].iloc[0]
        train = [j for j in range(len(keys)) if seeds[j] == seeds[i] and subj[j] != subj[i]
                 and np.isfinite(rec["truth"][j]).all()]
        bump = np.mean([rec["truth"][j] for j in train], axis=0)
        t = rec["truth"][i]
        if np.isfinite(t).all():
            assert row.rho_bump == pytest.approx(spearmanr(bump, t).statistic)
            assert row.rho_k == pytest.approx(spearmanr(rec["k"][i], t).statistic)
            assert row.rho_prototype == pytest.approx(spearmanr(rec["q_mean"][i], t).statistic)
            assert row.gain == pytest.approx(row.rho_k - row.rho_bump)
        guess = np.median([rec["apex"][j] for j in train])
        assert row.apex_error_k == abs(np.argmax(rec["k"][i]) - rec["apex"][i])
        assert row.apex_error_guess == abs(guess - rec["apex"][i])
    assert np.isnan(c[c.key == keys[0]].rho_k).all()  # constant k: no ρ
    s = controls_summary({"v": c}).iloc[0]
    assert s["ρ k"] == round(c.rho_k.mean(), 3) and s.subjects == len(FOLDS)
    per_subject = c.dropna(subset=["gain"]).groupby("subject").gain.mean()
    assert s["gain over the bump"].startswith(f"{per_subject.mean():+.3f} [".replace("-", "−"))


def test_the_repairs_table_judges_each_repair_both_ways(tmp_path):
    from cmnet.statistics.claims import repairs_table
    from cmnet.statistics.verdicts import clip_table, compare

    names = ("cmnet_all_repairs", "cmnet_without_clean_bn", "cmnet_printed", "cmnet_printed_with_clean_bn")
    for n in names:
        _study(tmp_path / n, seed_base=2)
    _one_wrong(tmp_path / "cmnet_without_clean_bn")
    _one_wrong(tmp_path / "cmnet_printed")
    t = repairs_table({n: tmp_path / n for n in names}, CLASSES)
    assert t.claim.unique().tolist() == ["clean bn: removing it from all five repairs costs",
                                         "clean bn: adding it alone to the printed gains"]
    ref = compare(clip_table(tmp_path / "cmnet_all_repairs"), clip_table(tmp_path / "cmnet_without_clean_bn"), CLASSES)
    assert t["Δ (pp)"].iloc[0] == round(100 * ref.delta.iloc[0], 1) and "paper" not in t.columns
    assert "Holm's correction over the 4 rows" in t.attrs["family"]
