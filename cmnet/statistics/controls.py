"""Does k follow the clip's intensity, or only the shape every clip shares? ρ(k, truth) beside
controls that read no image, and the measures a fixed shape cannot win.

    c = intensity_controls(study)     per test clip: ρ(·, truth) of k and of three controls, the
                                      gain of k over the fixed bump, the apex errors
    s = controls_summary({variant: c, …})   per variant: the means, the gain and the apex error
                                      advantage with subject-clustered intervals, and the verdict

The controls, per test clip of fold f (seed r): the *fixed bump*, the mean truth curve of the
clips fold f trained on (every other subject, the same seed), the same curve for every clip;
the *prototype* from the clip's annotated apex (the Gaussian mean q_mean the model was
calibrated against); *random* (a seeded uniform draw); where given, *motion energy* (each frame's
mean absolute difference from the onset frame: reads the image, learns nothing). The *gain* is ρ(k, truth) − ρ(fixed bump,
truth) per clip; the *apex error* is |argmax k − the annotated apex| against |the training
clips' median apex − the annotated apex| (always guessing the usual frame). "k follows the
intensity" holds only when the gain is above 0 (a fixed shape cannot reach it); the apex
advantage is reported beside it. Intervals: the subjects' means, Student t on S − 1 df (the
unit is the subject, as in cmnet.statistics.verdicts).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..formats import estimate_diff, fixed
from ..runs import layout as L
from .verdicts import ALPHA, HOLDS, NOT_DISTINGUISHABLE, POWER, REVERSED, t_test

CONTROL_COLUMNS = ("rho_k", "rho_bump", "rho_prototype", "rho_random")


def _rho(x: np.ndarray, t: np.ndarray) -> float:
    from scipy.stats import spearmanr

    if not (np.isfinite(x).all() and np.isfinite(t).all()) or np.ptp(x) == 0 or np.ptp(t) == 0:
        return float("nan")
    return float(spearmanr(x, t).statistic)


def intensity_controls(study: str | Path, seed: int = 0, motion: dict | None = None) -> pd.DataFrame:
    """Per test clip of a study with k (runs/<study>/ or results/<study>/): seed, key, subject,
    ρ(k, truth), ρ of the three controls, the gain over the bump, k's range, the apex errors.
    ``motion``: clip key → its motion-energy curve (cmnet.fold.probe.motion_energy), a fourth
    control that reads the image and learns nothing (``rho_motion``)."""
    rec = L.read_intensity(study)
    preds = L.read_predictions(study)
    subject_of = dict(zip(preds.key.astype(str), preds.subject.astype(str)))
    keys = rec["keys"].astype(str)
    subj = np.array([subject_of.get(k, k.split("/")[-2] if k.count("/") >= 2 else k) for k in keys])
    seeds, truth, apex = rec["seed"].astype(int), rec["truth"].astype(float), rec["apex"].astype(int)
    rng = np.random.default_rng(seed)
    rows = []
    for i, key in enumerate(keys):
        train = (seeds == seeds[i]) & (subj != subj[i]) & np.isfinite(truth).all(1)
        bump = truth[train].mean(0) if train.any() else np.full(truth.shape[1], np.nan)
        guess = float(np.median(apex[train])) if train.any() else np.nan
        k, t = rec["k"][i].astype(float), truth[i]
        row = {"seed": int(seeds[i]), "key": key, "subject": subj[i], "rho_k": _rho(k, t), "rho_bump": _rho(bump, t),
               "rho_prototype": _rho(rec["q_mean"][i].astype(float), t),
               "rho_random": _rho(rng.random(len(t)), t), "k_range": float(np.ptp(k)),
               "apex_error_k": float(abs(int(np.argmax(k)) - apex[i])), "apex_error_guess": float(abs(guess - apex[i]))}
        if motion is not None:
            row["rho_motion"] = _rho(np.asarray(motion[key], float), t) if key in motion else float("nan")
        row["gain"] = row["rho_k"] - row["rho_bump"]
        row["apex_advantage"] = row["apex_error_guess"] - row["apex_error_k"]
        rows.append(row)
    return pd.DataFrame(rows)


def subject_mean_test(per_clip: pd.DataFrame, column: str) -> dict:
    """Mean of ``column`` over subjects (each subject's clips averaged over seeds first; NaN
    clips left out), its 95 % interval and p against 0 (t on S − 1 df), the smallest mean the
    design detects with 80 % power."""
    from scipy.stats import t as student_t

    m = per_clip.dropna(subset=[column]).groupby("subject")[column].mean()
    s = len(m)
    if s < 2:
        return {"mean": float(m.mean()) if s else np.nan, "ci_low": np.nan, "ci_high": np.nan, "p": np.nan,
                "mde": np.nan, "subjects": s}
    se = float(m.std(ddof=1) / np.sqrt(s))
    q = float(student_t.ppf(1 - ALPHA / 2, s - 1))
    return {"mean": float(m.mean()), "ci_low": float(m.mean() - q * se), "ci_high": float(m.mean() + q * se),
            "p": t_test(float(m.mean()), se, s - 1), "mde": (q + float(student_t.ppf(POWER, s - 1))) * se,
            "subjects": s}


def _word(t: dict, what: str) -> str:
    if np.isfinite(t["p"]) and t["p"] < ALPHA:
        return f"{HOLDS}: {what}" if t["mean"] > 0 else f"{REVERSED}: the fixed control does better"
    if not np.isfinite(t["p"]):
        return "no test (fewer than 2 subjects, or k constant)"
    return f"{NOT_DISTINGUISHABLE} — smallest detectable {fixed(t['mde'], 2)}"


def _signed_interval(t: dict, digits: int) -> str:
    return estimate_diff(t["mean"], t["ci_low"], t["ci_high"], digits)


def controls_summary(per_variant: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per variant: the mean ρ(·, truth) of k and of each control (over clips), k's
    median range, the gain over the fixed bump and the apex advantage with their subject
    intervals, and the verdict on "k follows the intensity" (the gain's)."""
    rows = []
    for name, c in per_variant.items():
        g, a = subject_mean_test(c, "gain"), subject_mean_test(c, "apex_advantage")
        cols = CONTROL_COLUMNS + (("rho_motion",) if "rho_motion" in c else ())
        rows.append({"variant": name, **{f"ρ {col[4:]}": round(float(c[col].mean()), 3) for col in cols},
                     "k range (median)": round(float(c.k_range.median()), 4),
                     "gain over the bump": _signed_interval(g, 3),
                     "apex error k / guess (frames)": f"{fixed(c.apex_error_k.mean(), 2)} / "
                                                      f"{fixed(c.apex_error_guess.mean(), 2)}",
                     "apex advantage": _signed_interval(a, 2),
                     "subjects": g["subjects"],
                     "k follows the intensity": _word(g, "k reads the clip beyond the shape all clips share")})
    return pd.DataFrame(rows)


def fixed_bump_rho(clips, frames: int = 16) -> pd.DataFrame:
    """Before any training: how well the fixed bump (the mean truth curve of the other
    subjects' clips, each normalised to ``frames`` positions as the clip cache does) follows each
    clip's truth. ``clips``: a dataset's clips with their truth (SynthME, cmnet.data). One row per
    clip: key, subject, ρ(fixed bump, truth)."""
    from ..preprocess.temporal import positions

    keys, subj, curves = [], [], []
    for c in clips:
        if c.intensity is None:
            continue
        keys.append(c.key)
        subj.append(c.subject)
        curves.append(np.interp(positions(len(c), frames), np.arange(len(c)), np.asarray(c.intensity, float)))
    curves, subj = np.asarray(curves), np.asarray(subj)
    rows = [{"key": k, "subject": s, "rho_bump": _rho(curves[subj != s].mean(0), curves[i])}
            for i, (k, s) in enumerate(zip(keys, subj))]
    return pd.DataFrame(rows)
