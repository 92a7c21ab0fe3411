"""cmnet.report.tables on a hand-made study folder (no training): every reader and summary against
a plain loop over the same files, or scipy.

The folder: seeds 0 and 2 (not 0 and 1: a reader that numbers seeds by position would
differ), folds subA and subB in each, plus one unfinished fold (no done.json) whose
artifacts every reader must ignore.
"""

import io
import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cmnet.report import tables
from cmnet.statistics import stats as cstats
from cmnet.runs import layout
from cmnet.io import write_bytes, write_text
from cmnet.metrics import all_metrics

CLASSES = ["surprise", "negative", "positive"]  # not in sorted order: tables keep this order
SEEDS = (0, 2)
FOLDS = ("subA", "subB")
N_FRAMES = 6


def _fold_data(seed: int, fold: str):
    """Deterministic, distinct contents for each (seed, fold)."""
    rng = np.random.default_rng(100 * seed + (fold == "subB"))
    n = 3 if fold == "subA" else 5
    labels = rng.integers(0, 3, n)
    preds = np.where(rng.random(n) < 0.5, labels, (labels + 1) % 3)
    k = rng.random((n, N_FRAMES))
    truth = rng.random((n, N_FRAMES))
    if fold == "subA":
        k[0] = 0.3  # constant k: ρ undefined
        truth[1] = np.nan  # no ground truth (a real dataset)
    else:
        truth[2] = 0.5  # constant truth: ρ(k, truth) undefined
    epochs = [{"epoch": e, "train_loss": 2.0 / e + seed + (fold == "subB"), "train_ce": 1.0 / e + 0.1 * seed,
               "train_acc": 0.2 * e + 0.01 * seed + 0.02 * (fold == "subB"),
               "train_id": 0.0 if (fold, e) == ("subB", 3) else 0.5 / e + seed, "train_wrst": 0.0} for e in (1, 2, 3)]
    diag = {"cos_own": 0.1 * seed + 0.5, "cos_other": 0.3 + (fold == "subB"), "clips": n}
    return {"labels": labels, "preds": preds, "k": k, "truth": truth, "q_mean": rng.random((n, N_FRAMES)),
            "q": rng.random((n, N_FRAMES)), "q_std": rng.random((n, N_FRAMES)), "apex": rng.integers(0, N_FRAMES, n),
            "epochs": epochs, "diag": diag}


def _write_fold(d, seed, fold, data, finished=True):
    d.mkdir(parents=True)
    keys = np.array([f"{fold}/s{seed}c{i}" for i in range(len(data["labels"]))])
    rows = ["key,subject,label,pred," + ",".join(f"p_{c}" for c in CLASSES)]
    for key, y, p in zip(keys, data["labels"], data["preds"]):
        rows.append(f"{key},{fold},{CLASSES[y]},{CLASSES[p]},0.2,0.3,0.5")
    rows += data.get("extra_rows", [])
    write_text(d / "predictions.csv", "\n".join(rows) + "\n")
    buf = io.BytesIO()
    np.savez(buf, keys=keys, k=data["k"], q=data["q"], q_mean=data["q_mean"], q_std=data["q_std"],
             truth=data["truth"], apex=data["apex"], eta=np.zeros(1))
    write_bytes(d / "intensity.npz", buf.getvalue())
    write_text(d / "metrics.jsonl", "".join(json.dumps(r) + "\n" for r in data["epochs"]))
    write_text(d / "diagnostics.json", json.dumps(data["diag"]))
    if finished:
        m = all_metrics([CLASSES[i] for i in data["labels"]], [CLASSES[i] for i in data["preds"]], labels=CLASSES)
        write_text(d / "done.json", json.dumps({"fold": fold, "n_test": len(data["labels"]), **m}))


@pytest.fixture
def study(tmp_path):
    data = {}
    for seed in SEEDS:
        for fold in FOLDS:
            data[seed, fold] = _fold_data(seed, fold)
            _write_fold(tmp_path / f"seed{seed}" / fold, seed, fold, data[seed, fold])
    # an unfinished fold: its artifacts exist but must not be read
    junk = _fold_data(7, "subC")
    junk["epochs"] = [{"epoch": 1, "train_loss": 1e6, "train_ce": 1e6, "train_acc": -5.0}]
    _write_fold(tmp_path / "seed0" / "subC", 0, "subC", junk, finished=False)
    return tmp_path, data


