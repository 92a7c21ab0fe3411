"""The power calculation (cmnet.statistics.power), the findings in words (cmnet.report.findings),
chapter 10's tables (cmnet.report.beyond) and the introduction's pages (cmnet.book_pages),
against reference computations."""

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cmnet.report.paper import paper_numbers
from cmnet.statistics.verdicts import EXCLUDED, HOLDS, NOT_DISTINGUISHABLE, REVERSED, compare, folds_clip_table

ROOT = Path(__file__).resolve().parents[1]
CLASSES = ["a", "b", "c"]


def _clips(rng, subjects=6, clips=5, seeds=(0, 1), skill=0.5) -> pd.DataFrame:
    rows = []
    for s in range(subjects):
        for c in range(clips):
            label = CLASSES[c % 3]
            for r in seeds:
                pred = label if rng.random() < skill else CLASSES[(CLASSES.index(label) + 1) % 3]
                rows.append({"seed": r, "key": f"sub{s}/c{c}", "subject": f"sub{s}", "label": label, "pred": pred})
    return pd.DataFrame(rows)


def _folds(clips: pd.DataFrame) -> pd.DataFrame:
    g = clips.assign(right=clips.label == clips.pred).groupby(["seed", "subject"]).right
    return g.agg(n_test="size", accuracy="mean").reset_index().rename(columns={"subject": "fold"})


def test_a_folds_table_gives_the_clip_tables_accuracy_verdict(tmp_path):
    """LOSO folds tables alone (the first edition kept no per-clip predictions) give the same
    accuracy Δ, standard error and p as the real clips: only a subject's counts enter."""
    rng = np.random.default_rng(3)
    a, b = _clips(rng, skill=0.7), _clips(rng, skill=0.4)
    for name, t in (("a", a), ("b", b)):
        (tmp_path / name).mkdir()
        _folds(t).to_csv(tmp_path / name / "folds.csv", index=False)
    want = compare(a, b, CLASSES, ("accuracy",)).iloc[0]
    got = compare(folds_clip_table(tmp_path / "a", CLASSES), folds_clip_table(tmp_path / "b", CLASSES), CLASSES,
                  ("accuracy",)).iloc[0]
    assert got.delta == pytest.approx(want.delta) and got.se == pytest.approx(want.se)
    assert got.p == pytest.approx(want.p) and got.subjects == want.subjects == 6


def test_clip_passes_and_the_cost_ratio():
    from cmnet.statistics.power import clip_passes

    assert clip_passes("loso", 48, 10) == 48 * 47 * 10 == 22560
    assert clip_passes("kfold", 48, 10, 3) == 2 * 48 * 10 == 960
    with pytest.raises(ValueError):
        clip_passes("holdout", 8, 10)


def test_the_committed_first_edition_calculation():
    """results/power/first_edition.json: every file it names still has its checksum while the
    first edition is committed; smaller with more subjects and more seeds; the CPU design ≤ 7 pp."""
    from cmnet.statistics.power import mde_at, power_table, read_first_edition

    doc = read_first_edition(ROOT / "results" / "power" / "first_edition.json")
    for f in doc["computed_from"]:
        p = ROOT / f["file"]
        if p.is_file() and doc["design"]["subjects"] == 8 and len(pd.read_csv(p.parent / "folds.csv")) == 24:
            assert hashlib.sha256(p.read_bytes()).hexdigest() == f["sha256"], p
    t = pd.DataFrame(doc["mde"]).pivot(index="subjects", columns="seeds", values="smallest detectable (pp)")
    assert (np.diff(t.to_numpy(), axis=0) < 0).all() and (np.diff(t.to_numpy(), axis=1) < 0).all()
    assert mde_at(doc, 48, 2) <= 0.07 and np.isnan(mde_at(doc, 5, 2))
    w = power_table(doc, (48, 2))
    assert w.loc[w.subjects == 48, "chosen"].item() == "◀ 2 seeds" and (w.chosen != "").sum() == 1
    assert w.loc[w.subjects == 48, "2 seeds (pp)"].item() == pytest.approx(100 * mde_at(doc, 48, 2))


