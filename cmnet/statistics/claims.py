"""The paper's claims, each checked against this book's artifacts.

An ordering claim ("A beats B") is judged by the subject-clustered test of
cmnet.statistics.verdicts on the clips both variants were evaluated on, for accuracy and for UF1,
with Holm's correction over the family of every row of the claims table (each claim × each
metric), in the words defined there: *holds here*, *reversed here*, *the paper's effect is
excluded here*, *not distinguishable here — smallest detectable difference X pp*. Every number
attributed to a paper is read from results/paper_numbers.csv (the paper's CASME II rows unless
the profile's dataset is another of the paper's). Claims about real datasets are not testable
on SynthME.

Not every ordering the papers print is a claim tested here: "MMNet above CMNet" compares two
papers' own numbers, and MMNet's (quoted, not checked against its paper; its code keeps the best
epoch per test subject) are ones chapter 7 does not show as results. It stays out of the
tested claims and out of the Holm family, shown apart by cmnet.report.paper.reported_orderings as "the two
papers' reported numbers, unchecked".
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..config import DATASET_NAMES
from ..formats import count, estimate_pct, interval_pp
from .verdicts import compare, holm, verdict

def paper_numbers(path: str | Path = "results/paper_numbers.csv") -> pd.DataFrame:
    """The papers' numbers as printed: one row per (table, method, variant, dataset, metric), in %."""
    return pd.read_csv(path)


# the paper's column order: datasets as in its Table 1, accuracy before F1
PAPER_DATASETS = {"casme2": "CASME II", "samm": "SAMM", "smic_hs": "SMIC-HS"}
PAPER_METRICS = {"accuracy": "Acc", "f1_paper": "F1"}

# (claim, better variant, worse variant, the paper's row of each: (table, method, variant) in
# results/paper_numbers.csv, or None where no paper makes the claim)
ORDER_CLAIMS = [
    ("Table 3: CMNet beats its ResNet + LSTM baseline (L_C alone)", "cmnet", "baseline",
     ("Table 3", "CMNet", "L_C + L_ID + L_Wrst"), ("Table 3", "CMNet", "L_C")),
    ("Table 2: probabilistic negatives beat random ones", "cmnet", "cmnet_random",
     ("Table 2", "CMNet", "probabilistic"), ("Table 2", "CMNet", "random")),
    ("Table 2: random negatives beat deterministic ones", "cmnet_random", "cmnet_deterministic",
     ("Table 2", "CMNet", "random"), ("Table 2", "CMNet", "deterministic")),
    ("Table 3: adding L_ID helps (all three vs L_C + L_Wrst)", "cmnet", "cmnet_no_id",
     ("Table 3", "CMNet", "L_C + L_ID + L_Wrst"), ("Table 3", "CMNet", "L_C + L_Wrst")),
    ("Table 3: adding L_Wrst helps (all three vs L_C + L_ID)", "cmnet", "cmnet_no_wrst",
     ("Table 3", "CMNet", "L_C + L_ID + L_Wrst"), ("Table 3", "CMNet", "L_C + L_ID")),
    ("Our repairs help CMNet (repaired vs as printed)", "cmnet", "cmnet_printed", None, None),
]
# orderings the papers print that are not tested here (cmnet.report.paper.reported_orderings): (ordering, the
# better's row, the worse's row in results/paper_numbers.csv, why it is not tested, the chapter that measures the why)
REPORTED_ORDERINGS = [
    ("MMNet above CMNet", ("MMNet", "MMNet", None), ("Table 1", "CMNet", None),
     "MMNet's number is quoted, not checked against its paper, and the two numbers come from two papers' "
     "protocols; its code keeps the best epoch per test subject, an oracle", 10),
]
UNCHECKED = "the two papers' reported numbers, unchecked"
# the paper's metric beside ours: it reports accuracy and F1 = 2PR/(P+R), not UF1
PAPER_METRIC = {"accuracy": "accuracy", "uf1": "f1_paper"}


# the paper's row for each variant (results/paper_numbers.csv), and the row of CMNet it stands against
PAPER_ROWS = {c[2]: (c[4], c[3]) for c in ORDER_CLAIMS if c[1] == "cmnet" and c[3] is not None}
PAPER_ROWS.update({"cmnet_random": (("Table 2", "CMNet", "random"), ("Table 2", "CMNet", "probabilistic")),
                   "cmnet_deterministic": (("Table 2", "CMNet", "deterministic"), ("Table 2", "CMNet", "probabilistic")),
                   "mmnet": (REPORTED_ORDERINGS[0][1], REPORTED_ORDERINGS[0][2])})


