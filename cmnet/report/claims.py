"""The paper's claims, each checked against this book's artifacts.

A claim holds here when the paired difference over seeds (cmnet.report.stats.paired_difference,
a Student-t 95 % interval) lies wholly on the side the paper says; it does not hold when the
interval lies wholly on the other side, or includes 0 (then the data cannot tell the two
apart: "not distinguishable here"). The same verdict is also given over matched (seed, fold)
pairs (a bootstrap interval and the Wilcoxon test: more pairs, a narrower interval, but folds
of one seed are not independent). Claims about real datasets are not testable on SynthME.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .paper import PAPER_DATASETS
from .stats import paired_delta, paired_difference, seed_interval

# (claim, the paper's evidence, better variant, worse variant)
ORDER_CLAIMS = [
    ("Table 1: CMNet beats the ResNet + LSTM baseline", "Table 3: 78.05 vs 70.24 (CASME II acc)", "cmnet", "baseline"),
    ("Table 1: CMNet beats MMNet", "MMNet's own paper reports higher; CMNet's Table 1 omits it", "cmnet", "mmnet"),
    ("Table 2: probabilistic negatives beat random ones", "78.05 vs 75.61 (CASME II acc)", "cmnet", "cmnet_random"),
    ("Table 2: random negatives beat deterministic ones", "75.61 vs 74.80 (CASME II acc)", "cmnet_random",
     "cmnet_deterministic"),
    ("Table 3: adding L_ID helps (all three vs L_C + L_Wrst)", "78.05 vs L_C + L_Wrst (CASME II acc)", "cmnet",
     "cmnet_no_id"),
    ("Table 3: adding L_Wrst helps (all three vs L_C + L_ID)", "78.05 vs L_C + L_ID (CASME II acc)", "cmnet",
     "cmnet_no_wrst"),
    ("Our repairs help CMNet (repaired vs as printed)", "not a claim of the paper: ours", "cmnet", "cmnet_printed"),
]


def verdict(lo: float, hi: float) -> str:
    if lo > 0:
        return "holds here"
    if hi < 0:
        return "does not hold here (reversed)"
    return "not distinguishable here"


def order_claims(summaries: dict[str, dict], key: str = "pooled_accuracy", runs: dict | None = None) -> pd.DataFrame:
    """One row per ordering claim whose two variants were run: Δ = better − worse in
    percentage points with its 95 % interval over seeds, and the verdict. With ``runs``
    (variant → study folder), also over matched (seed, fold) pairs: the fold's own metric
    (``key`` without ``pooled_``/``fold_mean_``), its 95 % bootstrap interval, the Wilcoxon
    signed-rank p and the verdict on that interval (cmnet.report.stats.paired_delta)."""
    rows = []
    for claim, paper, better, worse in ORDER_CLAIMS:
        if better not in summaries or worse not in summaries:
            continue
        d = paired_difference(summaries[better], summaries[worse], key)
        row = {"claim": claim, "paper": paper, f"Δ {key} (pp)": round(100 * d["mean"], 2),
               "95% interval (pp)": f"[{100 * d['ci_low']:.1f}, {100 * d['ci_high']:.1f}]" if d["n"] > 1 else "—",
               "seeds": len(d["seeds"]), "verdict": verdict(d["ci_low"], d["ci_high"])
               if d["n"] > 1 else "one seed: no interval"}
        if runs is not None and better in runs and worse in runs:
            metric = key.removeprefix("pooled_").removeprefix("fold_mean_")
            f = paired_delta(runs[better], runs[worse], metric)
            row |= {"Δ per fold, 95% bootstrap (pp)": f"{100 * f['mean']:+.1f} [{100 * f['ci_low']:+.1f}, "
                                                      f"{100 * f['ci_high']:+.1f}]",
                    "(seed, fold) pairs": f["pairs"], "Wilcoxon p": round(f["p_value"], 3),
                    "verdict over (seed, fold) pairs": verdict(f["ci_low"], f["ci_high"])}
        rows.append(row)
    return pd.DataFrame(rows)


def rho_by_seed(agreement: pd.DataFrame, column: str = "rho_truth") -> list[float]:
    """Per seed, the mean over test clips of a Spearman ρ column (NaN clips left out)."""
    return [float(g[column].mean()) for _, g in agreement.groupby("seed")]


def tendency_claim(agree: dict[str, pd.DataFrame], column: str = "rho_truth") -> pd.DataFrame:
    """Figure 5's claim, that after calibration k follows the intensity tendency: per variant,
    ρ(k, ·) mean over clips, per seed, its mean with a 95 % interval; the claim holds for a
    variant when the interval is above 0."""
    rows = []
    for name, a in agree.items():
        vals = [v for v in rho_by_seed(a, column) if np.isfinite(v)]
        if not vals:
            rows.append({"variant": name, f"mean {column}": np.nan, "95% interval": "k constant", "verdict":
                         "does not hold here (k constant)"})
            continue
        s = seed_interval(vals)
        rows.append({"variant": name, f"mean {column}": round(s["mean"], 3),
                     "95% interval": f"[{s['ci_low']:.3f}, {s['ci_high']:.3f}]" if s["n"] > 1 else "—", "seeds": s["n"],
                     "verdict": verdict(s["ci_low"], s["ci_high"]) if s["n"] > 1 else "one seed: no interval"})
    return pd.DataFrame(rows)


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
            row |= {"ours": "—", "verdict": f"not testable here (this profile's data is {dataset})"}
        else:
            s = summary["summary"]["pooled_accuracy"]
            lo, hi = 100 * s["ci_low"], 100 * s["ci_high"]
            row |= {"ours": f"{100 * s['mean']:.2f} [{lo:.1f}, {hi:.1f}]",
                    "verdict": "holds here" if v <= hi else "does not hold here (ours lower)"}
        rows.append(row)
    return pd.DataFrame(rows)