def test_read_folds_and_predictions_skip_the_unfinished_fold(study):
    root, data = study
    folds = tables.read_folds(root)
    assert sorted(zip(folds.seed, folds.fold)) == [(s, f) for s in SEEDS for f in FOLDS]
    preds = layout.read_predictions(root)
    assert len(preds) == sum(len(v["labels"]) for v in data.values())
    assert set(preds.seed) == set(SEEDS) and "subC" not in set(preds.subject)


def test_summarize_against_a_plain_loop(study):
    root, data = study
    s = tables.summarize(root, CLASSES)
    assert s["n_seeds"] == 2 and [r["seed"] for r in s["seeds"]] == list(SEEDS)
    for row in s["seeds"]:
        seed = row["seed"]
        y = np.concatenate([data[seed, f]["labels"] for f in FOLDS])
        p = np.concatenate([data[seed, f]["preds"] for f in FOLDS])
        assert row["clips"] == len(y) and row["folds"] == 2
        assert row["pooled_accuracy"] == pytest.approx(np.mean(y == p))
        fold_acc = [np.mean(data[seed, f]["labels"] == data[seed, f]["preds"]) for f in FOLDS]
        assert row["fold_mean_accuracy"] == pytest.approx(np.mean(fold_acc))
    acc = [r["pooled_accuracy"] for r in s["seeds"]]
    assert s["summary"]["pooled_accuracy"]["mean"] == pytest.approx(np.mean(acc))
    cm = np.zeros((3, 3), int)
    for v in data.values():
        for a, b in zip(v["labels"], v["preds"]):
            cm[a, b] += 1
    assert s["confusion"] == cm.tolist()
    table = tables.summary_table(s)
    assert list(table.metric) == list(tables.METRICS)
    m = s["summary"]["pooled_accuracy"]
    assert table.loc[0, "pooled over folds"] == f"{m['mean']:.4f} ± {m['std']:.4f}"
    ct = tables.confusion_table(s)
    assert list(ct.index) == [f"true {c}" for c in CLASSES] and ct.to_numpy().tolist() == cm.tolist()


def test_summarize_of_an_empty_folder_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"^no finished folds under {tmp_path}$"):
        tables.summarize(tmp_path, CLASSES)


def test_read_intensity_concatenates_in_seed_then_fold_order(study):
    root, data = study
    rec = layout.read_intensity(root)
    order = [(s, f) for s in SEEDS for f in FOLDS]
    for key in ("k", "q", "q_mean", "q_std", "truth", "apex"):
        np.testing.assert_array_equal(rec[key], np.concatenate([data[o][key] for o in order]))
    assert rec["seed"].tolist() == [s for s, f in order for _ in data[s, f]["labels"]]
    assert rec["keys"][0] == "subA/s0c0" and not any(str(k).startswith("subC") for k in rec["keys"])


def test_intensity_agreement_equals_scipy_per_clip(study):
    """ρ per clip as scipy computes it; NaN where k or the truth is constant or the truth is
    missing, decided before scipy is asked (no ConstantInputWarning, no NaN arithmetic)."""
    import warnings

    root, _ = study
    rec = layout.read_intensity(root)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = tables.intensity_agreement(root)
    assert len(got) == len(rec["keys"])
    for i in range(len(rec["keys"])):
        k, t, qm = rec["k"][i], rec["truth"][i], rec["q_mean"][i]
        row = got.iloc[i]
        assert row["clip"] == rec["keys"][i] and row["seed"] == rec["seed"][i]
        assert row["k_range"] == pytest.approx(k.max() - k.min())
        if k.max() == k.min():
            assert np.isnan(row["rho_prototype"]) and np.isnan(row["rho_truth"])
            continue
        assert row["rho_prototype"] == pytest.approx(stats.spearmanr(k, qm)[0])
        if np.isnan(t).any() or t.max() == t.min():
            assert np.isnan(row["rho_truth"])
        else:
            assert row["rho_truth"] == pytest.approx(stats.spearmanr(k, t)[0])
    # the special cases are present: constant k, missing truth, constant truth
    assert got.rho_prototype.isna().sum() == 2  # subA's first clip, in each seed
    assert got.rho_truth.isna().sum() == 6


def test_read_intensity_without_files_names_the_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match=rf"^no intensity.npz under {tmp_path} \(a model without"):
        layout.read_intensity(tmp_path)