def test_first_edition_names_what_it_read(tmp_path):
    from cmnet.statistics.calibration import edition_design
    from cmnet.statistics.power import first_edition

    rng = np.random.default_rng(0)
    for v in ("x", "y"):
        d = tmp_path / f"ed-{v}"
        d.mkdir()
        _folds(pd.concat([_clips(rng, seeds=(r,)) for r in (0, 1)])).to_csv(d / "folds.csv", index=False)
        (d / "summary.json").write_text(json.dumps({"classes": CLASSES}))
    doc = first_edition(tmp_path, "ed", variants=("x", "y"), subjects=(6,), seeds=(2,), reps=20, n_boot=200)
    design, comp = edition_design({v: str(tmp_path / f"ed-{v}") for v in ("x", "y")})
    assert doc["components"] == comp and doc["design"]["subjects"] == design.subjects == 6
    files = {Path(f["file"]).name for f in doc["computed_from"]}
    assert files == {"folds.csv", "summary.json"} and len(doc["computed_from"]) == 4
    f0 = doc["computed_from"][0]
    assert hashlib.sha256(Path(f0["file"]).read_bytes()).hexdigest() == f0["sha256"]


def test_table3_differences_are_the_papers():
    from cmnet.statistics.power import table3_differences

    paper = paper_numbers(ROOT / "results" / "paper_numbers.csv")
    t3 = paper[(paper.table == "Table 3") & (paper.dataset == "casme2") & (paper.metric == "accuracy")]
    v = dict(zip(t3.variant, t3.value_percent))
    t = table3_differences(paper, mde=0.07)
    assert t["paper (pp)"].tolist() == pytest.approx([v["L_C + L_ID + L_Wrst"] - v[b] for b in
                                                      ("L_C", "L_C + L_Wrst", "L_C + L_ID")])
    assert t["at least the smallest detectable"].tolist() == ["yes" if d >= 7 else "no" for d in t["paper (pp)"]]


def _claims(words, mdes):
    return pd.DataFrame({"claim": [f"c{i}" for i in range(len(words))], "metric": "accuracy",
                         "Δ (pp)": 1.0, "95% interval (pp)": "[-1.0, +3.0]", "smallest detectable (pp)": mdes,
                         "seeds": 2, "p (Holm)": 0.5, "verdict": words})


def test_claims_power_and_the_counts():
    from cmnet.report.findings import verdict_counts
    from cmnet.statistics.power import claims_power

    t = _claims([HOLDS, f"{NOT_DISTINGUISHABLE} — smallest detectable difference 7.0 pp",
                 f"{NOT_DISTINGUISHABLE} — smallest detectable difference 9.5 pp"], [5.0, 7.0, 9.5])
    v = claims_power(t)
    assert v.verdict.tolist() == [HOLDS, NOT_DISTINGUISHABLE, NOT_DISTINGUISHABLE]
    assert v["smallest detectable (pp)"].tolist() == [5.0, 7.0, 9.5]
    assert v["p (Holm)"].tolist() == [0.5] * 3 and list(v.columns).index("p (Holm)") == list(v.columns).index("verdict") - 1
    assert verdict_counts(t) == ("of the paper's 3 orderings checked in accuracy, 1 holds here (c0), 2 cannot be told "
                                 "from noise at their smallest detectable differences (7.0–9.5 pp)")
    two = _claims([HOLDS, HOLDS, REVERSED, EXCLUDED, EXCLUDED, f"{NOT_DISTINGUISHABLE} — x"], [1, 2, 3, 4, 5, 6.0])
    assert verdict_counts(two) == ("of the paper's 6 orderings checked in accuracy, 2 hold here (c0; c1), 1 is reversed, "
                                   "2 have the paper's effect excluded, 1 cannot be told from noise at its smallest "
                                   "detectable difference (6.0 pp)")
    idle = _claims([EXCLUDED, "not tested here: L_Wrst was inactive (L_Wrst above zero in 0.0 % of epochs)",
                    f"{NOT_DISTINGUISHABLE} — x"], [1, 2, 3.0])  # every claim counted once (scope.mark_inactive)
    assert verdict_counts(idle) == ("of the paper's 3 orderings checked in accuracy, 0 hold here, 1 has the paper's "
                                    "effect excluded, 1 is not tested (the loss term it adds was inactive), 1 cannot "
                                    "be told from noise at its smallest detectable difference (3.0 pp)")


