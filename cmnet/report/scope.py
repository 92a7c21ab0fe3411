"""What a verdict may say: a claim about a loss term is tested only where the term acted, and
every verdict carries the scope it was measured at.

    t = mark_inactive(claims, runs)   the claims table with "not tested here: the term was
                                      inactive" where every term a claim adds was at zero in more
                                      than 95 % of the better arm's fold-epochs
    s = scope_words(cfg)              "SynthME, 32² frames, 16 epochs, from scratch, onset-difference
                                      input": the words each verdict sentence carries
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..config import DATASET_NAMES
from ..statistics.claims import ORDER_CLAIMS
from .tables import INACTIVE, loss_terms

# the loss terms an ordering claim adds (better arm − worse arm)
ADDED_TERMS = {("cmnet", "baseline"): ("L_ID", "L_Wrst"), ("cmnet", "cmnet_no_id"): ("L_ID",),
               ("cmnet", "cmnet_no_wrst"): ("L_Wrst",)}
NOT_TESTED = "not tested here: {terms} inactive"


def term_activity(run: str | Path) -> dict[str, float]:
    """Term → the share of the study's fold-epochs in which it was above zero."""
    return {r["term"]: r["epochs above zero"] for r in loss_terms(run)}


def mark_inactive(claims: pd.DataFrame, runs: dict[str, str | Path], share: float = INACTIVE) -> pd.DataFrame:
    """``claims`` (cmnet.statistics.claims.order_claims) with each verdict replaced by "not tested
    here: … inactive" where every term its claim adds was at zero in more than ``share`` of the
    better arm's fold-epochs (its study under ``runs``: variant → folder with per-epoch records).
    A claim whose arm has no per-epoch records keeps its verdict."""
    pairs = {c[0]: (c[1], c[2]) for c in ORDER_CLAIMS}
    out = claims.copy()
    for i, claim in out.claim.items():
        terms = ADDED_TERMS.get(pairs.get(claim, (None, None)))
        better = pairs.get(claim, (None,))[0]
        if not terms or better not in runs:
            continue
        try:
            active = term_activity(runs[better])
        except FileNotFoundError:
            continue
        idle = [t for t in terms if t in active and active[t] < 1 - share]
        if idle and len(idle) == len(terms):
            word = " and ".join(idle) + (" was" if len(idle) == 1 else " were")
            pct = ", ".join(f"{t} above zero in {100 * active[t]:.1f} % of epochs" for t in idle)
            out.loc[i, "verdict"] = NOT_TESTED.format(terms=word) + f" ({pct})"
    return out


def scope_words(cfg, repaired_input: bool = True) -> str:
    """The scope a verdict was measured at, in a few words: dataset, frame size, epochs,
    pretraining and (for the repaired rows) the onset-difference input."""
    ds = DATASET_NAMES.get(cfg.data.dataset, cfg.data.dataset)
    extra = f", difficulty {cfg.data.synth_difficulty:g}" if cfg.data.dataset == "synthme" else ""
    pre = "ImageNet-pretrained" if cfg.model.pretrained else "from scratch"
    words = [f"{ds}{extra}", f"{cfg.preprocess.size}² frames", f"{cfg.train.epochs} epochs", pre]
    if repaired_input and cfg.model.input == "onset_diff":
        words.append("onset-difference input")
    return ", ".join(words)


def sensitivity_glue(profile_cfg=None, params_dir: str | Path = "params") -> dict[str, str]:
    """The designs of the tuning, dose–response and second-draw profiles, as the chapters' text reads
    them (glued: never typed): seeds, subjects, clips, folds, epochs, the rates tried, the strengths,
    the inactive-term threshold; with ``profile_cfg`` (the chapter's own profile) its rate and epochs."""
    from ..variants import TUNING_LRS, variant_config
    from .dose import DOSE_PROFILES, DRAW2_PROFILE
    from .prose import listing
    from .tuning import LAST, SHARE, SMOOTH

    tun = variant_config("cpu_tuning", "cmnet", params_dir)
    dose = variant_config(DOSE_PROFILES[0.5], "cmnet", params_dir)
    draw = variant_config(DRAW2_PROFILE, "cmnet", params_dir)
    book = variant_config("cpu", "cmnet", params_dir)
    held = variant_config("cpu_repairs", "cmnet", params_dir)
    out = {"tun_seed": str(tun.data.synth_seed), "tun_subjects": str(tun.data.synth_subjects),
           "tun_clips": str(tun.data.synth_clips_per_subject), "tun_folds": str(tun.study.kfold_k),
           "tun_epochs": str(tun.train.epochs), "tun_last": str(LAST),
           "tun_smooth": str(SMOOTH), "tun_share": f"{100 * SHARE:.0f} %",
           "tun_sgd": listing([f"{x:g}" for x in TUNING_LRS["sgd"]]),
           "tun_adamw": listing([f"{x:g}" for x in TUNING_LRS["adamw"]]),
           "book_seed": str(book.data.synth_seed), "held_seed": str(held.data.synth_seed),
           "dose_subjects": str(dose.data.synth_subjects), "dose_clips": str(dose.data.synth_clips_per_subject),
           "dose_folds": str(dose.study.kfold_k), "dose_epochs": str(dose.train.epochs),
           "dose_book": f"{dose.data.synth_difficulty:g}",
           "dose_strengths": listing([f"{d:g}" for d in sorted(DOSE_PROFILES)]),
           "draw_seed": str(draw.data.synth_seed), "frame": f"{dose.preprocess.size}²",
           "inactive": f"{100 * (1 - INACTIVE):.0f} %", "eps": f"{dose.loss.eps:g}"}
    if profile_cfg is not None:
        out |= {"here_lr": f"{profile_cfg.train.lr:g}", "here_epochs": str(profile_cfg.train.epochs)}
    return out