def paper_value(paper: pd.DataFrame, row: tuple, dataset: str, metric: str) -> float:
    """The number results/paper_numbers.csv gives for ``row`` = (table, method, variant), in %;
    NaN where it gives none."""
    table, method, variant = row
    sel = paper[(paper.table == table) & (paper.method == method) & (paper.dataset == dataset) & (paper.metric == metric)]
    sel = sel[sel.variant.isna()] if variant is None else sel[sel.variant == variant]
    if len(sel) > 1:
        raise ValueError(f"results/paper_numbers.csv lists {row} {dataset} {metric} {len(sel)} times")
    return float(sel.value_percent.iloc[0]) if len(sel) else float("nan")


def _evidence(paper, better_row, worse_row, dataset: str, metric: str) -> tuple[str, float | None]:
    """The paper column's text and the paper's Δ (a fraction; None where it is not our metric)."""
    if paper is None:
        return "", None
    if better_row is None:
        return "not a claim of the paper: ours", None
    pm = PAPER_METRIC[metric]
    a, b = paper_value(paper, better_row, dataset, pm), paper_value(paper, worse_row, dataset, pm)
    tables = " / ".join(dict.fromkeys(r[0] for r in (better_row, worse_row)))
    where = f"{PAPER_DATASETS.get(dataset, dataset)} {'acc' if pm == 'accuracy' else 'F1 (2PR/(P+R))'}"
    text = f"{tables}: {a:.2f} vs {b:.2f} ({where}, Δ {a - b:+.2f})"
    return (text, (a - b) / 100) if metric == "accuracy" else (text + "; not UF1, no test against it", None)


def order_claims(runs: dict[str, str | Path], classes, paper: pd.DataFrame, dataset: str = "casme2",
                 metrics=("accuracy", "uf1"), n_boot: int = 4000) -> pd.DataFrame:
    """One row per (ordering claim whose two variants ran, metric): the paper's evidence,
    Δ = better − worse in points with its 95 % interval (subject-clustered), p and p after Holm
    over the table's rows, the smallest difference this design detects (80 % power), and the
    verdict. ``runs``: variant → its study folder (runs/<study>/ or results/<study>/)."""
    specs = [c for c in ORDER_CLAIMS if c[1] in runs and c[2] in runs]
    return judge(specs, runs, classes, paper, dataset if dataset in PAPER_DATASETS else "casme2", metrics, n_boot)


def reference_claims(runs: dict[str, str | Path], reference: str, classes, labels: dict | None = None,
                     metrics=("accuracy", "uf1"), n_boot: int = 4000) -> pd.DataFrame:
    """"``reference`` is above every other variant" (the paper's place for CMNet), judged as
    :func:`order_claims` judges (Holm over this table's rows)."""
    labels = labels or {}
    specs = [(f"{labels.get(reference, reference)} above {labels.get(v, v)}", reference, v, None, None)
             for v in runs if v != reference]
    return judge(specs, runs, classes, None, "casme2", metrics, n_boot)


def repairs_table(runs: dict[str, str | Path], classes, metrics=("accuracy", "uf1"), n_boot: int = 4000) -> pd.DataFrame:
    """Which repairs carry the gain: per repair r (cmnet.variants.REPAIR_GROUPS), what removing it
    from CMNet with all five repairs costs (cmnet_all_repairs − cmnet_without_r) and what adding it alone to the
    printed one gains (cmnet_printed_with_r − cmnet_printed), each judged as the claims are
    (Holm over this table's rows). ``runs``: variant → study folder, for the variants run."""
    from ..variants import REPAIR_GROUPS

    specs = []
    for r in REPAIR_GROUPS:
        name = r.replace("_", " ")  # the repair in words (onset diff), as the sentences name it
        specs += [(f"{name}: removing it from all five repairs costs", "cmnet_all_repairs", f"cmnet_without_{r}", None, None),
                  (f"{name}: adding it alone to the printed gains", f"cmnet_printed_with_{r}", "cmnet_printed", None, None)]
    return judge([c for c in specs if c[1] in runs and c[2] in runs], runs, classes, None, "casme2", metrics, n_boot)


