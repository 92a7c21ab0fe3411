"""The positive controls for intensity weighting (chapter 8): how much is there to gain on this
data by weighting frames by their intensity, and what does this ICE learn of it?

    t = controls_accuracy()      per control arm at the book's strength: accuracy, Δ against the
                                 baseline with its subject-clustered test, ρ(k, truth) beside the
                                 controls that read no image (and motion energy, which reads it)
    s = controls_sentence(t)     the chapter's result, in words, from the table

The arms (cmnet.variants): *oracle k* (the clip's true intensity as k, no ICE: labelled an oracle
wherever it appears), *prototype k* (the prototype's mean from the annotated apex, no ICE: available
on real data), *supervised k* (the ICE taught the truth), the trained rows (L_C + L_ID, CMNet) and
CMNet with k starting outside the prototype's range (where L_Wrst acts). All from the dose–response
profile at the book's strength (results/cpu_dose05-*: cmnet.report.dose).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..runs import layout as L
from ..variants import LABELS
from ..statistics.controls import intensity_controls, subject_mean_test
from .dose import DOSE_PROFILES, _learned, read_motion, subject_accuracy
from ..statistics.verdicts import clip_table, compare, holm, verdict

CONTROL_ARMS = ("oracle_k", "oracle_k_lr0.02", "prototype_k", "supervised_k", "cmnet", "cmnet_no_wrst",
                "cmnet_wrst_outside")
SHORT = {"oracle_k": "oracle k", "oracle_k_lr0.02": "oracle k at lr 0.02", "prototype_k": "prototype k", "supervised_k": "supervised k", "cmnet": "CMNet",
         "cmnet_no_wrst": "L_C + L_ID", "cmnet_wrst_outside": "CMNet, L_Wrst acting", "baseline": "baseline (L_C)"}


def controls_accuracy(profile: str = DOSE_PROFILES[0.5], results_dir: str | Path = "results", classes=None,
                      n_boot: int = 4000) -> pd.DataFrame:
    """A row per control arm whose study is committed: accuracy (with its subject interval), Δ
    against the baseline on the same clips (95 % subject-clustered interval, p, Holm over this
    table's rows, smallest detectable difference, verdict: Δ > 0 is the arm above the baseline),
    and its k against the truth: ρ(k, truth), ρ of the fixed bump and of motion energy, and k's
    gain over the bump with its subject interval."""
    from ..preprocess.prepare import CLASSES

    classes = list(classes or CLASSES["synthme"])
    root = Path(results_dir)
    base = root / f"{profile}-baseline"
    if not (base / L.PREDICTIONS_TABLE).is_file():
        raise FileNotFoundError(f"{base}: the baseline of the controls is not committed (make dose)")
    try:
        motion = read_motion(profile, results_dir)
    except FileNotFoundError:
        motion = None
    base_clips = clip_table(base)
    rows = []
    for arm in CONTROL_ARMS:
        path = root / f"{profile}-{arm}"
        if not (path / L.PREDICTIONS_TABLE).is_file():
            continue
        clips = clip_table(path)
        c = compare(clips, base_clips, classes, ("accuracy",), n_boot).iloc[0]
        k = intensity_controls(path, motion=motion)
        gain = subject_mean_test(k, "gain")
        rows.append({"arm": arm, "row": SHORT[arm], "label": LABELS.get(arm, arm), **subject_accuracy(clips),
                     "train acc": _learned(path, {})["train acc"],
                     "delta": c.delta, "d_low": c.ci_low, "d_high": c.ci_high, "p": c.p, "mde": c.mde,
                     "rho_k": float(k.rho_k.mean()), "rho_bump": float(k.rho_bump.mean()),
                     "rho_motion": float(k.rho_motion.mean()) if "rho_motion" in k else np.nan,
                     "gain": gain["mean"], "gain_low": gain["ci_low"], "gain_high": gain["ci_high"]})
    t = pd.DataFrame(rows)
    if t.empty:
        raise FileNotFoundError(f"no control arm of {profile} is committed under {results_dir} (make dose)")
    t["p_holm"] = holm(t.p)
    t["verdict"] = [verdict(r.delta, r.p_holm, r.mde) for r in t.itertuples()]
    t.attrs["baseline"] = subject_accuracy(base_clips)["accuracy"]
    t.attrs["baseline_train"] = _learned(base, {})["train acc"]
    return t


def controls_page(t: pd.DataFrame) -> pd.DataFrame:
    """The table as the chapter shows it: words for headers, percent and points, one interval each."""
    from .prose import estimate_diff, estimate_pp, pp

    return pd.DataFrame({
        "row": t.row, "accuracy": t.accuracy,
        "Δ vs baseline": [estimate_pp(r.delta, r.d_low, r.d_high) for r in t.itertuples()],
        "smallest detectable": [pp(m, signed=False) for m in t.mde],
        "verdict (vs baseline)": t.verdict,
        "ρ(k, truth)": t.rho_k.round(2), "ρ(bump, truth)": t.rho_bump.round(2),
        "ρ(motion, truth)": t.rho_motion.round(2),
        "k's gain over the bump": [estimate_diff(g, lo, hi) for g, lo, hi in zip(t.gain, t.gain_low, t.gain_high)]})


def controls_sentence(t: pd.DataFrame) -> str:
    """What the positive controls say: how much the oracle gains over the baseline (and whether it fitted
    its training clips as well), whether the prototype and the supervised ICE get any of it, and whether
    the trained ICE's k follows the truth."""
    from .prose import estimate_pp, listing, pct, pp, rho

    r = {row["arm"]: row for row in t.to_dict("records")}
    rate = {"oracle_k": "the tuned rate", "oracle_k_lr0.02": "lr 0.02"}
    parts = []
    oracles = [a for a in rate if a in r]
    if oracles:
        best = max(oracles, key=lambda a: r[a]["delta"])
        o = r[best]
        above = any(r[a]["p_holm"] < 0.05 and r[a]["delta"] > 0 for a in oracles)
        fits = listing([f"{pct(r[a]['train acc'])} at {rate[a]}" for a in oracles])
        parts.append(f"Given the true intensity as k, CMNet reaches at best {pct(o['accuracy'])} ({rate[best]}) "
                     f"against the baseline's {pct(t.attrs['baseline'])} ({estimate_pp(o['delta'], o['d_low'], o['d_high'])}; "
                     f"its training accuracy {fits}, the baseline's "
                     f"{pct(t.attrs.get('baseline_train', np.nan))}): "
                     + ("weighting frames by their intensity **can** lift accuracy on this data, so a loss that "
                        "teaches k the intensity had something to gain."
                        if above else "even an oracle k does not lift accuracy here beyond what this design can "
                        f"detect ({pp(o['mde'], signed=False)}), so on this data no loss that teaches k could show the paper's "
                        "gain; a verdict on L_ID or L_Wrst here is a statement about the data as much as about CMNet."))
    for arm in ("prototype_k", "supervised_k", "cmnet"):
        if arm in r:
            a = r[arm]
            parts.append(f"{SHORT[arm]}: {pct(a['accuracy'])}, {estimate_pp(a['delta'], a['d_low'], a['d_high'])} "
                         f"against the baseline, ρ(k, truth) = {rho(a['rho_k'])}.")
    return " ".join(parts)


def wrst_where_it_acts(profile: str = DOSE_PROFILES[0.5], results_dir: str | Path = "results", classes=None,
                       n_boot: int = 4000) -> dict | None:
    """Table 3's "adding L_Wrst helps", tested where the term acts: CMNet with k starting outside
    the prototype's range (cmnet_wrst_outside) against L_C + L_ID on the same clips, with L_Wrst's
    share of epochs above zero and of the gradient in that row. None where either is not committed."""
    from ..preprocess.prepare import CLASSES
    from .tables import loss_terms

    root = Path(results_dir)
    a, b = root / f"{profile}-cmnet_wrst_outside", root / f"{profile}-cmnet_no_wrst"
    if not ((a / L.PREDICTIONS_TABLE).is_file() and (b / L.PREDICTIONS_TABLE).is_file()):
        return None
    c = compare(clip_table(a), clip_table(b), list(classes or CLASSES["synthme"]), ("accuracy",), n_boot).iloc[0]
    terms = {r["term"]: r for r in loss_terms(a)}
    w = terms.get("L_Wrst", {})
    return {"delta": c.delta, "ci_low": c.ci_low, "ci_high": c.ci_high, "p": c.p, "mde": c.mde,
            "verdict": verdict(c.delta, c.p, c.mde), "epochs_active": w.get("epochs above zero", np.nan),
            "steps_active": w.get("steps above zero", np.nan), "gradient_share": w.get("gradient share", np.nan)}


def wrst_sentence(r: dict | None) -> str:
    """:func:`wrst_where_it_acts` in words."""
    from .prose import estimate_pp, pct

    if r is None:
        return "The test of L_Wrst where it acts is not among the committed results yet (`make dose`)."
    return (f"Where L_Wrst acts (k starting outside the prototype's range: the term was above zero in "
            f"{pct(r['epochs_active'])} of epochs and {pct(r['steps_active'])} of steps, "
            f"{pct(r['gradient_share'])} of the gradient), adding it to L_C + L_ID gives "
            f"{estimate_pp(r['delta'], r['ci_low'], r['ci_high'])} in accuracy: {r['verdict']}.")