def test_read_metrics_and_learning_summary_against_a_loop(study):
    root, data = study
    m = tables.read_metrics(root)
    assert len(m) == 3 * len(SEEDS) * len(FOLDS) and "subC" not in set(m.fold)
    assert sorted(set(zip(m.seed, m.fold))) == [(s, f) for s in SEEDS for f in FOLDS]
    got = tables.learning_summary(root)
    first = [data[o]["epochs"][0] for o in data]
    last = [data[o]["epochs"][-1] for o in data]
    want = {"epochs": 3, "folds×seeds": 4,
            "train_loss first": np.mean([r["train_loss"] for r in first]),
            "train_loss last": np.mean([r["train_loss"] for r in last]),
            "train_ce first": np.mean([r["train_ce"] for r in first]),
            "train_ce last": np.mean([r["train_ce"] for r in last]),
            "train_acc last": np.mean([r["train_acc"] for r in last]),
            "train_acc last, lowest fold": min(r["train_acc"] for r in last)}
    assert got.keys() == want.keys()
    for key, v in want.items():
        assert got[key] == pytest.approx(v), key


def test_loss_terms_against_a_loop(study):
    """Each term's first- and last-epoch means and its share of epochs above zero, as a loop over
    the fold data counts them; a term absent from the records (skipped, weight 0) has no row."""
    from cmnet.report.narrative import terms_sentence

    root, data = study
    got = {r["term"]: r for r in tables.loss_terms(root)}
    assert list(got) == ["L_C", "L_ID", "L_Wrst"]  # no train_spearman recorded
    for key, term in (("train_ce", "L_C"), ("train_id", "L_ID"), ("train_wrst", "L_Wrst")):
        recs = [r for o in data for r in data[o]["epochs"]]
        assert got[term]["first epoch"] == pytest.approx(np.mean([data[o]["epochs"][0][key] for o in data]))
        assert got[term]["last epoch"] == pytest.approx(np.mean([data[o]["epochs"][-1][key] for o in data]))
        assert got[term]["epochs above zero"] == pytest.approx(sum(r[key] > 0 for r in recs) / len(recs))
    assert got["L_ID"]["epochs above zero"] == pytest.approx(10 / 12) and got["L_Wrst"]["epochs above zero"] == 0
    t = pd.DataFrame([{"row": "X", **r} for r in got.values()] + [{"row": "Y", **got["L_Wrst"]}])
    said = terms_sentence(t, 1.946)
    assert said.startswith("**L_Wrst was exactly zero in every epoch of every fold** of X and Y: its hinge")
    assert "1.946" in said and "these rows trained as without it" in said and "L_ID" not in said
    alive = terms_sentence(t[t.term != "L_Wrst"], 1.946)
    assert alive.startswith("Every loss term was above zero")
    with pytest.raises(FileNotFoundError, match="no finished folds"):
        tables.loss_terms(root / "nothing")


def test_learning_summary_without_train_ce_and_of_an_empty_folder(study, tmp_path_factory):
    root, data = study
    for seed in SEEDS:
        for fold in FOLDS:
            p = root / f"seed{seed}" / fold / "metrics.jsonl"
            rows = [{k: v for k, v in json.loads(line).items() if k != "train_ce"} for line in p.read_text().splitlines()]
            write_text(p, "".join(json.dumps(r) + "\n" for r in rows))
    got = tables.learning_summary(root)
    assert "train_ce first" not in got and "train_loss first" in got
    empty = tmp_path_factory.mktemp("empty")
    with pytest.raises(FileNotFoundError, match=f"^no finished folds under {empty}$"):
        tables.learning_summary(empty)


def test_read_diagnostics_skips_the_unfinished_fold(study):
    root, data = study
    d = tables.read_diagnostics(root)
    assert sorted(zip(d.seed, d.fold)) == [(s, f) for s in SEEDS for f in FOLDS]
    for _, row in d.iterrows():
        assert row["cos_own"] == pytest.approx(data[row["seed"], row["fold"]]["diag"]["cos_own"])
        assert row["cos_other"] == pytest.approx(data[row["seed"], row["fold"]]["diag"]["cos_other"])