def judge(specs, runs, classes, paper, dataset: str, metrics, n_boot: int) -> pd.DataFrame:
    """The claims ``specs`` = [(claim, better, worse, the paper's row of each or None)], each
    metric a row, judged together (one Holm family)."""
    from ..runs.layout import FOLDS_TABLE
    from .verdicts import clip_table, folds_clip_table

    tables, from_folds = {}, []
    for v in dict.fromkeys(x for c in specs for x in c[1:3]):
        try:
            tables[v] = clip_table(runs[v])
        except FileNotFoundError:  # no per-clip predictions (the first edition's results): accuracy only
            if not (Path(runs[v]) / FOLDS_TABLE).is_file():
                raise
            tables[v], _ = folds_clip_table(runs[v], list(classes)), from_folds.append(v)
    metrics = ("accuracy",) if from_folds else metrics
    rows = []
    for claim, better, worse, brow, wrow in specs:
        ev = {m: _evidence(paper, brow, wrow, dataset, m) for m in metrics}
        c = compare(tables[better], tables[worse], classes, metrics, n_boot=n_boot,
                    paper={m: d for m, (_, d) in ev.items() if d is not None})
        for r in c.itertuples():
            rows.append({"claim": claim, "metric": r.metric, "paper": ev[r.metric][0], "Δ (pp)": 100 * r.delta,
                         "95% interval (pp)": interval_pp(r.ci_low, r.ci_high).removesuffix(" pp"), "p": r.p,
                         "smallest detectable (pp)": 100 * r.mde, "subjects": r.subjects, "seeds": r.seeds,
                         "_paper_delta": getattr(r, "paper_delta", np.nan), "_p_paper": getattr(r, "p_vs_paper", np.nan)})
    t = pd.DataFrame(rows)
    if t.empty:
        return t
    t["p (Holm)"] = holm(t.p)
    p_paper = holm(t._p_paper)
    t["verdict"] = [verdict(d / 100, p, mde / 100, None if np.isnan(pd_) else pd_, pp)
                    for d, p, mde, pd_, pp in zip(t["Δ (pp)"], t["p (Holm)"], t["smallest detectable (pp)"],
                                                  t._paper_delta, p_paper)]
    if paper is not None:  # the paper's own difference (accuracy; its F1 is not our UF1), in points
        t.insert(t.columns.get_loc("Δ (pp)"), "paper Δ (pp)", (100 * t._paper_delta).round(2))
    t = t.drop(columns=["_paper_delta", "_p_paper"])
    if paper is None:
        t = t.drop(columns=["paper"])
    family = (f"Holm's correction over the {len(t)} rows judged together ({count(t.claim.nunique(), 'claim')} × "
              f"{count(t.metric.nunique(), 'metric')})")
    t = t.round({"Δ (pp)": 1, "p": 3, "p (Holm)": 3, "smallest detectable (pp)": 1})
    t.attrs["accuracy_only"] = bool(from_folds)
    t.attrs["family"] = family + (", for the test against 0 and, separately, for the test against the paper's "
                                  "difference" if paper is not None else "")
    return t


def level_claim(summary: dict, dataset: str, paper: pd.DataFrame) -> pd.DataFrame:
    """Table 1's level: CMNet's accuracy on ``dataset`` against the paper's. Testable only on
    the dataset the paper reports; holds when the paper's number lies in (or below) our 95 %
    interval over seeds."""
    sel = paper[(paper.table == "Table 1") & (paper.method == "CMNet") & (paper.metric == "accuracy")]
    rows = []
    for ds, v in zip(sel.dataset, sel.value_percent):
        row = {"claim": f"Table 1: CMNet reaches {v:.2f} % accuracy on {PAPER_DATASETS.get(ds, ds)}",
               "paper": f"{v:.2f}"}
        if ds != dataset:
            name = DATASET_NAMES.get(dataset, dataset)
            row |= {"ours": "—", "verdict": f"not testable here (this profile's data is {name})"}
        else:
            s = summary["summary"]["pooled_accuracy"]
            hi = 100 * s["ci_high"]
            row |= {"ours": estimate_pct(s["mean"], s["ci_low"], s["ci_high"]),
                    "verdict": "holds here" if v <= hi else "does not hold here (ours lower)"}
        rows.append(row)
    return pd.DataFrame(rows)
