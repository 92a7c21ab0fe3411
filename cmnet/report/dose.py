"""Where does magnification pay? The dose–response over motion strength, and the second draw.

    t = dose_table()            per (motion strength, arm): accuracy with its subject interval, chance
    c = dose_contrasts()        per motion strength: CMNet − baseline and oracle k − baseline (and the
                                second draw's), Δ with the subject-clustered test of cmnet.statistics.verdicts
    fig = dose_figure(t)        accuracy against motion strength, an interval per point, chance drawn

The profiles (params/cpu_dose05.yaml, cpu_dose1.yaml, cpu_dose2.yaml; params/cpu_draw2.yaml) share
one design and differ only in ``synth_difficulty`` (and, for the second draw, ``synth_seed``): the
same subjects at every strength (generator seed 0, as the book), weaker motion and more nuisances
as the difficulty grows. An arm's accuracy interval is over subjects: the subjects' accuracies,
Student t on S − 1 degrees of freedom (with 10 clips a subject the pooled accuracy is their mean).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..runs import layout as L
from .figstyle import styled
from ..statistics.verdicts import ALPHA, clip_table, compare, holm, verdict

DOSE_PROFILES = {0.5: "cpu_dose05", 1.0: "cpu_dose1", 2.0: "cpu_dose2"}
DRAW2_PROFILE, DRAW2_BESIDE = "cpu_draw2", 0.5  # the second draw repeats this strength on other subjects
DOSE_ARMS = ("baseline", "cmnet", "oracle_k", "mmnet")  # with the plain classifier (results/<profile>-plain)
DRAW2_ARMS = ("baseline", "cmnet", "oracle_k")
# at the book's strength only: the other controls, L_C + L_ID (the probe's trained ICE) and L_Wrst acting
DOSE_CONTROLS = ("prototype_k", "supervised_k", "cmnet_no_wrst", "cmnet_wrst_outside", "oracle_k_lr0.02")
CONTRASTS = (("cmnet", "baseline"), ("oracle_k", "baseline"))
# the probe (cmnet.fold.probe) of these arms' ICE and of the ICE at initialisation, and every clip's
# motion energy, at the book's strength: results/<profile>-probe/ (tools/sensitivity.py probe)
PROBE_ARMS = ("cmnet_no_wrst", "cmnet")
PROBE_FILE, MOTION_FILE = "probe.csv", "motion.npz"
ARM_NAMES = {"plain": "plain classifier", "baseline": "baseline (L_C)", "cmnet": "CMNet",
             "oracle_k": "oracle k", "mmnet": "MMNet"}


def dose_studies(results_dir: str | Path = "results", draw2: bool = False) -> dict[tuple[float, str], Path]:
    """(motion strength, arm) → its committed results folder, for those that exist (``draw2``: the
    second draw's, keyed by the strength it repeats)."""
    profiles = {DRAW2_BESIDE: DRAW2_PROFILE} if draw2 else DOSE_PROFILES
    arms = ("plain", *(DRAW2_ARMS if draw2 else DOSE_ARMS))
    out = {}
    for d, prof in profiles.items():
        for arm in arms:
            p = Path(results_dir) / f"{prof}-{arm}"
            if (p / L.PREDICTIONS_TABLE).is_file():
                out[(d, arm)] = p
    return out


def probe_folder(profile: str = DOSE_PROFILES[0.5], results_dir: str | Path = "results") -> Path:
    return Path(results_dir) / f"{profile}-probe"


def read_motion(profile: str = DOSE_PROFILES[0.5], results_dir: str | Path = "results") -> dict[str, np.ndarray]:
    """Clip key → its motion-energy curve, as committed by ``tools/sensitivity.py probe``."""
    with np.load(probe_folder(profile, results_dir) / MOTION_FILE) as z:
        return dict(zip(z["keys"].astype(str), z["motion"]))


def probe_table(profile: str = DOSE_PROFILES[0.5], results_dir: str | Path = "results") -> pd.DataFrame:
    """Per probed ICE: R² and ρ(probe, truth) on the test subjects, means over folds with their range."""
    p = pd.read_csv(probe_folder(profile, results_dir) / PROBE_FILE)
    g = p.groupby("arm", sort=False)
    return pd.DataFrame({"R² (test subjects)": g.r2.mean(), "R², lowest fold": g.r2.min(),
                         "ρ(probe, truth)": g.rho.mean(), "folds": g.size()})


def subject_accuracy(clips: pd.DataFrame) -> dict:
    """The accuracy of a clip table (:func:`cmnet.statistics.verdicts.clip_table`) over its clips, and
    the 95 % interval of the mean over subjects (each subject's accuracy over its clips and seeds)."""
    from scipy.stats import t as student_t

    right = clips.pred.astype(str) == clips.label.astype(str)
    per_subject = right.groupby(clips.subject.astype(str)).mean()
    s = len(per_subject)
    mean = float(per_subject.mean())
    if s < 2:
        return {"accuracy": float(right.mean()), "ci_low": np.nan, "ci_high": np.nan, "subjects": s}
    half = float(student_t.ppf(1 - ALPHA / 2, s - 1)) * float(per_subject.std(ddof=1)) / np.sqrt(s)
    return {"accuracy": float(right.mean()), "subject mean": mean, "ci_low": mean - half, "ci_high": mean + half,
            "subjects": s}


def dose_table(results_dir: str | Path = "results", draw2: bool = False) -> pd.DataFrame:
    """A row per (motion strength, arm): accuracy, its subject interval, subjects, and chance."""
    import json

    rows = []
    for (d, arm), path in dose_studies(results_dir, draw2).items():
        summary = json.loads((path / L.SUMMARY).read_text())
        n_classes = len(summary.get("classes") or []) or 5
        rows.append({"difficulty": d, "arm": arm, "row": ARM_NAMES[arm], **subject_accuracy(clip_table(path)),
                     "chance": 1 / n_classes, **_learned(path, summary)})
    if not rows:
        raise FileNotFoundError(f"no dose–response results under {results_dir} (make dose)")
    return pd.DataFrame(rows).sort_values(["difficulty", "arm"], ignore_index=True)


def _learned(path: Path, summary: dict) -> dict:
    """Did the arm fit its training data, and did its loss move? The last epoch's training accuracy
    and the training loss at the first and last epoch (means over folds); for the plain classifier
    its fit to its own training clips."""
    if "train_accuracy" in summary:  # the plain classifier (cmnet.report.plain)
        return {"train acc": float(summary["train_accuracy"]), "loss first": np.nan, "loss last": np.nan}
    m = L.read_epochs(path)
    if m.empty:
        return {"train acc": np.nan, "loss first": np.nan, "loss last": np.nan}
    first, last = m[m.epoch == m.epoch.min()], m[m.epoch == m.epoch.max()]
    return {"train acc": float(last.train_acc.mean()), "loss first": float(first.train_loss.mean()),
            "loss last": float(last.train_loss.mean())}


def learning_page(table: pd.DataFrame) -> pd.DataFrame:
    """Per (strength, arm): its training accuracy at the last epoch and its training loss from the
    first to the last epoch (a number counts only once its model has learned)."""
    from .prose import pct

    return pd.DataFrame({"difficulty": [f"{d:g}" for d in table.difficulty], "row": table.row,
                         "train acc, last epoch": [pct(x) for x in table["train acc"]],
                         "training loss, first → last": [("—" if not np.isfinite(a) else f"{a:.3f} → {b:.3f}")
                                                         for a, b in zip(table["loss first"], table["loss last"])]})


def dose_contrasts(results_dir: str | Path = "results", classes=None, n_boot: int = 4000,
                   draw2: bool = True) -> pd.DataFrame:
    """Per motion strength (and for the second draw): Δ accuracy of each of CONTRASTS with its
    95 % subject-clustered interval, p, Holm's p over this table's rows, the smallest detectable
    difference and the verdict (Δ > 0 is the better arm above; no paper Δ at these strengths)."""
    from ..preprocess.prepare import CLASSES

    classes = list(classes or CLASSES["synthme"])
    studies = dose_studies(results_dir) | {("second draw", a): p for (_, a), p in
                                           (dose_studies(results_dir, draw2=True).items() if draw2 else [])}
    rows = []
    for (d, arm), path in studies.items():
        for better, worse in CONTRASTS:
            if arm != better or (d, worse) not in studies:
                continue
            c = compare(clip_table(path), clip_table(studies[(d, worse)]), classes, ("accuracy",), n_boot).iloc[0]
            rows.append({"difficulty": d, "contrast": f"{ARM_NAMES[better]} − {ARM_NAMES[worse]}", "delta": c.delta,
                         "ci_low": c.ci_low, "ci_high": c.ci_high, "p": c.p, "mde": c.mde, "subjects": c.subjects})
    t = pd.DataFrame(rows)
    if t.empty:
        return t
    t["p_holm"] = holm(t.p)
    t["verdict"] = [verdict(r.delta, r.p_holm, r.mde) for r in t.itertuples()]
    return t


@styled
def dose_figure(table: pd.DataFrame):
    """Accuracy (percent) against motion strength, one line per arm, each point's subject interval
    as a bar, chance as a dashed line; the strength axis runs from strong motion to weak."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.2))
    strengths = sorted(table.difficulty.unique())
    offsets = np.linspace(-0.04, 0.04, max(1, table.arm.nunique()))
    for off, (arm, g) in zip(offsets, table.groupby("arm", sort=False)):
        g = g.sort_values("difficulty")
        x = np.log2(g.difficulty.to_numpy(float)) + off
        y = 100 * g.accuracy.to_numpy(float)
        err = 100 * np.vstack([g["subject mean"] - g.ci_low, g.ci_high - g["subject mean"]])
        ax.errorbar(x, y, yerr=err, marker="o", capsize=3, label=ARM_NAMES.get(arm, arm))
    ax.axhline(100 * float(table.chance.iloc[0]), ls="--", color="grey", lw=1, label="chance")
    ax.set_xticks(np.log2(strengths), [f"{d:g}" for d in strengths])
    ax.set_xlabel("SynthME difficulty (motion strength falls to the right)")
    ax.set_ylabel("accuracy (%), 95 % interval over subjects")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)  # beside the data, never over it
    fig.tight_layout()
    return fig


def dose_page(table: pd.DataFrame) -> pd.DataFrame:
    """The dose–response table as shown: a row per arm, a column per strength, accuracy with its
    subject interval."""
    from .prose import estimate_pct

    cells = {(r.row, r.difficulty): estimate_pct(r.accuracy, r.ci_low, r.ci_high) for r in table.itertuples()}
    arms = list(dict.fromkeys(table.sort_values("arm", key=lambda s: s.map(_ORDER)).row))
    strengths = sorted(table.difficulty.unique())
    return pd.DataFrame([{"row": a, **{f"difficulty {d:g}": cells.get((a, d), "—") for d in strengths}}
                         for a in arms])


_ORDER = {a: i for i, a in enumerate(("plain", *DOSE_ARMS))}


def contrasts_page(t: pd.DataFrame) -> pd.DataFrame:
    """The contrasts as shown: Δ with its interval in points, the smallest detectable, the verdict."""
    from .prose import estimate_pp, pp

    return pd.DataFrame({"data": [f"difficulty {d:g}" if not isinstance(d, str) else f"{d} (difficulty {DRAW2_BESIDE:g})"
                                  for d in t.difficulty],
                         "contrast": t.contrast,
                         "Δ accuracy": [estimate_pp(r.delta, r.ci_low, r.ci_high) for r in t.itertuples()],
                         "p (Holm)": t.p_holm,
                         "smallest detectable": [pp(m, signed=False) for m in t.mde], "verdict": t.verdict})


def dose_sentence(table: pd.DataFrame, contrasts: pd.DataFrame) -> str:
    """Where magnification pays, in words: the plain classifier's fall with the motion strength,
    and at each strength whether CMNet and the oracle are above the baseline."""
    from .prose import estimate_pp, listing, pct

    plain = table[table.arm == "plain"].sort_values("difficulty")
    parts = []
    if len(plain) > 1:
        parts.append(f"The plain classifier falls from {pct(plain.accuracy.iloc[0])} at difficulty "
                     f"{plain.difficulty.iloc[0]:g} to {pct(plain.accuracy.iloc[-1])} at {plain.difficulty.iloc[-1]:g} "
                     f"(chance {pct(plain.chance.iloc[0])}).")
    for name in ("CMNet − baseline (L_C)", "oracle k − baseline (L_C)"):
        rows = contrasts[contrasts.contrast == name]
        if rows.empty:
            continue
        said = [f"{estimate_pp(r.delta, r.ci_low, r.ci_high)} at "
                + (f"difficulty {r.difficulty:g}" if not isinstance(r.difficulty, str) else "the second draw")
                for r in rows.itertuples()]
        above = [r for r in rows.itertuples() if r.p_holm < 0.05 and r.delta > 0]
        parts.append(f"{name}: {listing(said)}; " + (f"above the baseline in {len(above)} of {len(rows)}."
                                                      if above else "above the baseline at no strength."))
    near = table[(table.arm != "plain") & (table.accuracy < 1.5 * table.chance)].rename(columns={"train acc": "train"})
    if len(near):  # why a row sits near chance: did it fit its training clips (a run that trained), or not?
        fitted = near[near.train >= 2 * near.chance]
        said = listing([f"{r.row} at {r.difficulty:g} ({pct(r.accuracy)} held out, {pct(r.train)} on its training "
                        "clips)" for r in near.itertuples()])
        why = ("each fitted its training clips (at least twice chance there), so none is a run that failed to train: "
               "with motion this weak at this frame size and this few training subjects, what they fit does not carry "
               "to new subjects" if len(fitted) == len(near) else
               f"{len(fitted)} of them fitted their training clips (at least twice chance there); the others did not "
               "fit even those, so at this budget they did not learn")
        parts.append(f"Near chance (below 1.5 × chance): {said}; {why}.")
    return " ".join(parts)
