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
Repairs one at a time (REPAIR_ABLATIONS, studies of their own; cmnet.statistics.claims.repairs_table):
    cmnet_without_<r>          all five repairs (cmnet_all_repairs) with repair r undone
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

# The main configuration follows the held-out ablation (cpu_repairs, synth_seed 1; chapter 10): undoing
# augmented negatives *gained* accuracy there (+10.0 pp [+4.3, +15.7]), so the main rows keep L_ID's
# negatives clean, as printed; every other repair stays. REPAIRS (all five) remains a named variant.
MAIN = REPAIRS | {"negatives": "clean"}
# the positive controls (chapter 8): k given from outside (no ICE, λ1 = λ2 = 0), or the ICE taught the truth
GIVEN_K = {"lambda_id": 0.0, "lambda_wrst": 0.0}

VARIANTS: dict[str, dict | str] = {
    "cmnet": MAIN,
    "cmnet_printed": PRINTED,
    "cmnet_deterministic": MAIN | {"sampler": "deterministic"},
    "cmnet_random": MAIN | {"sampler": "random"},
    "cmnet_no_id": MAIN | {"lambda_id": 0.0},
    "cmnet_no_wrst": MAIN | {"lambda_wrst": 0.0},
    "baseline": MAIN | BASELINE,
    "baseline_ce1": MAIN | BASELINE | {"lambda_ce": 1.0},
    "mmnet": "params/mmnet.yaml",  # its MMNET_KEYS, over the profile
    "cmnet_spearman": MAIN | {"tendency": "spearman"},
    "oracle_k": MAIN | GIVEN_K | {"k_source": "oracle"},
    "prototype_k": MAIN | GIVEN_K | {"k_source": "prototype"},
    "supervised_k": MAIN | {"tendency": "truth"},
    "cmnet_wrst_outside": MAIN | {"k_init": "default"},
}
# the positive controls and the L_Wrst test: run by the controls profiles (params/cpu_dose*.yaml), not every book
CONTROLS = ("oracle_k", "prototype_k", "supervised_k", "cmnet_wrst_outside")
# what every book trains and chapter 10 reads (`cmnet book`, the GPU study): the variants but the controls
BOOK_VARIANTS: tuple[str, ...] = tuple(v for v in VARIANTS if v not in CONTROLS)
# the arms tuned on held-out data (params/cpu_tuning.yaml): three learning rates each, around the book's
TUNED_ARMS = ("baseline", "cmnet", "mmnet", "oracle_k")
TUNING_LRS = {"sgd": (0.005, 0.02, 0.08), "adamw": (0.0002, 0.0008, 0.0032)}
TUNING: dict[str, dict] = {
    **{f"{arm}_lr{lr:g}": {"tuned_arm": arm, "lr": lr} for arm in TUNED_ARMS if arm != "mmnet"
       for lr in TUNING_LRS["sgd"]},
    **{f"mmnet_lr{lr:g}": {"tuned_arm": "mmnet", "lr": lr} for lr in TUNING_LRS["adamw"]},
}
# each repair removed from all five repairs (cmnet_all_repairs), and each added alone to the printed one:
# not in VARIANTS (the chapters run those); studies of their own, e.g. on a held-out SynthME
REPAIR_ABLATIONS: dict[str, dict] = {
    **{f"cmnet_without_{r}": REPAIRS | {k: PRINTED[k] for k in keys} for r, keys in REPAIR_GROUPS.items()},
    **{f"cmnet_printed_with_{r}": PRINTED | {k: REPAIRS[k] for k in keys} for r, keys in REPAIR_GROUPS.items()},
}
# The learning rate of each arm chosen on the tuning data (params/cpu_tuning.yaml, never reported:
# cmnet.report.tuning.tuning_choice over results/cpu_tuning-*; a test checks that this table is that
# choice), used by profiles with `tuned: true`. The other CMNet rows take CMNet's rate, prototype k
# oracle k's (the same network without an ICE).
TUNED: dict[str, float] = {"baseline": 0.02, "cmnet": 0.02, "mmnet": 0.0032, "oracle_k": 0.08}
TUNED_ARM = {"prototype_k": "oracle_k", "baseline_ce1": "baseline"}


def tuned_arm(variant: str) -> str:
    """The tuned arm whose learning rate ``variant`` takes under ``tuned: true``."""
    if variant in TUNING:
        return TUNING[variant]["tuned_arm"]
    if variant in TUNED:
        return variant
    return TUNED_ARM.get(variant, "cmnet")


# all five repairs: the reference row of the held-out ablation (chapter 10; results/cpu_repairs-cmnet_all_repairs)
ALL_REPAIRS = "cmnet_all_repairs"
ALL_VARIANTS: dict[str, dict | str] = VARIANTS | {ALL_REPAIRS: REPAIRS} | REPAIR_ABLATIONS | TUNING

