"""The paper's numbers (results/paper_numbers.csv, as printed) and ours beside them.

    paper_numbers()                     (cmnet.statistics.claims: the claims are judged against them)
    paper_table1(paper)                 the paper's Table 1 as printed
    side_by_side(rows, paper, …)        our summaries beside the paper's matching rows, every cell labelled
    with_deltas(table, runs, reference, classes)  reference − row, subject-clustered (cmnet.statistics.verdicts)
    reported_orderings(paper)           the orderings the papers print that are not tested, apart
    paper_places(variants, paper)       one sentence: where the papers put CMNet against each row
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..statistics.claims import (PAPER_DATASETS, PAPER_METRICS, PAPER_ROWS, REPORTED_ORDERINGS, UNCHECKED,
                                 paper_numbers, paper_value)  # noqa: F401  (paper_numbers: read here by the chapters)
from .prose import chapter_ref


def paper_table1(paper: pd.DataFrame) -> pd.DataFrame:
    """The paper's Table 1 as printed: one row per method in its order, columns (dataset,
    metric) in the paper's order — CASME II, SAMM, SMIC-HS, each Acc then F1 — in %,
    empty where the paper gives no number."""
    t1 = paper[paper.table == "Table 1"]
    out = t1.pivot_table(index="method", columns=["dataset", "metric"], values="value_percent", sort=False)
    cols = pd.MultiIndex.from_product([list(PAPER_DATASETS), list(PAPER_METRICS)])
    out = out.reindex(columns=cols).reindex(index=list(dict.fromkeys(t1.method)))
    out.columns = pd.MultiIndex.from_tuples([(PAPER_DATASETS[d], PAPER_METRICS[m]) for d, m in cols])
    out.columns.names = [None, None]
    out.index.name = "method"
    return out


def _ci(stat: dict) -> str:
    """A share's interval over seeds in percent, cut at 0–100 % (cmnet.report.prose.interval_pct;
    the column's header carries the unit)."""
    from .prose import interval_pct

    if stat.get("n", 1) < 2:
        return "one seed"
    return interval_pct(stat["ci_low"], stat["ci_high"]).removesuffix(" %")


def side_by_side(rows: dict[str, tuple], paper: pd.DataFrame, dataset_label: str, protocol: str) -> pd.DataFrame:
    """Our numbers (from summaries: mean over seeds, sample std and the 95 % Student-t
    interval over seeds) beside the paper's rows, every cell labelled.

    ``rows``: label → (our summary dict, the paper's matching row filter or None)."""
    out = []
    for label, (summary, paper_sel) in rows.items():
        r = {"method": label}
        s = summary["summary"]
        acc = s["pooled_accuracy"]
        r["ours acc (pooled)"] = 100 * acc["mean"]
        r["± std"] = 100 * acc["std"]
        r["acc 95% CI"] = _ci(acc)
        r["ours UF1 (pooled)"] = 100 * s["pooled_uf1"]["mean"]
        r["UF1 95% CI"] = _ci(s["pooled_uf1"])
        r["ours F1 (pooled)"] = 100 * s["pooled_f1_paper"]["mean"]
        r["ours acc (fold mean)"] = 100 * s["fold_mean_accuracy"]["mean"]
        r["ours F1 (fold mean)"] = 100 * s["fold_mean_f1_paper"]["mean"]
        r["seeds"] = summary["n_seeds"]
        if paper_sel is not None:
            sel = paper.query(paper_sel)
            for ds, ds_label in PAPER_DATASETS.items():  # the paper's order: CASME II, SAMM, SMIC-HS; Acc, F1
                for met, name in PAPER_METRICS.items():
                    v = sel[(sel.metric == met) & (sel.dataset == ds)]["value_percent"]
                    r[f"paper {name} {ds_label}"] = float(v.iloc[0]) if len(v) else float("nan")
        out.append(r)
    df = pd.DataFrame(out).set_index("method")  # unrounded: the page rounds once (71.354 → 71.4, not 71.35 → 71.3)
    df.attrs["caption"] = (f"{dataset_label}; {protocol}. 'ours' are reproduced here (mean over seeds, ± the sample "
                           "std over seeds, 95% CI: Student-t interval of the mean over seeds); 'paper' are as reported "
                           "on the real datasets.")
    return df


