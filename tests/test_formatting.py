"""Numbers shown one way (cmnet.report.prose's formatters) in every table and sentence built from
the committed results/, and the statistics shown right (issue 34): correlation intervals inside
[−1, 1], the headline's subject intervals, the MMNet ordering kept out of the tested claims."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cmnet.report import prose

RESULTS = Path("results")
PROFILE = "cpu"
CLASSES = ["disgust", "happiness", "others", "repression", "surprise"]
N_BOOT = 300  # the tests check formats and identities, not the intervals' precision

# what a rendered table or sentence must never show (issue 34's list)
DEFECTS = {
    "a percentage with three decimals": re.compile(r"\d\.\d{3,} %"),  # the papers print two: 78.05 %
    "a negative zero": re.compile(r"[−-]0(\.0+)?(?![\d.])"),
    "a plural in parentheses": re.compile(r"\w\(s\)"),
    "a unit repeated around an interval": re.compile(r"(pp|%) \[[^\]]*\] (pp|%)"),
    "a count with decimals": re.compile(r"count \d+\.\d"),
    "p written as zero": re.compile(r"p = 0\.0+(?![\d])"),
}
NUMBER = re.compile(r"[−-]?\d+\.\d+")


def defects(text: str) -> list[str]:
    return [f"{name}: {m.group(0)!r} in …{text[max(0, m.start() - 60):m.end() + 30]}…"
            for name, pat in DEFECTS.items() for m in pat.finditer(text)]


def rendered(styler) -> tuple[list[str], str]:
    """A shown table's column headers and its cells' text, from the HTML the book prints."""
    html = styler.to_html()
    heads = [re.sub(r"<[^>]+>", "", h).strip() for h in re.findall(r"<th[^>]*col_heading[^>]*>(.*?)</th>", html, re.S)]
    cells = " | ".join(re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", html, re.S))
    return heads, cells


def check_shown(styler, what: str) -> None:
    heads, cells = rendered(styler)
    snake = [h for h in heads if prose.SNAKE.match(h)]
    assert not snake, f"{what}: raw snake_case headers {snake}"
    raw = [c.strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", styler.to_html(), re.S)]
    snake = [c for c in raw if prose.SNAKE.match(c)]  # a name the reader types is set as <code>…</code>
    assert not snake, f"{what}: raw snake_case cells {snake}"
    bad = defects(" | ".join(heads) + " || " + cells)
    assert not bad, f"{what}: {bad[:3]}"


# ---------------------------------------------------------------- the formatters themselves

def test_each_formatter_writes_its_kind_once():
    assert prose.pct(1.0) == "100.0 %" and prose.pct(0.77083) == "77.1 %" and prose.pct(float("nan")) == "n/a"
    assert prose.pct(-0.00004) == "0.0 %" and prose.pp(-0.0004) == "0.0 pp" and prose.num(-0.0001) == "0.00"
    assert prose.pp(0.061, signed=False) == "6.1 pp" and prose.pp(-0.061) == "−6.1 pp"
    assert prose.estimate_pp(-0.008, -0.033, 0.016) == "−0.8 [−3.3, +1.6] pp"
    assert prose.estimate_pct(0.7, 0.462, 0.938) == "70.0 [46.2, 93.8] %"
    assert prose.estimate_rho(0.123, -0.351, 0.52) == "0.12 [−0.35, 0.52]"
    with pytest.raises(ValueError, match=r"must lie in \[−1, 1\], got \[-1.35, 1.58\]"):
        prose.estimate_rho(0.12, -1.35, 1.58)
    assert prose.estimate_diff(0.29, 0.255, 0.321) == "+0.29 [+0.26, +0.32]"  # a difference: every bound signed
    assert prose.estimate_diff(-0.0001, -1.35, 1.58) == "0.00 [−1.35, +1.58]"  # of two ρ: may leave [−1, 1]
    assert prose.p_value(0.0001) == "p < 0.001" and prose.p_value(0.0421) == "p = 0.042"
    assert prose.p_cell(0.0004) == "< 0.001" and prose.p_cell(float("nan")) == "—"
    assert prose.count(1, "seed") == "1 seed" and prose.count(2, "seed") == "2 seeds" and prose.integer(480.0) == "480"
    assert prose.integer(12345) == "12,345"
    with pytest.raises(ValueError, match="a count must be a whole number, got 2.5"):
        prose.integer(2.5)
    assert prose.header("cos_view_own_clean") == "cos(view, own clean frame)" and prose.header("apex_position") != \
        "apex_position" and prose.header("new_thing_here") == "new thing here" and prose.header("p (Holm)") == "p (Holm)"


def test_show_formats_each_column_by_its_kind():
    """The defects of the committed book, each on the table that had it: a percent column asked
    for three digits (chapter 6), a describe() count (chapter 1), a p of 0.0001, a −0.0001, a raw
    column name."""
    t = pd.DataFrame({"epochs above zero": [1.0, 0.77083], "count": [480.0, 3.0], "p (Holm)": [0.0001, 0.5],
                      "x": [-0.00001, 1.23456], "apex_position": [0.5, 0.25], "mean smallest detectable (pp)": [0.061, 0.07]})
    s = prose.show(t, percent=("epochs above zero", "apex_position"), points=("mean smallest detectable (pp)",), digits=3)
    heads, cells = rendered(s)
    assert heads == ["epochs above zero", "count", "p (Holm)", "x", "apex position (share of the clip)",
                     "mean smallest detectable (pp)"]
    assert cells.split(" | ") == ["100.0 %", "480", "< 0.001", "0.000", "50.0 %", "6.1",
                                  "77.1 %", "3", "0.500", "1.235", "25.0 %", "7.0"]
    check_shown(s, "the defects' table")
    # and the check itself finds each defect it is there for
    assert defects("100.000 %") and defects("−0.0 pp") and defects("3 seed(s)") and defects("−0.8 pp [−3.3, +1.6] pp")
    assert defects("count 480.00") and defects("p = 0.000")
    assert not defects("−0.8 [−3.3, +1.6] pp, 70.0 %, p < 0.001, 0.12 [−0.35, 0.52], −0.05")


# ---------------------------------------------------------------- every table builder on results/

def _summaries():
    import json

    from cmnet.runs.layout import SUMMARY

    return {d.name.split("-", 1)[1]: json.loads((d / SUMMARY).read_text()) for d in sorted(RESULTS.glob(f"{PROFILE}-*"))
            if (d / SUMMARY).is_file() and "config" in json.loads((d / SUMMARY).read_text())}


def _folders(variants):
    return {v: RESULTS / f"{PROFILE}-{v}" for v in variants}


def test_every_table_built_from_the_committed_results_shows_no_defect():
    from cmnet.book_pages import departures_table
    from cmnet.report import beyond, narrative as N
    from cmnet.report.paper import paper_numbers, reported_orderings, side_by_side, with_deltas
    from cmnet.statistics.claims import level_claim, order_claims, reference_claims
    from cmnet.statistics.power import claims_power, power_table, read_first_edition, table3_differences
    from cmnet.variants import LABELS

    summaries = _summaries()
    paper = paper_numbers()
    tested = ["cmnet", "cmnet_printed", "cmnet_deterministic", "cmnet_random", "cmnet_no_id", "cmnet_no_wrst",
              "baseline", "mmnet"]
    claims = order_claims(_folders(tested), CLASSES, paper, "synthme", n_boot=N_BOOT)
    deltas = reference_claims(_folders(["cmnet", "baseline", "cmnet_no_wrst"]), "cmnet", CLASSES, LABELS, n_boot=N_BOOT)
    st = N.standing({LABELS[v]: (summaries[v], RESULTS / f"{PROFILE}-{v}") for v in ("cmnet", "baseline", "mmnet")},
                    LABELS["cmnet"], CLASSES, n_boot=N_BOOT)
    rows = {"probabilistic": "cmnet", "random": "cmnet_random"}  # chapter 5's rows, by their words
    t2 = side_by_side({r: (summaries[v], None) for r, v in rows.items()}, paper, "SynthME", "3-fold")
    t2 = with_deltas(t2, {r: RESULTS / f"{PROFILE}-{v}" for r, v in rows.items()}, "probabilistic", CLASSES)
    k = {v: RESULTS / f"{PROFILE}-{v}" for v in ("cmnet",)}
    rho = beyond.rho_tables(k, LABELS)
    doc = read_first_edition()
    shown = {
        "claims (accuracy)": prose.show(claims_power(claims, "accuracy")),
        "claims (UF1)": prose.show(claims_power(claims, "uf1")),
        "reference claims": prose.show(claims_power(deltas, "accuracy")),
        "reported orderings": prose.show(reported_orderings(paper)),
        "standing": N.page(N.standing_page(st), percent=("accuracy",)),
        "Table 2 page": N.page(N.ablation_page(t2, "probabilistic")),
        "metrics": N.page(N.metrics_page({"a": summaries["cmnet"]}), percent=("a, pooled", "a, fold mean")),
        "repair settings": N.page(N.repair_settings(), code=("parameter", "as printed", "main rows", "all five repairs")),
        "labels": prose.show(pd.DataFrame({"row": [prose.label(x) for x in ("own_minus_other", "cmnet_no_wrst", "f1_paper")]})),
        "per seed": N.page(N.per_seed_page({"a": summaries["cmnet"]}),
                           percent=("acc, pooled", "UF1, pooled", "acc, fold mean")),
        "level": prose.show(level_claim(summaries["cmnet"], "synthme", paper)),
        "power": prose.show(power_table(doc, (48, 2))),
        "Table 3 differences": prose.show(table3_differences(paper, mde=0.05)),
        "ρ all": prose.show(rho["all"]), "ρ by class": prose.show(rho["by class"]),
        "ρ signs": prose.show(beyond.rho_signs(k, LABELS)),
        "tendency": prose.show(beyond.tendency_table(summaries, rho["all"], LABELS, ("cmnet",))),
        "departures": prose.show(pd.DataFrame(departures_table(PROFILE, results_dir=RESULTS),
                                              columns=["setting", "the paper", "this edition", "the GPU profile"])),
        "describe": prose.show(pd.DataFrame({"frames": np.arange(480.0)}).describe().T.reset_index(), digits=2),
    }
    for what, s in shown.items():
        check_shown(s, what)
    for what in ("ρ all", "ρ by class"):  # a correlation and its interval: every number in [−1, 1]
        cells = rendered(shown[what])[1]
        assert all(abs(float(x.replace("−", "-"))) <= 1 for x in NUMBER.findall(cells)), (what, cells)


def test_every_sentence_built_from_the_committed_results_shows_no_defect():
    from cmnet.report import narrative as N
    from cmnet.statistics.claims import order_claims
    from cmnet.report.findings import claim_sentence, findings, verdict_counts
    from cmnet.report.paper import paper_numbers, paper_places
    from cmnet.variants import LABELS, VARIANTS

    summaries = _summaries()
    tested = ["cmnet", "cmnet_printed", "cmnet_deterministic", "cmnet_random", "cmnet_no_id", "cmnet_no_wrst",
              "baseline"]
    claims = order_claims(_folders(tested), CLASSES, paper_numbers(), "synthme", n_boot=N_BOOT)
    st = N.standing({LABELS[v]: (summaries[v], RESULTS / f"{PROFILE}-{v}") for v in ("cmnet", "baseline")},
                    LABELS["cmnet"], CLASSES, n_boot=N_BOOT)
    text = " ".join([findings(claims, summaries, RESULTS / f"{PROFILE}-plain", RESULTS, CLASSES),
                     verdict_counts(claims), claim_sentence(claims, claims.claim.iloc[0], "CMNet against its baseline"),
                     N.standing_sentences(st), paper_places(VARIANTS, paper_numbers(), LABELS)])
    assert not defects(text), defects(text)[:3]
    assert "pp [" not in text and " seed(s)" not in text
    # every Δ says what it pairs
    assert "CMNet − baseline on the same clips = " in text and "(row − " in text


# ---------------------------------------------------------------- the statistics

def test_fisher_interval_against_a_hand_computation_and_inside_minus_one_one():
    from cmnet.statistics.stats import fisher_interval

    r = [0.1, 0.5, 0.9, -0.2]
    z = [math.atanh(x) for x in r]
    m = sum(z) / 4
    sd = math.sqrt(sum((x - m) ** 2 for x in z) / 3)
    half = stats.t.ppf(0.975, 3) * sd / 2
    got = fisher_interval(r)
    assert got["rho"] == pytest.approx(math.tanh(m)) and got["n"] == 4
    assert (got["ci_low"], got["ci_high"]) == pytest.approx((math.tanh(m - half), math.tanh(m + half)))
    # two units far apart (the seed t-interval of chapter 10 gave [−1.35, 1.58] from such): still inside
    two = fisher_interval([-0.6, 0.85])
    assert -1 < two["ci_low"] < two["rho"] < two["ci_high"] < 1
    assert fisher_interval([1.0, 1.0, 0.99])["ci_high"] < 1  # a unit at ±1 is clipped, not infinite
    one = fisher_interval([0.3])
    assert one["n"] == 1 and one["rho"] == pytest.approx(0.3) and math.isnan(one["ci_low"])
    with pytest.raises(ValueError, match="correlations in"):
        fisher_interval([0.2, 1.5])


def test_fisher_interval_covers_the_true_correlation_at_its_level():
    """Coverage by simulation: 12 subjects, each's correlation the true one plus subject noise on
    the z scale; the 95 % interval holds the true centre in about 95 % of 2,000 replicates."""
    from cmnet.statistics.stats import fisher_interval

    rng = np.random.default_rng(3)
    true = 0.4
    hits = [(lambda f: f["ci_low"] <= true <= f["ci_high"])(
        fisher_interval(np.tanh(np.arctanh(true) + rng.normal(0, 0.3, 12)))) for _ in range(2000)]
    assert abs(np.mean(hits) - 0.95) < 0.015


def test_the_chapter_ten_rho_cells_lie_in_minus_one_one_on_the_committed_results():
    """The committed cpu edition: the cells that printed '0.12 [−1.35, 1.58]' (a two-seed
    t-interval) are now over 48 subjects, every bound inside [−1, 1]."""
    from cmnet.report.analyses import rho_truth_summary

    for v in ("cmnet_printed",):  # one seed: the old cell had no interval at all; now 48 subjects give one
        for by in (None, "class"):
            t = rho_truth_summary(RESULTS / f"{PROFILE}-{v}", by=by)
            assert (t.subjects == 48).all() and ((t.ci_low > -1) & (t.ci_high < 1) & (t.ci_low <= t.rho)
                                                  & (t.rho <= t.ci_high)).all(), (v, by)


def test_rho_signs_counts_the_models_trained():
    """cpu-cmnet trained seeds × folds models (folds.csv: 2 × 2 = 4 in this edition), not seed × subject."""
    from cmnet.report.analyses import model_folds
    from cmnet.report.beyond import rho_signs
    from cmnet.variants import variant_config

    folder = RESULTS / f"{PROFILE}-cmnet"
    folds = pd.read_csv(folder / "folds.csv")
    t = rho_signs({"cmnet": folder}, {})
    from cmnet.runs.layout import SUMMARY

    study = json.loads((folder / SUMMARY).read_text())["config"]
    models = len(study["seeds"]) * study["kfold_k"]
    assert t["models (seed × fold)"].tolist() == [len(folds)] == [models] and models < folds.n_test.sum()
    # the folds reconstructed for the results folder hold the clips the folds table counts
    fold_of = model_folds(folder)
    p = pd.read_csv(folder / "predictions.csv")
    n = p[p.seed == 0].subject.map(fold_of).value_counts().sort_index()
    assert n.to_dict() == dict(zip(folds[folds.seed == 0].fold, folds[folds.seed == 0].n_test))


def test_level_interval_is_the_verdicts_interval_against_a_study_that_is_always_wrong():
    """level(a) is compare(a, b) where b is wrong on every clip (its accuracy 0 in every
    resample): the same value, standard error and t-interval."""
    from cmnet.statistics.verdicts import clip_table, compare, level

    a = clip_table(RESULTS / f"{PROFILE}-baseline")
    wrong = a.assign(pred=[CLASSES[(CLASSES.index(x) + 1) % 5] for x in a.label])
    lv = level(a, CLASSES, n_boot=N_BOOT)
    c = compare(a, wrong, CLASSES, ("accuracy",), n_boot=N_BOOT).iloc[0]
    assert lv["value"] == pytest.approx(c.delta) and lv["se"] == pytest.approx(c.se)
    assert (lv["ci_low"], lv["ci_high"]) == pytest.approx((c.ci_low, c.ci_high))
    assert lv["subjects"] == 48 and lv["seeds"] == 2
    # narrower than the two-seed t-interval the headline drew before ([46.2, 93.8] % for the baseline)
    s = _summaries()["baseline"]["summary"]["pooled_accuracy"]
    assert lv["ci_high"] - lv["ci_low"] < (s["ci_high"] - s["ci_low"]) / 3


def test_the_headline_draws_the_subject_intervals_and_keeps_mmnet_apart(tmp_path):
    from cmnet.book_pages import HEADLINE_VARIANTS, headline_intervals, write_headline
    from cmnet.statistics.verdicts import clip_table, level

    assert write_headline(tmp_path, PROFILE, RESULTS)
    md = (tmp_path / "headline.md").read_text()
    assert "95 % interval over subjects, as the verdicts below compute it" in md and (tmp_path / "headline.png").is_file()
    assert "the two papers' reported numbers, unchecked" in md and "MMNet beats CMNet" not in md
    assert not defects(md), defects(md)[:3]
    iv = headline_intervals({v: RESULTS / f"{PROFILE}-{v}" for v in HEADLINE_VARIANTS[:2]}, CLASSES, n_boot=N_BOOT)
    lv = level(clip_table(RESULTS / f"{PROFILE}-cmnet"), CLASSES, n_boot=N_BOOT)
    assert iv["cmnet"] == pytest.approx((lv["ci_low"], lv["ci_high"]))


def test_the_mmnet_ordering_is_out_of_the_claims_and_their_holm_family():
    """Without the MMNet row, every other row's Δ, interval, p and smallest detectable difference
    are those of the old seven-claim table; the Holm family counts only the tested rows, and
    each Holm p is at most the old one (a smaller family)."""
    from cmnet.report.paper import paper_numbers, reported_orderings
    from cmnet.statistics.claims import ORDER_CLAIMS, REPORTED_ORDERINGS, judge, order_claims

    paper = paper_numbers()
    tested = ["cmnet", "cmnet_printed", "cmnet_deterministic", "cmnet_random", "cmnet_no_id", "cmnet_no_wrst",
              "baseline", "mmnet"]
    runs = _folders(tested)
    new = order_claims(runs, CLASSES, paper, "synthme", n_boot=N_BOOT)
    assert not new.claim.str.contains("MMNet").any() and all(c[1] != "mmnet" for c in ORDER_CLAIMS)
    old_specs = list(ORDER_CLAIMS[:1]) + [("MMNet beats CMNet (each paper's own number)", "mmnet", "cmnet",
                                           ("MMNet", "MMNet", None), ("Table 1", "CMNet", None))] + list(ORDER_CLAIMS[1:])
    old = judge(old_specs, runs, CLASSES, paper, "casme2", ("accuracy", "uf1"), N_BOOT)
    old = old[~old.claim.str.startswith("MMNet")].reset_index(drop=True)
    same = ["claim", "metric", "paper", "paper Δ (pp)", "Δ (pp)", "95% interval (pp)", "p", "smallest detectable (pp)"]
    pd.testing.assert_frame_equal(new[same], old[same])
    assert (new["p (Holm)"] <= old["p (Holm)"] + 1e-12).all()
    assert f"over the {len(new)} rows" in new.attrs["family"]
    r = reported_orderings(paper)
    assert r.ordering.tolist() == [o[0] for o in REPORTED_ORDERINGS]
    assert r["reported acc (%), CASME II"].iloc[0] == "88.35 vs 78.05"  # results/paper_numbers.csv
    assert r.status.iloc[0] == "the two papers' reported numbers, unchecked"
    # the reason's chapter is a link: an anchor in a chapter's cell, {doc} in the introduction's include
    assert '(<a href="10_beyond_the_paper.html">chapter 10</a> measures it)' in r["why not tested"].iloc[0]
    intro = reported_orderings(paper, included=True)["why not tested"].iloc[0]
    assert "({doc}`chapter 10 </book/executed/10_beyond_the_paper>` measures it)" in intro


def test_where_the_papers_put_cmnet_is_read_from_their_numbers():
    """Chapter 10's sentence: CMNet above the rows the paper puts below it, MMNet's number above
    it (unchecked), our rows named as ours — each number the paper_numbers.csv row."""
    from cmnet.report.paper import paper_numbers, paper_places

    s = paper_places(["cmnet", "cmnet_random", "baseline", "mmnet", "cmnet_spearman"], paper_numbers(),
                     {"cmnet_random": "random", "baseline": "L_C", "mmnet": "MMNet", "cmnet_spearman": "L_ρ"})
    assert s == ("The paper puts CMNet above 2 of these rows in accuracy on CASME II: random (75.61 against CMNet's "
                 "78.05); L_C (63.82 against CMNet's 78.05); MMNet (88.35 against CMNet's 78.05) is above CMNet in the "
                 "two papers' reported numbers, unchecked; L_ρ is not a row of the paper's tables.")


# ---------------------------------------------------------------- the summary and the conclusion

def test_the_summary_and_conclusion_wait_for_missing_studies(tmp_path):
    from cmnet.report.summary import conclusion_texts, edition, scope_table, summary_texts

    ed = edition(tmp_path, "smoke")
    assert not ed.complete and ed.missing[0] == "cmnet" and ed.claims is None
    texts = summary_texts(ed) | conclusion_texts(ed)
    assert set(texts) == {"sum_scope", "sum_method", "sum_results", "sum_easy", "sum_hard", "con_holds", "con_excluded",
                          "con_untested", "con_change"}
    assert all("once chapters 4–9 have run for the profile **smoke**" in t and "cmnet" in t for t in texts.values())
    assert scope_table(ed).verdict.str.contains("missing studies").all()


def test_the_summary_and_conclusion_read_the_claims_table():
    """On the committed edition: the scope table's verdicts are the claims table's, the texts
    count them as it does, the excluded claims quote the paper's Δ and our interval's far end."""
    from cmnet.report.findings import verdict_counts
    from cmnet.report.summary import conclusion_texts, edition, scope_table, summary_texts

    ed = edition(RESULTS, PROFILE, n_boot=N_BOOT)
    assert ed.complete and ed.plain is not None
    acc = ed.claims[ed.claims.metric == "accuracy"]
    scope = scope_table(ed)
    assert scope.claim.tolist()[:len(acc)] == acc.claim.tolist()
    assert scope.verdict.tolist()[:len(acc)] == [v.split(" — ")[0] for v in acc.verdict]
    first = acc.iloc[0]  # Table 3's baseline claim: the paper's Δ beside ours, each in its place
    assert scope.loc[0, "the paper"] == f"Δ +{first['paper Δ (pp)']:.1f} pp"
    assert scope.loc[0, "here"] == f"Δ {first['Δ (pp)']:+.1f} {first['95% interval (pp)']} pp".replace("-", "−")
    assert scope.loc[len(acc) - 1, "the paper"] == "—"  # our repairs: not a claim of the paper
    assert scope.claim.iloc[-1] == "MMNet above CMNet" and scope.verdict.iloc[-1].endswith("unchecked")
    cells = " ".join(scope.astype(str).to_numpy().ravel())  # a chapter named in a cell is a link to it
    assert not re.search(r"(?<!>)[Cc]hapters? \d", cells) and '<a href="09_claims.html">chapter 9</a>' in cells
    s, c = summary_texts(ed), conclusion_texts(ed)
    assert verdict_counts(ed.claims) in s["sum_results"] and "32² frames" in s["sum_method"]
    excluded = acc[acc.verdict.str.contains("excluded")]
    for claim, iv, paper in zip(excluded.claim, excluded["95% interval (pp)"], excluded["paper Δ (pp)"]):
        hi = iv.strip("[]").split(",")[1].strip()
        assert f"{claim}: ours at most {hi} pp, the paper's +{paper:.1f} pp" in c["con_excluded"]
        assert float(hi.replace("−", "-")) < paper
    assert "from scratch (no pretraining)" in c["con_excluded"] and "onset-difference input" in c["con_excluded"]
    idle = acc[acc.verdict.str.startswith("not tested here")]  # as the intro and chapter 9 mark them
    for claim in idle.claim:
        assert claim not in c["con_excluded"] and claim in c["con_untested"]
    for text in (s | c).values():
        assert not defects(text), defects(text)[:3]


def test_a_share_interval_is_cut_at_0_and_100_percent():
    """A Student-t interval over two seeds can reach past 100 % (the republished book showed
    '[28.3, 113.0] %'): a share's interval is shown cut at its range."""
    from cmnet.report.prose import estimate_pct, interval_pct

    assert interval_pct(0.283, 1.13) == "[28.3, 100.0] %"
    assert estimate_pct(0.05, -0.2, 0.3) == "5.0 [0.0, 30.0] %"
    assert interval_pct(0.3, 0.7) == "[30.0, 70.0] %"