def test_which_repairs_carry_the_gap(tmp_path):
    from cmnet.report.findings import carried_by, missing_repairs, repair_variants, repairs_sentence

    rows = [("onset_diff: removing it from all five repairs costs", HOLDS), ("onset_diff: adding it alone to the printed gains",
            HOLDS), ("clean_bn: removing it from all five repairs costs", f"{NOT_DISTINGUISHABLE} — x"),
            ("clean_bn: adding it alone to the printed gains", "reversed here")]
    t = pd.DataFrame({"claim": [r[0] for r in rows], "metric": "accuracy", "verdict": [r[1] for r in rows],
                      "smallest detectable (pp)": [8.0, 9.0, 10.0, 11.5]})
    assert carried_by(t) == {"removing": ["onset diff"], "adding": ["onset diff"], "reversed": ["clean bn"],
                             "neither": []}
    s = repairs_sentence(t, {"delta": 0.2, "ci_low": 0.1, "ci_high": 0.3, "verdict": HOLDS})
    assert s.startswith("On the held-out SynthME the configuration with all five repairs is +20.0 [+10.0, +30.0] pp")
    assert "removing onset diff from all five repairs costs distinguishably" in s and "8.0–11.5 pp" in s
    d = tmp_path / "cpu_repairs-cmnet_all_repairs"
    d.mkdir()
    (d / "summary.json").write_text("{}")
    (d / "predictions.csv").write_text("seed,key,subject,label,pred\n")
    assert missing_repairs(tmp_path) == repair_variants()[1:]


def test_chapter_tens_cells_and_sentences():
    from cmnet.report.beyond import above_below, last_epoch_share, seed_cell

    assert seed_cell({"mean": 0.4125, "ci_low": 0.3, "ci_high": 0.5, "n": 3}) == "41.2 [30.0, 50.0] %"
    assert seed_cell({"mean": -0.004, "ci_low": -0.02, "ci_high": 0.01, "n": 2}, points=True) == "−0.4 [−2.0, +1.0]"
    assert seed_cell({"mean": 0.25, "ci_low": 0.25, "ci_high": 0.25, "n": 1}) == "25.0 % (one seed)"
    assert seed_cell({"mean": 0.14, "n": 1}, percent=False) == "0.14 (one seed)"
    assert last_epoch_share(pd.DataFrame({"best_epoch": [2, 1, 2, 2], "epochs": [2, 2, 2, 2]})) == 0.75
    t = pd.DataFrame({"claim": ["R above A", "R above B", "R above C"], "metric": "uf1",
                      "verdict": [HOLDS, "reversed here", NOT_DISTINGUISHABLE]})
    assert above_below(t) == ("In UF1, repaired CMNet is above 1 of the 3 rows (A), below 1 (B); the others cannot "
                              "be told from it here (Holm over the table).")


def test_the_departures_table_reads_the_parameters(monkeypatch):
    from cmnet.book_pages import departures_table

    monkeypatch.chdir(ROOT)
    rows = {r[0]: r[1:] for r in departures_table("cpu")}
    assert rows["frame size"] == ["224", "32", "224"] and rows["lr"][::2] == ["0.001", "0.001"]
    assert rows["lr"][1] == "0.02 (each arm tuned on held-out data: MMNet's AdamW 0.0032)"  # tuned: true
    assert rows["protocol"] == ["LOSO", "subject-grouped 2-fold", "subject-grouped 2-fold"]
    assert rows["subjects × clips"][1] == "48 × 10" and rows["epochs"][1:] == ["28", "100"]