def with_deltas(table: pd.DataFrame, runs: dict[str, Path], reference: str, classes,
                metrics: tuple[str, ...] = ("accuracy", "uf1")) -> pd.DataFrame:
    """``table`` (rows labelled as ``runs``' keys) with, per metric, "Δ <m>: <reference> − row":
    how much the reference study gains over the row's on the clips both were evaluated on, in
    points, mean [95 % interval], and its p — the subject-clustered test of
    cmnet.statistics.verdicts, so each number equals the claims table's for the same two studies."""
    from .prose import estimate_pp
    from ..statistics.verdicts import clip_table, compare

    out = table.copy()
    names = {"accuracy": "acc", "uf1": "UF1", "uar": "UAR", "f1_paper": "F1"}
    ref = clip_table(runs[reference])
    cols = {m: ([], []) for m in metrics}
    for label in out.index:
        c = None if label == reference else compare(ref, clip_table(runs[label]), classes, metrics).set_index("metric")
        for m in metrics:
            cells, ps = cols[m]
            cells.append("—" if c is None else
                         estimate_pp(c.delta[m], c.ci_low[m], c.ci_high[m]).removesuffix(" pp"))
            ps.append(float("nan") if c is None else round(float(c.p[m]), 3))
    for m in metrics:
        out[f"Δ {names.get(m, m)}: {reference} − row"], out[f"p ({names.get(m, m)})"] = cols[m]
    return out


def reported_orderings(paper: pd.DataFrame, dataset: str = "casme2", included: bool = False) -> pd.DataFrame:
    """The orderings the papers print that this book does not test (REPORTED_ORDERINGS), with
    their reported numbers (accuracy and F1 as printed, in %) and why they stay apart: "the two
    papers' reported numbers, unchecked". No Δ is tested and no row joins a Holm family. The chapter
    that measures the reason is linked (``included``: for the introduction's include, prose.chapter_ref)."""
    ds = dataset if dataset in PAPER_DATASETS else "casme2"
    rows = []
    for name, brow, wrow, why, where in REPORTED_ORDERINGS:
        r = {"ordering": name, "status": UNCHECKED}
        for metric, label in (("accuracy", "acc"), ("f1_paper", "F1")):
            a, b = paper_value(paper, brow, ds, metric), paper_value(paper, wrow, ds, metric)
            r[f"reported {label} (%), {PAPER_DATASETS.get(ds, ds)}"] = f"{a:.2f} vs {b:.2f}"
        r["why not tested"] = f"{why} ({chapter_ref(where, included=included)} measures it)"
        rows.append(r)
    return pd.DataFrame(rows)


def paper_places(variants, paper: pd.DataFrame, labels: dict | None = None, dataset: str = "casme2") -> str:
    """Where the papers put CMNet against each of ``variants`` (accuracy on ``dataset``, the
    paper's CASME II unless the profile's data is another of its datasets): the rows the paper
    puts below CMNet, those a paper puts above it (MMNet's, from another paper: unchecked), and
    the rows that are not a paper's (ours). One sentence, from results/paper_numbers.csv."""
    labels = labels or {}
    ds = dataset if dataset in PAPER_DATASETS else "casme2"
    below, above, ours = [], [], []
    for v in variants:
        if v == "cmnet":
            continue
        name = labels.get(v, v)
        if v not in PAPER_ROWS:
            ours.append(name)
            continue
        row, cm = PAPER_ROWS[v]
        a, c = paper_value(paper, row, ds, "accuracy"), paper_value(paper, cm, ds, "accuracy")
        (below if c > a else above).append(f"{name} ({a:.2f} against CMNet's {c:.2f})")
    parts = []
    if below:
        parts.append(f"the paper puts CMNet above {len(below)} of these rows in accuracy on {PAPER_DATASETS[ds]}: "
                     + "; ".join(below))
    if above:
        parts.append(f"{'; '.join(above)} {'is' if len(above) == 1 else 'are'} above CMNet in {UNCHECKED}")
    if ours:
        parts.append(f"{'; '.join(ours)} {'is' if len(ours) == 1 else 'are'} not a row of the paper's tables")
    text = "; ".join(parts) + "."
    return text[0].upper() + text[1:]
