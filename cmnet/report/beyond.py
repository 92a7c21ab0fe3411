"""Chapter 10's tables and sentences (beyond the paper), from the studies' artifacts.

    inflation_table(runs, labels, metric)    honest, ORACLE and inflation per variant, in %
    rho_tables(runs, labels, amplitudes)     ρ(k, truth): overall, by true class, by amplitude third
    rho_signs(runs, labels)                  per model (seed, fold): does k rise with the truth?
    tendency_table(summaries, rho, labels)   L_Wrst, no tendency loss and L_ρ side by side
    inflation_sentence(runs)                 the oracle's inflation in words

Accuracies' intervals are over seeds (cmnet.statistics.stats.seed_interval, as the studies'
summaries give them); ρ's over subjects on Fisher's scale (cmnet.statistics.stats.fisher_interval:
inside [−1, 1]); every cell through cmnet.report.prose's formatters (percent, pp, ρ).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .analyses import oracle_inflation, rho_truth_summary
from .prose import chapter_ref, estimate_pct, estimate_pp, estimate_rho, fixed, pct, pp, rho


def seed_cell(s: dict, percent: bool = True, digits: int = 1, points: bool = False) -> str:
    """mean [95 % interval over seeds] of a seed_interval dict, the unit once ('41.2 [30.0, 50.0] %';
    ``points``: a difference, in the column's unit pp, '+1.2 [−0.4, +2.8]'); '(one seed)' with one."""
    if not np.isfinite(s.get("mean", np.nan)):
        return "–"
    if s.get("n", 1) < 2:
        one = pp(s["mean"], digits).removesuffix(" pp") if points else pct(s["mean"], digits) if percent else \
            fixed(s["mean"], 2)
        return f"{one} (one seed)"
    if points:
        return estimate_pp(s["mean"], s["ci_low"], s["ci_high"], digits).removesuffix(" pp")
    if percent:
        return estimate_pct(s["mean"], s["ci_low"], s["ci_high"], digits)
    return f"{fixed(s['mean'], 2)} [{fixed(s['ci_low'], 2)}, {fixed(s['ci_high'], 2)}]"


def inflation_table(runs: dict, labels: dict, metric: str = "accuracy") -> pd.DataFrame:
    """Per variant: the honest fold mean (last epoch), the ORACLE's (per fold the epoch best on
    the test subject) and the inflation, each mean [95 % interval] over seeds, in %."""
    rows = []
    for v, folder in runs.items():
        o = oracle_inflation(folder)["summary"]
        name = {"accuracy": "acc", "uf1": "UF1"}.get(metric, metric)
        rows.append({"variant": labels.get(v, v), f"honest {name}": seed_cell(o[f"honest_{metric}"]),
                     f"ORACLE {name}": seed_cell(o[f"oracle_{metric}"]),
                     f"inflation {name} (pp), ORACLE − honest": seed_cell(o[f"inflation_{metric}"], points=True)})
    return pd.DataFrame(rows)


def _rho_cell(r) -> str:
    """ρ [95 % interval over subjects, Fisher's z] (analyses.rho_truth_summary); one subject: ρ alone."""
    if not np.isfinite(r.rho):
        return "–"
    if r.subjects < 2:
        return f"{rho(r.rho)} (one subject)"
    return estimate_rho(r.rho, r.ci_low, r.ci_high)


def rho_tables(runs: dict, labels: dict, amplitudes: dict | None = None) -> dict[str, pd.DataFrame]:
    """ρ(k, truth) per variant with k, ρ [95 % interval over subjects] (Fisher's z; the subjects'
    mean ρ over their clips and seeds): "all" (ρ, clips, clips where k is constant), "by class"
    (one column per true class), "by amplitude" (thirds of the clip's true amplitude, the pixel
    range in the column name; only with ``amplitudes``)."""
    out = {"all": [], "by class": [], "by amplitude": []}
    for v, folder in runs.items():
        name = labels.get(v, v)
        r = rho_truth_summary(folder).iloc[0]
        out["all"].append({"variant": name, "ρ(k, truth)": _rho_cell(r), "clips": int(r.clips),
                           "k constant": int(r.clips_without_rho)})
        out["by class"].append({"variant": name, **{g.group: _rho_cell(g) for g in
                                                    rho_truth_summary(folder, by="class").itertuples()}})
        if amplitudes is not None:
            amp = rho_truth_summary(folder, by="amplitude", amplitudes=amplitudes)
            out["by amplitude"].append({"variant": name, **{(f"{g.group} ({g.amplitude_px} px)" if g.amplitude_px
                                                             else g.group): _rho_cell(g) for g in amp.itertuples()}})
    return {k: pd.DataFrame(v) for k, v in out.items() if v}


def rho_signs(runs: dict, labels: dict) -> pd.DataFrame:
    """Per variant: of its trained models (one per seed and fold: analyses.model_folds), how many
    have a positive mean ρ(k, truth) over their test clips, and the mean |ρ| (a mean near 0 over
    seeds can hide models that follow the truth with opposite signs)."""
    from .analyses import _clip_subjects, model_folds
    from .tables import intensity_agreement

    rows = []
    for v, folder in runs.items():
        a = intensity_agreement(folder).dropna(subset=["rho_truth"])
        fold_of = model_folds(folder)
        a["fold"] = [fold_of[s] for s in _clip_subjects(folder, a["clip"])]
        per_model = a.groupby(["seed", "fold"])["rho_truth"].mean()
        rows.append({"variant": labels.get(v, v), "models (seed × fold)": len(per_model),
                     "models with ρ > 0": int((per_model > 0).sum()),
                     "mean |ρ| over models": rho(float(per_model.abs().mean())) if len(per_model) else "–"})
    return pd.DataFrame(rows)


def tendency_table(summaries: dict, rho_all: pd.DataFrame, labels: dict,
                   variants=("cmnet", "cmnet_no_wrst", "cmnet_spearman")) -> pd.DataFrame:
    """The tendency losses side by side: pooled accuracy and UF1 (mean [95 % interval] over
    seeds, in %) and ρ(k, truth)."""
    rho = rho_all.set_index("variant")["ρ(k, truth)"]
    rows = []
    for v in variants:
        s = summaries[v]["summary"]
        name = labels.get(v, v) + (" (no tendency loss)" if v == "cmnet_no_wrst" else "")
        rows.append({"variant": name, "accuracy, pooled": seed_cell(s["pooled_accuracy"]),
                     "UF1, pooled": seed_cell(s["pooled_uf1"]), "ρ(k, truth)": rho.get(labels.get(v, v), "–")})
    return pd.DataFrame(rows)


def inflation_sentence(runs: dict, metric: str = "accuracy") -> str:
    """How much the oracle adds, over the variants (fold means), and for how many the interval
    over seeds lies above 0."""
    infl = {v: oracle_inflation(f)["summary"][f"inflation_{metric}"] for v, f in runs.items()}
    above = [v for v, s in infl.items() if s["n"] > 1 and s["ci_low"] > 0]
    means = [s["mean"] for s in infl.values()]
    return (f"Choosing the epoch on the test subject adds {pp(min(means))} to {pp(max(means))} of {metric} (fold "
            f"means); the interval over seeds lies above 0 for {len(above)} of the {len(infl)} variants. These are "
            f"ORACLE numbers: the honest ones are the tables of {chapter_ref(4, 'chapters 4')}–{chapter_ref(7, '7')}.")


def last_epoch_share(selection: pd.DataFrame) -> float:
    """The fraction of folds whose best test epoch is their last (cmnet.report.analyses.epoch_selection)."""
    return float((selection.best_epoch == selection.epochs).mean())


def above_below(claims: pd.DataFrame, metric: str = "uf1") -> str:
    """From reference_claims ("<ref> above <row>"): for how many rows the reference is above,
    below, or not distinguishable, in words."""
    t = claims[claims.metric == metric]
    held = [c.split(" above ", 1)[1] for c, w in zip(t.claim, t.verdict) if str(w).startswith("holds")]
    rev = [c.split(" above ", 1)[1] for c, w in zip(t.claim, t.verdict) if str(w).startswith("reversed")]
    name = {"accuracy": "accuracy", "uf1": "UF1"}.get(metric, metric)
    return (f"In {name}, repaired CMNet is above {len(held)} of the {len(t)} rows ({'; '.join(held) or 'none'}), "
            f"below {len(rev)} ({'; '.join(rev) or 'none'}); the others cannot be told from it here (Holm over "
            "the table).")


def controls_sentence(controls: pd.DataFrame) -> str:
    """The controls' verdicts (cmnet.statistics.controls.controls_summary) grouped: '<verdict> for
    A, B; <other verdict> for C.'"""
    groups: dict[str, list[str]] = {}
    for name, word in zip(controls.variant, controls["k follows the intensity"]):
        groups.setdefault(str(word), []).append(str(name))
    return "; ".join(f"{w} — {', '.join(names)}" for w, names in groups.items()) + "."