def test_paired_difference_pairs_by_seed_and_equals_scipy():
    def summary(vals: dict):
        return {"seeds": [{"seed": s, "pooled_accuracy": v, "fold_mean_uf1": v / 2} for s, v in vals.items()]}

    a = summary({0: 0.50, 1: 0.42, 2: 0.61, 5: 0.9})
    b = summary({2: 0.40, 0: 0.45, 1: 0.44, 3: 0.1})  # other order; seeds 3 and 5 unpaired
    assert cstats.per_seed_values(a) == {0: 0.50, 1: 0.42, 2: 0.61, 5: 0.9}
    assert cstats.per_seed_values(a, "fold_mean_uf1")[2] == pytest.approx(0.305)
    d = cstats.paired_difference(a, b)
    diffs = [0.50 - 0.45, 0.42 - 0.44, 0.61 - 0.40]
    lo, hi = stats.t.interval(0.95, 2, loc=np.mean(diffs), scale=stats.sem(diffs))
    assert d["seeds"] == [0, 1, 2]
    assert d["mean"] == pytest.approx(np.mean(diffs)) and d["std"] == pytest.approx(np.std(diffs, ddof=1))
    assert (d["ci_low"], d["ci_high"]) == (pytest.approx(lo), pytest.approx(hi))
    d2 = cstats.paired_difference(a, b, "fold_mean_uf1")
    assert d2["mean"] == pytest.approx(np.mean(diffs) / 2)
    with pytest.raises(ValueError, match="^the two studies share no seed$"):
        cstats.paired_difference(summary({0: 0.1}), summary({1: 0.2}))


def test_seed_interval_at_another_level():
    vals = [0.3, 0.5, 0.45, 0.6]
    s = cstats.seed_interval(vals, level=0.8)
    lo, hi = stats.t.interval(0.8, 3, loc=np.mean(vals), scale=stats.sem(vals))
    assert (s["ci_low"], s["ci_high"]) == (pytest.approx(lo), pytest.approx(hi))
    for bad in ([], [[0.1, 0.2]], [0.1, np.inf]):
        with pytest.raises(ValueError):
            cstats.seed_interval(bad)


def test_summary_table_of_one_seed_has_no_spread(study):
    root, _ = study
    import shutil

    shutil.rmtree(root / "seed2")
    s = tables.summarize(root, CLASSES)
    assert s["n_seeds"] == 1
    table = tables.summary_table(s)
    assert "±" not in "".join(table["pooled over folds"])
    assert isinstance(table, pd.DataFrame)


def test_read_predictions_columns_and_index(study):
    root, data = study
    preds = layout.read_predictions(root)
    assert list(preds.columns) == ["seed", "key", "subject", "label", "pred"] + [f"p_{c}" for c in CLASSES]
    assert preds.index.tolist() == list(range(len(preds)))
    assert layout.read_predictions(root / "nothing").empty


def test_tables_name_their_rows_and_columns(study):
    root, _ = study
    s = tables.summarize(root, CLASSES)
    assert list(tables.summary_table(s).columns) == ["metric", "mean over folds", "pooled over folds"]
    ct = tables.confusion_table(s)
    assert list(ct.columns) == [f"pred {c}" for c in CLASSES] and list(ct.index) == [f"true {c}" for c in CLASSES]


def test_summarize_scores_against_the_study_classes(tmp_path):
    """A prediction outside the study's classes counts as an error and adds no class to the
    averages (cmnet.metrics' rule with labels = the classes); a class that never occurs is
    a zero row and column of the confusion matrix, in the classes' order."""
    data = _fold_data(0, "subA")
    data["labels"], data["preds"] = np.array([1, 1, 2]), np.array([1, 2, 2])
    data["extra_rows"] = ["subA/x,subA,negative,contempt,0.2,0.3,0.5"]
    _write_fold(tmp_path / "seed0" / "subA", 0, "subA", data)
    s = tables.summarize(tmp_path, CLASSES)
    y = ["negative", "negative", "positive", "negative"]
    p = ["negative", "positive", "positive", "contempt"]
    want = all_metrics(y, p, labels=CLASSES)
    assert want["uf1"] != pytest.approx(all_metrics(y, p)["uf1"])  # the labels matter here
    for m in tables.METRICS:
        assert s["seeds"][0][f"pooled_{m}"] == pytest.approx(want[m]), m
    assert s["confusion"] == [[0, 0, 0], [0, 1, 1], [0, 0, 1]]


def test_seed_interval_of_one_value_and_bad_input():
    assert cstats.seed_interval([0.4]) == {"mean": 0.4, "std": 0.0, "ci_low": 0.4, "ci_high": 0.4, "n": 1}
    with pytest.raises(ValueError, match=r"^seed_interval needs a non-empty vector of finite values, got \[\]$"):
        cstats.seed_interval([])
