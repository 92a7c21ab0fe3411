"""The result-dependent sentences and the page tables of chapters 4–8: every word that depends on a
result ("above", "below", "indistinguishable from"; "learned" or not; "reduces to its baseline";
"almost never predicts") is computed here from the studies, never typed in a chapter.

    page(df, percent=…, csv=…, rows=…)        prose.show's table (the theme's table class and cell padding)
    standing(rows, ref, classes)              every row against a reference study on the same clips
                                              (subject-clustered Δ, 95 % interval, p, relation)
    standing_sentences(table, ref)            one markdown line per row of that table
    k_spread(study), k_spread_sentence(…)     how much k moves within a clip, against the prototype's
                                              own step from one frame to the next (chapter 4's test)
    rarely_predicted(cm, classes)             the classes a model almost never predicts
    fit_sentence(label, row, chance)          what a learning-table row says of its training
    ablation_page(table, reference)           Tables 2 and 3 on the page: the columns a reader compares
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from ..runs import layout as L
from .prose import count, estimate_pp, header, interval_pct, listing, num, p_cell, p_value, pct, pp, relation, show, styled

RARE_SHARE = 0.25  # "almost never predicts": fewer predictions than a quarter of the class's clips


def page(df: pd.DataFrame, percent=(), digits: int = 1, csv: str | Path | None = None, rows: int | None = None,
         index: bool = False, code=()):
    """A table as the page shows it: prose.show (percent columns, no index column, the first ``rows``
    on the page and the whole table in ``csv``, names the reader types as code, the theme's class
    and padding)."""
    return show(df, percent=percent, digits=digits, index=index, csv=csv, rows=rows, code=code)


def paper_table1_page(t1: pd.DataFrame):
    """The paper's Table 1 (cmnet.report.paper.paper_table1) on the page: the method as the first
    column, two decimals, "—" where the paper gives no number, padded cells under a two-row
    header (dataset over metric)."""
    t = t1.reset_index()
    numbers = [c for c in t.columns if c != ("method", "")]
    return styled(t.style.format("{:.2f}", subset=numbers, na_rep="—").hide(axis="index"))


def _level(summary: dict) -> tuple[float, str]:
    """A row's accuracy (pooled, mean over seeds) and its interval over seeds, as text; a
    deterministic row (the plain classifier's summary.json) has no interval."""
    if "summary" not in summary:
        return float(summary["accuracy"]), "deterministic"
    s = summary["summary"]["pooled_accuracy"]
    return float(s["mean"]), (interval_pct(s["ci_low"], s["ci_high"]) if s.get("n", 1) > 1 else "one seed")


def standing(rows: dict[str, tuple[dict, str | Path]], ref: str, classes, n_boot: int = 4000,
             name: str | None = None) -> pd.DataFrame:
    """``rows``: label → (its summary, its study folder: runs/<study> or results/<study>); one
    table row per label: accuracy (a fraction), its interval over seeds, and for every label but
    ``ref`` the subject-clustered Δ = row − ref on the clips both were evaluated on
    (cmnet.statistics.verdicts.compare: 95 % interval, p, smallest detectable difference) and where
    the row stands: "above", "below" or "indistinguishable from" ``ref`` (``name``: how the
    sentences call it, e.g. "the plain classifier"; default its label)."""
    from ..statistics.verdicts import clip_table, compare

    ref_clips = clip_table(rows[ref][1])
    out = []
    for label, (summary, study) in rows.items():
        acc, iv = _level(summary)
        r = {"row": label, "accuracy": acc, "interval over seeds": iv}
        if label != ref:
            c = compare(clip_table(study), ref_clips, classes, ("accuracy",), n_boot=n_boot).iloc[0]
            r |= {"delta": float(c.delta), "lo": float(c.ci_low), "hi": float(c.ci_high), "p": float(c.p),
                  "mde": float(c.mde), "relation": relation(c.ci_low, c.ci_high)}
        out.append(r)
    t = pd.DataFrame(out)
    t.attrs["reference"], t.attrs["name"] = ref, name or ref
    return t


def standing_page(table: pd.DataFrame) -> pd.DataFrame:
    """The standing table in the book's units: accuracy in %, Δ in points with its interval."""
    ref = table.attrs["name"]
    t = table[["row", "accuracy", "interval over seeds"]].copy()
    t[f"Δ acc (pp), row − {ref}, same seeds and clips"] = [
        ("—" if not math.isfinite(r.get("delta", math.nan)) else
         estimate_pp(r["delta"], r["lo"], r["hi"]).removesuffix(" pp")) for r in table.to_dict("records")]
    rel = table.get("relation", pd.Series([None] * len(table), index=table.index))
    t[f"vs {ref}"] = [f"{r} {ref}" if isinstance(r, str) and r != "—" else "—" for r in rel]
    return t


def standing_sentences(table: pd.DataFrame) -> str:
    """One markdown line per row other than the reference: '- **row** (41.2 %) is below
    ref: −28.8 [−40.1, −17.5] pp (row − ref, same seeds and clips), p = 0.001'; an indistinguishable row also gets the smallest
    difference the design detects."""
    ref, name = table.attrs["reference"], table.attrs["name"]
    lines = []
    for r in table.to_dict("records"):
        if r["row"] == ref:
            continue
        if r["delta"] == 0 and r["mde"] == 0:  # every subject's accuracy is the same in both (not every call)
            lines.append(f"- **{r['row']}** ({pct(r['accuracy'])}) has the same accuracy as {name} on every "
                         f"test subject (Δ = 0 on each; their predictions may still differ).")
            continue
        mde = (f"; smallest difference this design detects at 80 % power: {pp(r['mde'], signed=False)}"
               if r["relation"].startswith("indistinguishable") and math.isfinite(r["mde"]) else "")
        p = f", {p_value(r['p'])}" if math.isfinite(r["p"]) else ""
        lines.append(f"- **{r['row']}** ({pct(r['accuracy'])}) is {r['relation']} {name}: "
                     f"{estimate_pp(r['delta'], r['lo'], r['hi'])} (row − {name}, same seeds and clips){p}{mde}.")
    return "\n".join(lines)


def standing_summary(table: pd.DataFrame, what: str = "row") -> str:
    """One sentence over the whole table: how many rows are above, below and indistinguishable
    from the reference."""
    ref = table.attrs["name"]
    rel = table["relation"].dropna()
    counts = {w: int((rel == w).sum()) for w in ("above", "below", "indistinguishable from")}
    n = len(rel)
    if counts["above"] == n:
        return f"Every {what} is above {ref}."
    if counts["above"] == 0 and counts["below"] == n:
        return f"Every {what} is below {ref}."
    if counts["above"] == 0:
        return (f"No {what} is above {ref}: {counts['below']} of {n} below it, {counts['indistinguishable from']} "
                "not distinguishable from it at this design's power.")
    return (f"{counts['above']} of {n} {what}s {'is' if counts['above'] == 1 else 'are'} above {ref}, {counts['below']} below it and "
            f"{counts['indistinguishable from']} not distinguishable from it.")


def small(x: float) -> str:
    """A small positive number with two significant digits, without an exponent: 0.011, 0.000083."""
    if not math.isfinite(x):
        return "n/a"
    if x == 0:
        return "0"
    digits = max(3, 1 - math.floor(math.log10(abs(x))))
    return f"{x:.{digits}f}"


def k_spread(study: str | Path) -> dict:
    """How much k moves within a test clip: its range per clip (mean and median over clips), the
    prototype's mean step from one frame to the next in the same clips, and the share of clips
    whose whole k range is smaller than that step. ``flat``: the median clip's k range is below
    the step — k nearly constant within a clip, chapter 4's sign that extend(k) scales every
    frame alike and CMNet reduces to its baseline."""
    rec = L.read_intensity(study)
    k, q = np.asarray(rec["k"], float), np.asarray(rec["q_mean"], float)
    k_range = np.ptp(k, axis=1)
    step = np.abs(np.diff(q, axis=1)).mean(1)
    ratio = k_range / np.where(step > 0, step, np.nan)
    return {"clips": len(k), "k_range": float(k_range.mean()), "k_range_median": float(np.median(k_range)),
            "step": float(step.mean()), "share_below_step": float(np.mean(k_range < step)),
            "flat": bool(np.nanmedian(ratio) < 1)}


def k_spread_sentence(label: str, s: dict, here: int | None = None) -> str:
    """What :func:`k_spread` says, in words (markdown); ``here``: the chapter it is shown in (chapter
    4 calls its own test 'the test above')."""
    from .prose import chapter_ref

    test = "the test above" if here == 4 else f"{chapter_ref(4)}'s test"
    base = (f"{label}: k moves by {small(s['k_range'])} within a test clip (mean range over {s['clips']} clips; "
            f"median {small(s['k_range_median'])}), against a prototype that moves by {small(s['step'])} from one "
            f"frame to the next; in {pct(s['share_below_step'])} of the clips k's whole range is smaller than that "
            "step.")
    if s["flat"]:
        return base + (f" By {test} k is **nearly constant** within a clip: extend(k) scales every frame "
                       "alike, and this CMNet **reduces to its baseline**.")
    return base + (f" By {test} k **varies within a clip**: this CMNet does not reduce to its baseline by "
                   f"that test (whether k helps is {chapter_ref(6)}'s question).")


def rarely_predicted(cm, classes, share: float = RARE_SHARE) -> list[tuple[str, int, int]]:
    """(class, predictions, true clips) for every class predicted fewer than ``share`` × its
    true clips times (cm: rows true, columns predicted)."""
    cm = np.asarray(cm)
    pred, true = cm.sum(0), cm.sum(1)
    return [(str(c), int(p), int(t)) for c, p, t in zip(classes, pred, true) if t > 0 and p < share * t]


def rarely_sentence(label: str, cm, classes) -> str:
    rare = rarely_predicted(cm, classes)
    if not rare:
        return f"{label} predicts every class at least a quarter as often as it occurs."
    items = "; ".join(f"*{c}* {p} times for {t} clips of it" for c, p, t in rare)
    names = [f"*{c}*" for c, _, _ in rare]
    names = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return (f"{label} almost never predicts {names} (fewer predictions than a "
            f"quarter of {'that class' if len(rare) == 1 else 'each class'}'s clips: {items}), so nearly every clip of {'that class' if len(rare) == 1 else 'those classes'} "
            "counts as an error.")


def fit_sentence(label: str, row: dict, chance: float) -> str:
    """One learning-table row (cmnet.report.tables.learning_table) in words."""
    ce = f", its cross-entropy going {row['CE']} (chance level ln C = {num(math.log(1 / chance), 2)})" \
        if row.get("CE", "—") != "—" else ""
    verdict = ("it has **learned** its training data" if row["learned"] == "yes"
               else f"it has **not learned** its training data ({row['learned'].removeprefix('no: ')})")
    return (f"{label} ends its training at {pct(row['train acc'])} training accuracy (chance {pct(chance)}; lowest "
            f"fold {pct(row['lowest fold'])}){ce}: {verdict}; its test accuracy is {pct(row['test acc'])}.")


def ablation_page(table: pd.DataFrame, reference: str) -> pd.DataFrame:
    """Table 2 or 3 (side_by_side + with_deltas) with the columns a reader compares: ours
    (accuracy, its interval, UF1), Δ accuracy (reference − row) and its p, and the paper's
    CASME II accuracy; in % and points. The whole table goes to a CSV beside it."""
    delta = f"Δ acc: {reference} − row"
    cols = {"ours acc (pooled)": "acc (%)", "acc 95% CI": "95 % interval (%)", "ours UF1 (pooled)": "UF1 (%)",
            delta: f"Δ acc (pp), {reference} − row, same seeds and clips", "p (acc)": "p",
            "paper Acc CASME II": "paper acc, CASME II (%)"}
    t = table.reset_index().rename(columns={"method": "row"})
    if delta in t:
        t[delta] = t[delta].astype(str).str.replace("-", "−")  # the book's minus
    if "p (acc)" in t:
        t["p (acc)"] = [p_cell(p) for p in t["p (acc)"]]
    if "paper Acc CASME II" in t:  # the paper's numbers as printed: two decimals
        t["paper Acc CASME II"] = ["—" if pd.isna(v) else f"{v:.2f}" for v in t["paper Acc CASME II"]]
    keep = ["row"] + [c for c in cols if c in t.columns]
    return t[keep].rename(columns=cols)


def k_spread_page(spread: dict[str, dict]) -> pd.DataFrame:
    """:func:`k_spread` of several rows (label → its dict) as the page shows it."""
    return pd.DataFrame([{"row": label, "clips": s["clips"], "k range (mean)": small(s["k_range"]),
                          "k range (median)": small(s["k_range_median"]), "prototype step": small(s["step"]),
                          "clips with k range < step": pct(s["share_below_step"]),
                          "k nearly constant": "yes" if s["flat"] else "no"} for label, s in spread.items()])


def small_columns(df: pd.DataFrame, columns) -> pd.DataFrame:
    """``df`` with ``columns`` written by :func:`small` (a k range of 0.00007 is not 0.000)."""
    out = df.copy()
    for c in columns:
        if c in out:
            out[c] = out[c].map(small)
    return out


def learned_sentence(table: pd.DataFrame) -> str:
    """Over a learning table: did every row learn, and if not, which did not."""
    bad = table[table["learned"] != "yes"]
    if bad.empty:
        return f"Every row of this chapter learned its training data ({len(table)} of {len(table)})."
    names = "; ".join(f"**{r}** ({w.removeprefix('no: ')})" for r, w in zip(bad["row"], bad["learned"]))
    return (f"{len(bad)} of {len(table)} rows did **not** learn their training data: {names}. Their test numbers say "
            "nothing about the method they stand for.")


def study_protocol(cfg, summary: dict) -> str:
    """The design a chapter's numbers come from, in one line: dataset and profile (SynthME's
    subjects, clips and difficulty), the folds, epochs, seeds, frame side."""
    from .tables import protocol_name

    d = cfg.data
    data = (f"SynthME ({d.synth_subjects} subjects × {d.synth_clips_per_subject} clips, difficulty "
            f"{d.synth_difficulty:g})" if d.dataset == "synthme" else d.dataset)
    return (f"{data}, profile {cfg.study.name.split('-')[0]}: {protocol_name(cfg)} ({summary['seeds'][0]['folds']} "
            f"folds), {cfg.preprocess.size}² frames, {cfg.train.epochs} epochs, last epoch evaluated, "
            f"{count(int(summary['n_seeds']), 'seed')}")


def repair_settings() -> pd.DataFrame:
    """The repairs' parameters (cmnet.variants): the repair each belongs to (REPAIR_GROUPS, in
    words), as printed, in the book's main rows (MAIN: four repairs; L_ID's negatives as printed)
    and with all five repairs (REPAIRS, the variant cmnet_all_repairs)."""
    from ..variants import MAIN, PRINTED, REPAIR_GROUPS, REPAIRS

    group = {k: r.replace("_", " ") for r, keys in REPAIR_GROUPS.items() for k in keys}
    return pd.DataFrame([{"repair": group[k], "parameter": k, "as printed": str(PRINTED[k]), "main rows": str(MAIN[k]),
                          "all five repairs": str(REPAIRS[k])} for k in PRINTED])


def metrics_page(summaries: dict[str, dict]) -> pd.DataFrame:
    """Per metric (rows) and row (columns): pooled over folds (mean over seeds) and the mean over
    folds, as fractions for prose.show's percent."""
    from .tables import METRICS

    out = []
    for m in METRICS:
        r = {"metric": header(m)}
        for label, s in summaries.items():
            r[f"{label}, pooled"] = s["summary"][f"pooled_{m}"]["mean"]
            r[f"{label}, fold mean"] = s["summary"][f"fold_mean_{m}"]["mean"]
        out.append(r)
    return pd.DataFrame(out)


def per_seed_page(summaries: dict[str, dict]) -> pd.DataFrame:
    """One row per (row, seed): folds, clips, pooled accuracy and UF1, fold-mean accuracy."""
    return pd.DataFrame([{"row": label, "seed": s["seed"], "folds": s["folds"], "clips": s["clips"],
                          "acc, pooled": s["pooled_accuracy"], "UF1, pooled": s["pooled_uf1"],
                          "acc, fold mean": s["fold_mean_accuracy"]}
                         for label, summ in summaries.items() for s in summ["seeds"]])


def tables_folder(results_dir: str | Path, profile: str) -> Path:
    """results_dir/<profile>-tables/: the chapters' whole tables as CSV, beside the studies'."""
    out = Path(results_dir) / f"{profile}-tables"
    out.mkdir(parents=True, exist_ok=True)
    return out


def terms_sentence(terms: pd.DataFrame, bound: float) -> str:
    """What the loss-terms table (cmnet.report.tables.loss_terms_table) says in words: which terms were
    zero in every epoch of every fold, and so trained nothing; ``bound``: the |Z| below which L_Wrst
    is zero (chapters_data.zero_loss_bound)."""
    from .prose import chapter_ref

    dead = terms[terms["epochs above zero"] == 0]
    if dead.empty:
        return "Every loss term was above zero in some epoch of every row that trains with it: each gave a gradient."
    out = []
    for term, rows in dead.groupby("term", sort=False)["row"]:
        why = (f": its hinge max(0, ξ − (p − α)) opens only where |Z| exceeds {num(bound, 3)} ({chapter_ref(3)}), and the "
               f"rank sums of k and the prototype never got that far apart" if term == "L_Wrst" else "")
        out.append(f"**{term} was exactly zero in every epoch of every fold** of {listing(list(rows))}{why}. "
                   f"It gave no gradient: {'this row' if len(rows) == 1 else 'these rows'} trained as without it, up to the "
                   f"random numbers its draws used.")
    return " ".join(out)
