"""The power calculation behind the edition's design, written down where chapter 9 can read it.

    doc = first_edition(results, "cpu")      the first edition's design and variance components and
                                             the smallest detectable difference at candidate designs
                                             (tools/first_edition_design.py commits it as
                                             results/power/first_edition.json)
    power_table(doc, chosen)                 that calculation as a table, the chosen design marked
    table3_differences(paper)                the paper's Table 3 differences (CASME II accuracy)
    clip_passes(protocol, S, c, K)           training cost of one epoch over every fold, in clip passes
    claims_power(claims, metric)             each claim row's Δ, interval, smallest detectable
                                             difference and verdict, side by side

The first edition (8 SynthME subjects × 10 clips, LOSO, 3 seeds) is replaced when the book is
republished, so its components are computed once and committed with the files they came from
(and their checksums); the calculation is then reproducible without those results.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from ..formats import count, num, pct, pp

# the rows of the claims chapter: the variants whose folds give the components
EDITION_VARIANTS = ("cmnet", "cmnet_printed", "cmnet_deterministic", "cmnet_random", "cmnet_no_id", "cmnet_no_wrst",
                    "baseline", "mmnet")
CANDIDATE_SUBJECTS = (8, 16, 24, 32, 48, 64)
CANDIDATE_SEEDS = (1, 2, 3)
FIRST_EDITION = Path("results/power/first_edition.json")
MDE = "smallest detectable (pp)"
# the paper's Table 3 contrasts: the full loss against each of its smaller rows
TABLE3 = (("L_C + L_ID + L_Wrst", "L_C"), ("L_C + L_ID + L_Wrst", "L_C + L_Wrst"),
          ("L_C + L_ID + L_Wrst", "L_C + L_ID"))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def first_edition(results: str | Path = "results", profile: str = "cpu", variants=EDITION_VARIANTS,
                  subjects=CANDIDATE_SUBJECTS, seeds=CANDIDATE_SEEDS, reps: int = 300, n_boot: int = 1000,
                  seed: int = 0) -> dict:
    """The design and variance components of the edition whose studies are
    ``results``/<profile>-<variant>/ (cmnet.statistics.calibration.edition_design), and the smallest
    detectable accuracy difference (80 % power, 5 % two-sided; the mean over ``reps`` A/A
    replicates) at every (subjects, seeds) of the candidates, the clips per subject kept. A
    JSON-ready dict naming every file it read, with its SHA-256."""
    from ..runs.layout import FOLDS_TABLE, PREDICTIONS_TABLE, SUMMARY
    from .calibration import edition_design, mde_table

    folders = {v: Path(results) / f"{profile}-{v}" for v in variants}
    design, comp = edition_design({v: str(f) for v, f in folders.items()})
    table = mde_table(design, subjects=subjects, seeds=seeds, reps=reps, n_boot=n_boot, seed=seed)
    read = sorted(p for f in folders.values() for p in f.iterdir() if p.name in (FOLDS_TABLE, PREDICTIONS_TABLE, SUMMARY))
    kept = (next(iter(folders.values())) / PREDICTIONS_TABLE).is_file()
    return {"edition": f"{profile}, {design.subjects} subjects × {design.clips} clips, {design.seeds} seeds "
                       f"({'per-clip predictions' if kept else 'LOSO folds tables'})",
            "computed_from": [{"file": str(p), "sha256": _sha256(p)} for p in read],
            "design": asdict(design), "components": comp,
            "simulation": {"reps": reps, "n_boot": n_boot, "seed": seed, "alpha": 0.05, "power": 0.80},
            "mde": table.to_dict(orient="records")}


def read_first_edition(path: str | Path = FIRST_EDITION) -> dict:
    return json.loads(Path(path).read_text())


def power_table(doc: dict, chosen: tuple[int, int] | None = None) -> pd.DataFrame:
    """Rows: subjects; columns: the smallest detectable difference (pp) at each number of seeds;
    the chosen (subjects, seeds) marked "◀" in a column of its own (the row it is in)."""
    t = pd.DataFrame(doc["mde"])
    wide = t.pivot(index="subjects", columns="seeds", values=MDE)
    wide.columns = [f"{s} seed{'s' if s > 1 else ''} (pp)" for s in wide.columns]
    wide = wide.reset_index()
    wide.insert(1, "test clips a seed", [s * doc["design"]["clips"] for s in wide.subjects])
    wide["chosen"] = ""
    if chosen is not None:
        s, r = chosen
        wide.loc[wide.subjects == s, "chosen"] = f"◀ {r} seed{'s' if r > 1 else ''}"
    return wide


def mde_at(doc: dict, subjects: int, seeds: int) -> float:
    """The calculation's smallest detectable difference (a fraction) at one candidate design
    (NaN where it was not a candidate)."""
    t = pd.DataFrame(doc["mde"])
    sel = t[(t.subjects == subjects) & (t.seeds == seeds)][MDE]
    return float(sel.iloc[0]) / 100 if len(sel) else float("nan")


def table3_differences(paper: pd.DataFrame, dataset: str = "casme2", mde: float | None = None) -> pd.DataFrame:
    """The paper's Table 3 differences (accuracy on ``dataset``, in points), and, with ``mde`` (a
    fraction), whether a design of that smallest detectable difference would see each."""
    t3 = paper[(paper.table == "Table 3") & (paper.method == "CMNet") & (paper.dataset == dataset)
               & (paper.metric == "accuracy")].set_index("variant").value_percent
    rows = []
    for a, b in TABLE3:
        row = {"contrast (Table 3)": f"{a} − ({b})" if "+" in b else f"{a} − {b}", "paper (pp)": round(float(t3[a] - t3[b]), 2)}
        if mde is not None:
            row["at least the smallest detectable"] = "yes" if t3[a] - t3[b] >= 100 * mde else "no"
        rows.append(row)
    return pd.DataFrame(rows)


def clip_passes(protocol: str, subjects: int, clips: int, k: int = 4) -> int:
    """Clip passes of one training epoch over every fold: LOSO trains S folds on S − 1 subjects'
    clips (S·(S − 1)·c), subject-grouped K-fold K folds on (K − 1)/K of them ((K − 1)·S·c)."""
    if protocol == "loso":
        return subjects * (subjects - 1) * clips
    if protocol == "kfold":
        return (k - 1) * subjects * clips
    raise ValueError(f"protocol must be 'loso' or 'kfold', got {protocol!r}")


PAIRED = "Δ (pp), better − worse, same clips"  # what every claims table's Δ pairs
# the interval is the row's own; the verdict reads p after Holm over the table's rows, so an interval
# that leaves out 0 can still be "not distinguishable" in a large family (the p (Holm) column says why)
INTERVAL = "95 % interval (pp), this row alone"


def claims_power(claims: pd.DataFrame, metric: str = "accuracy") -> pd.DataFrame:
    """The claims table (cmnet.statistics.claims.order_claims) for one metric, narrow: claim, the
    paper's Δ where it gives one, Δ, interval (unadjusted), the row's own smallest detectable difference,
    seeds, p after Holm over the table and the verdict it gives (its words without the MDE repeated,
    which has its column)."""
    t = claims[claims.metric == metric]
    words = t.verdict.str.replace(r" — smallest detectable difference .* pp$", "", regex=True)
    out = pd.DataFrame({"claim": t.claim, PAIRED: t["Δ (pp)"], INTERVAL: t["95% interval (pp)"],
                        MDE: t[MDE], "seeds": t.seeds, "p (Holm)": t["p (Holm)"], "verdict": words}).reset_index(drop=True)
    if "paper Δ (pp)" in t and t["paper Δ (pp)"].notna().any():  # the paper's own difference, beside ours
        out.insert(1, "paper Δ (pp)", t["paper Δ (pp)"].to_numpy())
    return out


def design_of(cfg) -> dict:
    """A profile's design as the power calculation names it (subjects from SynthME's settings,
    else NaN), its protocol, folds and seeds."""
    f = cfg.to_flat()
    return {"subjects": f["synth_subjects"] if f["dataset"] == "synthme" else float("nan"),
            "clips": f["synth_clips_per_subject"] if f["dataset"] == "synthme" else float("nan"),
            "seeds": len(f["seeds"]), "protocol": f["protocol"], "k": f["kfold_k"]}


def design_numbers(doc: dict, chosen: dict, here: dict) -> dict:
    """The calculation's numbers as text for the chapter (glue): the first edition's design and
    components (as standard deviations, in points), the chosen design (``chosen``: design_of the
    CPU profile) and its smallest detectable difference, the training cost of LOSO against the
    chosen K-fold over its clips, and this profile's design (``here``)."""
    d, c = doc["design"], doc["components"]
    s, clips, k = chosen["subjects"], chosen["clips"], chosen["k"]
    loso, kfold = clip_passes("loso", s, clips), clip_passes("kfold", s, clips, k)
    return {"fe_subjects": str(d["subjects"]), "fe_clips": str(d["clips"]), "fe_seeds": str(d["seeds"]),
            "fe_base": pct(d["base"]), "fe_subject_sd": pp(c["subject"] ** 0.5, signed=False),
            "fe_inter_sd": pp(c["subject_x_variant"] ** 0.5, signed=False),
            "fe_resid_sd": pp(c["residual"] ** 0.5, signed=False), "fe_variants": str(c["variants"]),
            "sim_reps": str(doc["simulation"]["reps"]), "sim_boot": str(doc["simulation"]["n_boot"]),
            "cpu_subjects": str(s), "cpu_clips": str(clips), "cpu_seeds": str(chosen["seeds"]), "cpu_k": str(k),
            "cpu_mde": pp(mde_at(doc, s, chosen["seeds"]), signed=False),
            "cpu_mde_one": pp(mde_at(doc, s, 1), signed=False),
            "fe_mde": pp(mde_at(doc, d["subjects"], d["seeds"]), signed=False),
            "loso_passes": f"{loso:,}", "kfold_passes": f"{kfold:,}", "cost_ratio": num(loso / kfold, 1),
            "here_subjects": str(here["subjects"]), "here_seeds": count(here["seeds"], "seed"),
            "here_protocol": "LOSO" if here["protocol"] == "loso" else f"subject-grouped {here['k']}-fold"}
