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
Repairs one at a time (REPAIR_ABLATIONS, studies of their own; cmnet.report.claims.repairs_table):
    cmnet_without_<r>          the repaired configuration with repair r undone
    cmnet_printed_with_<r>     the printed configuration with repair r alone
    r: onset_diff, augmented_negatives, clean_bn, k_in_range (k_init + rank_temperature), relative_blur
"""

from __future__ import annotations

from pathlib import Path

from .config import Config, load_config
from .params import ConfigError, read_params

MMNET_KEYS = ("model", "lambda_id", "lambda_wrst", "lambda_ce", "optimizer", "lr", "weight_decay", "lr_gamma",
              "lr_decay_epochs", "hflip", "affine_rotate", "affine_translate", "pair_jitter", "batch_size")

PRINTED = {"input": "frames", "negatives": "clean", "ice_bn": "mixed", "k_init": "default",
           "rank_temperature": 0.05, "blur_relative": False}
REPAIRS = {"input": "onset_diff", "negatives": "augmented", "ice_bn": "clean", "k_init": "prototype",
           "rank_temperature": 0.2, "blur_relative": True}
BASELINE = {"model": "resnet_lstm", "lambda_id": 0.0, "lambda_wrst": 0.0, "lambda_ce": 0.22}

# the repairs one at a time (k inside the prototype's range and the soft-rank temperature are one
# repair: the temperature matters only once k can leave the prototype's range)
REPAIR_GROUPS = {"onset_diff": ("input",), "augmented_negatives": ("negatives",), "clean_bn": ("ice_bn",),
                 "k_in_range": ("k_init", "rank_temperature"), "relative_blur": ("blur_relative",)}

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
# each repair removed from the repaired configuration, and each added alone to the printed one:
# not in VARIANTS (the chapters run those); studies of their own, e.g. on a held-out SynthME
REPAIR_ABLATIONS: dict[str, dict] = {
    **{f"cmnet_without_{r}": REPAIRS | {k: PRINTED[k] for k in keys} for r, keys in REPAIR_GROUPS.items()},
    **{f"cmnet_printed_with_{r}": PRINTED | {k: REPAIRS[k] for k in keys} for r, keys in REPAIR_GROUPS.items()},
}
ALL_VARIANTS: dict[str, dict | str] = VARIANTS | REPAIR_ABLATIONS

LABELS = {
    "cmnet": "CMNet, repaired (L_C + L_ID + L_Wrst, probabilistic)",
    "cmnet_printed": "CMNet as printed",
    "cmnet_spearman": "CMNet, repaired, order-aware L_ρ instead of L_Wrst (ours)",
    "cmnet_deterministic": "deterministic", "cmnet_random": "random",
    "cmnet_no_id": "L_C + L_Wrst", "cmnet_no_wrst": "L_C + L_ID", "baseline": "L_C (ResNet + LSTM, λ3 = 0.22)",
    "baseline_ce1": "L_C (ResNet + LSTM, λ3 = 1; not the paper's weight)",
    "mmnet": "MMNet",
    **{f"cmnet_without_{r}": f"repaired without {r.replace('_', ' ')}" for r in REPAIR_GROUPS},
    **{f"cmnet_printed_with_{r}": f"as printed with {r.replace('_', ' ')} only" for r in REPAIR_GROUPS},
}


def variant_config(profile: str, variant: str, params_dir: str | Path = "params", sets: dict | None = None,
                   **dirs) -> Config:
    """The resolved config of one variant of a profile. ``dirs``: runs_dir, results_dir,
    cache_dir, data_root overrides (e.g. a temporary folder for tests); ``sets``: the command
    line's --set, applied last (the result is checked once)."""
    params_dir = Path(params_dir)
    over = ALL_VARIANTS[variant]
    if isinstance(over, str):
        mm = read_params(params_dir / Path(over).name)
        over = {k: v for k, v in mm.items() if k in MMNET_KEYS}
    cfg = load_config(params_dir / f"{profile}.yaml", dict(over) | {k: v for k, v in dirs.items() if v},
                      f"--variant {variant}", more=(sets or {}, "--set"))
    unknown = sorted(set(cfg.study.one_seed) - set(ALL_VARIANTS))
    if unknown:
        raise ConfigError(f"{params_dir / f'{profile}.yaml'}: 'one_seed' names no variant: {', '.join(unknown)} "
                          f"(the variants: {', '.join(ALL_VARIANTS)})")
    if variant in cfg.study.one_seed:  # the budget: this row gets the profile's first seed only
        cfg.study.seeds = cfg.study.seeds[:1]
    if variant == "mmnet" and "affine_translate" not in (sets or {}):  # the padded crop scales with the frame
        cfg.train.affine_translate = cfg.train.affine_translate * cfg.preprocess.size / 224  # size (15 px at 224)
    cfg.study.name = f"{profile}-{variant}"
    return cfg