def test_the_repairs_status_reads_what_is_committed(tmp_path):
    """Some repairs studies committed: the table has the pairs whose two studies are there, the
    sentence gives the gap (as compare computes it) and names the missing studies and the command."""
    from cmnet.statistics.claims import repairs_table
    from cmnet.report.findings import repairs_status

    rng = np.random.default_rng(5)
    skill = {"cmnet_all_repairs": 0.9, "cmnet_printed": 0.3, "cmnet_without_onset_diff": 0.35, "cmnet_printed_with_onset_diff": 0.85}
    base = _clips(rng, subjects=8, seeds=(0,))
    for v, p in skill.items():
        d = tmp_path / f"cpu_repairs-{v}"
        d.mkdir()
        t = base.copy()
        wrong = rng.random(len(t)) > p
        t.loc[wrong, "pred"] = [CLASSES[(CLASSES.index(x) + 1) % 3] for x in t.label[wrong]]
        t.to_csv(d / "predictions.csv", index=False)
        (d / "summary.json").write_text("{}")
    table, text = repairs_status(tmp_path, CLASSES)
    runs = {v: tmp_path / f"cpu_repairs-{v}" for v in skill}
    pd.testing.assert_frame_equal(table, repairs_table(runs, CLASSES))
    gap = compare(pd.read_csv(runs["cmnet_all_repairs"] / "predictions.csv"), pd.read_csv(runs["cmnet_printed"] / "predictions.csv"),
                  CLASSES, ("accuracy",)).iloc[0]
    assert text.startswith(f"On the held-out SynthME the configuration with all five repairs is +{100 * gap.delta:.1f} [")
    assert "removing onset diff from all five repairs costs distinguishably" in text
    assert "4 of the 12 held-out repairs studies are committed so far; missing: cmnet_without_augmented_negatives" in text
    assert "`make repairs`" in text


def test_the_controls_sentence_groups_the_verdicts():
    from cmnet.report.beyond import controls_sentence

    c = pd.DataFrame({"variant": ["A", "B", "C"], "k follows the intensity": ["holds here: x", "not d", "holds here: x"]})
    assert controls_sentence(c) == "holds here: x — A, C; not d — B."


def test_claims_power_puts_the_papers_difference_beside_ours():
    from cmnet.statistics.power import claims_power

    t = _claims([HOLDS, HOLDS], [5.0, 6.0]).assign(**{"paper Δ (pp)": [7.81, np.nan]})
    v = claims_power(t)
    assert v.columns[:3].tolist() == ["claim", "paper Δ (pp)", "Δ (pp), better − worse, same clips"]
    assert v["paper Δ (pp)"].iloc[0] == 7.81
    assert "paper Δ (pp)" not in claims_power(_claims([HOLDS], [5.0]))


def test_near_chance_rows_get_their_reason(tmp_path):
    import json

    from cmnet.report.findings import near_chance_sentence

    def study(name, acc):
        d = tmp_path / name
        d.mkdir()
        (d / "summary.json").write_text(json.dumps({"summary": {"pooled_accuracy": {"mean": acc}}}))
        return d

    runs = {"a": study("a", 0.19), "b": study("b", 0.21), "c": study("c", 0.55)}
    classes = ["x", "y", "z", "u", "v"]  # chance 20 %: near chance below 30 %
    s = near_chance_sentence(runs, classes, {"a": "frames", "b": "frames", "c": "onset_diff"})
    assert "a (19.0 %), b (21.0 %)" in s and "c: 55.0 %" in s and "not a bug" in s
    s = near_chance_sentence(runs, classes, {"a": "frames", "b": "onset_diff", "c": "onset_diff"})
    assert "not established" in s
    assert near_chance_sentence({"c": runs["c"]}, classes, {"c": "onset_diff"}).startswith("No row stays near chance")


def test_book_numbers_prints_the_committed_editions_claims():
    """tools/book_numbers.py on the committed results: every section from results/ alone, the
    claims as the claims table judges them, and no learning table without fold artifacts."""
    import subprocess
    import sys

    from cmnet.preprocess.prepare import CLASSES
    from cmnet.statistics.claims import order_claims
    from cmnet.statistics.power import INTERVAL, claims_power

    out = subprocess.run([sys.executable, str(ROOT / "tools" / "book_numbers.py")], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    for title in ("design", "power table", "claims, accuracy", "claims, uf1", "pooled", "plain classifier",
                  "ρ(k, truth) and the controls", "the repairs one at a time"):
        assert f"\n## {title}\n" in out, title
    built = any((ROOT / "runs").glob("cpu-*/seed*/*/done.json"))  # a checkout that built the cpu book
    assert ("## learning" in out) == built and ("no fold artifacts under runs/" in out) != built
    runs = {v: ROOT / "results" / f"cpu-{v}" for v in ("cmnet", "baseline")}
    row = claims_power(order_claims(runs, CLASSES["synthme"], paper_numbers(), "synthme"), "accuracy").iloc[0]
    assert f"{row[INTERVAL]}" in out and row["verdict"] in out
