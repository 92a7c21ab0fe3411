"""The book's experiments: one profile (params/<profile>.yaml over base.yaml) × the
variants the paper compares. A variant is a set of parameter overrides; its study is
named ``<profile>-<variant>`` and is computed once, then reused by every chapter.

The paper as printed and our repairs, side by side. ``PRINTED`` is the method as the
paper prints it (raw frames into both encoders; L_ID's negatives un-augmented; the ICE's
BatchNorm over clean frames and views together; squeeze at PyTorch's init with soft-rank
temperature 0.05; blur σ in pixels whatever the frame size). ``REPAIRS`` are the named
repairs (chapter 4 says why each): the encoders see every frame minus the onset frame;
negatives from the other frames' augmented views; the ICE's running statistics from clean
frames only; k starting inside the prototype's range with soft-rank temperature 0.2, so
that L_Wrst has a gradient when k leaves it; blur σ relative to the frame size.

Variants (Table 1, 2, 3 of the paper); every one keeps the paper's λ for the terms it keeps:
    cmnet                CMNet with the repairs: all three losses, probabilistic negatives
    cmnet_printed        CMNet as printed (the same losses and sampler, no repair)
    cmnet_deterministic  Table 2, deterministic negatives (repaired)
    cmnet_random         Table 2, random negatives (repaired)
    cmnet_no_id          Table 3, L_C + L_Wrst (λ1 = 0, repaired)
    cmnet_no_wrst        Table 3, L_C + L_ID (λ2 = 0, repaired)
    baseline             Table 3, L_C only: ResNet + LSTM with CMNet's λ3 = 0.22 (same input)
    baseline_ce1         the same with λ3 = 1 (labelled: a different learning rate in effect)
    mmnet                MMNet with its optimiser, batch size and augmentations (the profile's epochs)
    cmnet_spearman       ours, beyond the paper: repaired CMNet with the order-aware L_ρ in L_Wrst's
                         place (same λ2; cmnet.losses.tendency)
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .config import Config, load_config, read_params
from .results import METRICS

MMNET_KEYS = ("model", "lambda_id", "lambda_wrst", "lambda_ce", "optimizer", "lr", "weight_decay", "lr_gamma",
              "lr_decay_epochs", "hflip", "affine_rotate", "affine_translate", "pair_jitter", "batch_size")

PRINTED = {"input": "frames", "negatives": "clean", "ice_bn": "mixed", "k_init": "default",
           "rank_temperature": 0.05, "blur_relative": False}
REPAIRS = {"input": "onset_diff", "negatives": "augmented", "ice_bn": "clean", "k_init": "prototype",
           "rank_temperature": 0.2, "blur_relative": True}
BASELINE = {"model": "resnet_lstm", "lambda_id": 0.0, "lambda_wrst": 0.0, "lambda_ce": 0.22}

VARIANTS: dict[str, dict | str] = {
    "cmnet": REPAIRS,
    "cmnet_printed": PRINTED,
    "cmnet_deterministic": REPAIRS | {"sampler": "deterministic"},
    "cmnet_random": REPAIRS | {"sampler": "random"},
    "cmnet_no_id": REPAIRS | {"lambda_id": 0.0},
    "cmnet_no_wrst": REPAIRS | {"lambda_wrst": 0.0},
    "baseline": REPAIRS | BASELINE,
    "baseline_ce1": REPAIRS | BASELINE | {"lambda_ce": 1.0},
    "mmnet": "params/mmnet.yaml",  # its MMNET_KEYS, over the profile
    "cmnet_spearman": REPAIRS | {"tendency": "spearman"},
}
LABELS = {
    "cmnet": "CMNet, repaired (L_C + L_ID + L_Wrst, probabilistic)",
    "cmnet_printed": "CMNet as printed",
    "cmnet_spearman": "CMNet, repaired, order-aware L_ρ instead of L_Wrst (ours)",
    "cmnet_deterministic": "deterministic", "cmnet_random": "random", "cmnet_probabilistic": "probabilistic",
    "cmnet_no_id": "L_C + L_Wrst", "cmnet_no_wrst": "L_C + L_ID", "baseline": "L_C (ResNet + LSTM, λ3 = 0.22)",
    "baseline_ce1": "L_C (ResNet + LSTM, λ3 = 1; not the paper's weight)",
    "mmnet": "MMNet",
}


def variant_config(profile: str, variant: str, params_dir: str | Path = "params", **dirs) -> Config:
    """The resolved config of one variant of a profile. ``dirs``: runs_dir, results_dir,
    cache_dir, data_root overrides (e.g. a temporary folder for tests)."""
    params_dir = Path(params_dir)
    over = VARIANTS[variant]
    if isinstance(over, str):
        mm = read_params(params_dir / Path(over).name)
        over = {k: v for k, v in mm.items() if k in MMNET_KEYS}
    cfg = load_config(params_dir / f"{profile}.yaml", dict(over) | {k: v for k, v in dirs.items() if v})
    if variant == "mmnet":  # the padded crop scales with the frame size (15 px at 224)
        cfg.train.affine_translate = cfg.train.affine_translate * cfg.preprocess.size / 224
    cfg.study.name = f"{profile}-{variant}"
    return cfg


def run_variant(profile: str, variant: str, progress: bool = True, **kw) -> dict:
    from .study import run_study

    return run_study(variant_config(profile, variant, **kw), progress)


def run_variants(profile: str, variants: list[str], progress: bool = True, **kw) -> dict[str, dict]:
    """Several variants of a profile in one submission to the executor (every pending fold of
    every variant at once: a GPU pool or a Ray cluster stays busy across them); variant →
    summary."""
    from .study import run_studies

    return dict(zip(variants, run_studies([variant_config(profile, v, **kw) for v in variants], progress)))


def paper_numbers(path: str | Path = "results/paper_numbers.csv") -> pd.DataFrame:
    return pd.read_csv(path)


# the paper's column order: datasets as in its Table 1, accuracy before F1
PAPER_DATASETS = {"casme2": "CASME II", "samm": "SAMM", "smic_hs": "SMIC-HS"}
PAPER_METRICS = {"accuracy": "Acc", "f1_paper": "F1"}


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


def _ci(stat: dict, scale: float = 100) -> str:
    if stat.get("n", 1) < 2:
        return "one seed"
    return f"[{scale * stat['ci_low']:.1f}, {scale * stat['ci_high']:.1f}]"


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
    df = pd.DataFrame(out).set_index("method").round(2)
    df.attrs["caption"] = (f"{dataset_label}; {protocol}. 'ours' are reproduced here (mean over seeds, ± the sample "
                           "std over seeds, 95% CI: Student-t interval of the mean over seeds); 'paper' are as reported "
                           "on the real datasets.")
    return df


def learning_table(variants, profile: str, **dirs) -> pd.DataFrame:
    """Per variant: did it learn its training data? (cmnet.results.learning_summary)"""
    from .results import learning_summary
    from .study import study_dir

    rows = {LABELS.get(v, v): learning_summary(study_dir(variant_config(profile, v, **dirs))) for v in variants}
    return pd.DataFrame(rows).T.round(3)


def diagnostics_table(variants, profile: str, **dirs) -> pd.DataFrame:
    """Per variant: the L_ID shortcut diagnostic, mean over folds and seeds."""
    from .results import read_diagnostics
    from .study import study_dir

    rows = {}
    for v in variants:
        d = read_diagnostics(study_dir(variant_config(profile, v, **dirs)))
        if not d.empty:
            rows[LABELS.get(v, v)] = d.drop(columns=["seed", "fold", "clips"]).mean()
    return pd.DataFrame(rows).T.round(3)


def with_deltas(table: pd.DataFrame, runs: dict[str, Path], reference: str,
                metrics: tuple[str, ...] = ("accuracy", "uf1")) -> pd.DataFrame:
    """``table`` (rows labelled as ``runs``' keys) with, per metric, "Δ <m> vs <reference>":
    the row's study minus the reference's on matched (seed, fold) pairs, in points, mean
    [95 % bootstrap interval] (cmnet.results.paired_delta), and the Wilcoxon signed-rank p."""
    from .results import paired_delta

    out = table.copy()
    names = {"accuracy": "acc", "uf1": "UF1", "uar": "UAR", "f1_paper": "F1"}
    for m in metrics:
        col, pcol = f"Δ {names.get(m, m)} vs {reference} (folds)", f"p ({names.get(m, m)})"
        cells, ps = [], []
        for label in out.index:
            if label == reference:
                cells.append("—")
                ps.append(float("nan"))
                continue
            d = paired_delta(runs[label], runs[reference], m)
            cells.append(f"{100 * d['mean']:+.1f} [{100 * d['ci_low']:+.1f}, {100 * d['ci_high']:+.1f}]")
            ps.append(round(d["p_value"], 3))
        out[col], out[pcol] = cells, ps
    return out


def per_seed_table(summary: dict) -> pd.DataFrame:
    rows = []
    for s in summary["seeds"]:
        rows.append({"seed": s["seed"], "folds": s["folds"], "clips": s["clips"],
                     **{f"{k} ({m})": round(100 * s[f"{k}_{m}"], 2) for k in ("fold_mean", "pooled") for m in METRICS}})
    return pd.DataFrame(rows)