LABELS = {
    "cmnet": "CMNet, repaired (L_C + L_ID + L_Wrst, probabilistic)",
    "cmnet_printed": "CMNet as printed",
    "cmnet_spearman": "CMNet, repaired, order-aware L_ρ instead of L_Wrst (ours)",
    "cmnet_deterministic": "deterministic", "cmnet_random": "random",
    "cmnet_no_id": "L_C + L_Wrst", "cmnet_no_wrst": "L_C + L_ID", "baseline": "L_C (ResNet + LSTM, λ3 = 0.22)",
    "baseline_ce1": "L_C (ResNet + LSTM, λ3 = 1; not the paper's weight)",
    "mmnet": "MMNet",
    "oracle_k": "oracle k: the true intensity as k (an oracle; no ICE)",
    "prototype_k": "prototype k: the prototype's mean from the annotated apex (no ICE)",
    "supervised_k": "supervised k: the ICE taught the true intensity (a control)",
    "cmnet_wrst_outside": "CMNet, k starting outside the prototype's range (L_Wrst acts)",
    "cmnet_all_repairs": "CMNet with all five repairs (augmented negatives too)",
    **{name: f"{t['tuned_arm']} at lr {t['lr']:g}" for name, t in TUNING.items()},
    **{f"cmnet_without_{r}": f"all five repairs without {r.replace('_', ' ')}" for r in REPAIR_GROUPS},
    **{f"cmnet_printed_with_{r}": f"as printed with {r.replace('_', ' ')} only" for r in REPAIR_GROUPS},
}


PROFILE_NAME = r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}"  # a profile's name: a file name in params/, never a path


def profile_names(params_dir: str | Path = "params") -> list[str]:
    """The profiles of ``params_dir``: its YAML files but base.yaml (what every profile inherits)."""
    return sorted(p.stem for p in Path(params_dir).glob("*.yaml") if p.stem != "base")


def check_profile_name(profile, params_dir: str | Path = "params") -> None:
    """ConfigError (one line naming the parameter 'profile') unless ``profile`` is a plain name
    (PROFILE_NAME: letters, digits, _ and -) of a file ``params_dir``/<profile>.yaml: not a path,
    not text a file system refuses."""
    import re

    if not isinstance(profile, str) or not re.fullmatch(PROFILE_NAME, profile):
        shown = repr(profile)[:80] + ("…" if len(repr(profile)) > 80 else "")
        raise ConfigError(f"profile {shown}: not a profile; give the name of a file in {params_dir}/ "
                          f"({', '.join(profile_names(params_dir))}), not a path")


def variant_config(profile: str, variant: str, params_dir: str | Path = "params", sets: dict | None = None,
                   **dirs) -> Config:
    """The resolved config of one variant of a profile. ``dirs``: runs_dir, results_dir,
    cache_dir, data_root overrides (e.g. a temporary folder for tests); ``sets``: the command
    line's --set, applied last (the result is checked once)."""
    params_dir = Path(params_dir)
    check_profile_name(profile, params_dir)
    over = ALL_VARIANTS[variant]
    if variant in TUNING:  # an arm at another learning rate
        arm = ALL_VARIANTS[TUNING[variant]["tuned_arm"]]
        over = ({"lr": TUNING[variant]["lr"]}, arm)
    if isinstance(over, tuple):
        lr, over = over
        if isinstance(over, str):
            mm = read_params(params_dir / Path(over).name)
            over = {k: v for k, v in mm.items() if k in MMNET_KEYS}
        over = dict(over) | lr
    elif isinstance(over, str):
        mm = read_params(params_dir / Path(over).name)
        over = {k: v for k, v in mm.items() if k in MMNET_KEYS}
    if read_params(params_dir / f"{profile}.yaml").get("tuned") and variant not in TUNING:
        over = dict(over) | {"lr": TUNED[tuned_arm(variant)]}  # the rate chosen on the tuning data
    folders = {k: v for k, v in dirs.items() if v is not None}  # None: not given (the profile's folder)
    cfg = load_config(params_dir / f"{profile}.yaml", dict(over), f"--variant {variant}",
                      more=[(folders, f"the folders given ({', '.join(folders)})"), (sets or {}, "--set")])
    unknown = sorted(set(cfg.study.one_seed) - set(ALL_VARIANTS))
    if unknown:
        raise ConfigError(f"{params_dir / f'{profile}.yaml'}: 'one_seed' names no variant: {', '.join(unknown)} "
                          f"(the variants: {', '.join(ALL_VARIANTS)})")
    if variant in cfg.study.one_seed:  # the budget: this row gets the profile's first seed only
        cfg.study.seeds = cfg.study.seeds[:1]
    arm = TUNING[variant]["tuned_arm"] if variant in TUNING else variant
    if arm == "mmnet" and "affine_translate" not in (sets or {}):  # the padded crop scales with the frame
        cfg.train.affine_translate = cfg.train.affine_translate * cfg.preprocess.size / 224  # size (15 px at 224)
    cfg.study.name = f"{profile}-{variant}"
    return cfg
