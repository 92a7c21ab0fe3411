"""The command line's settings, read through cmnet.config: a params file with ``--set`` (and
``--variant``) for train / study / report, and flags mapped onto keys for synth / preprocess,
so every command gets the same checks and the same one-line errors."""

from __future__ import annotations

from pathlib import Path


# flags of `cmnet synth` and `cmnet preprocess` → configuration keys (cmnet.config): the same
# ranges and one-line errors as a params file, naming the flag
SYNTH_FLAGS = {"out": "data_root", "subjects": "synth_subjects", "clips_per_subject": "synth_clips_per_subject",
               "seed": "synth_seed", "size": "synth_size", "difficulty": "synth_difficulty", "curves": "synth_curves",
               "others": "synth_others", "proportions": "synth_proportions"}
PREPROCESS_FLAGS = {"dataset": "dataset", "root": "data_root", "casme2_root": "casme2_root", "samm_root": "samm_root",
                    "smic_root": "smic_root", "layout": "layout", "cache_dir": "cache_dir", "size": "size",
                    "frames": "frames", "detector": "detector", "margin": "margin", "interpolation": "interpolation",
                    "device": "device", "level_eyes": "level_eyes"}


def flag_config(args, flags: dict[str, str], command: str):
    """The configuration the given flags describe (defaults for the others), each value checked
    as its key is (an error names the flag)."""
    from .config import Config

    cfg = Config()
    for dest, key in flags.items():
        value = getattr(args, dest)
        if value is not None:
            value = str(value) if isinstance(value, Path) else value
            cfg = Config.from_flat({key: value}, f"cmnet {command} --{dest.replace('_', '-')}", base=cfg)
    return cfg.validate(f"cmnet {command}")


def config_of(args):
    from .config import Config, load_config
    from .params import parse_sets

    over = parse_sets(args.set or [])
    variant = getattr(args, "variant", None)
    if variant:
        from .variants import ALL_VARIANTS, VARIANTS, variant_config

        if variant not in ALL_VARIANTS:
            raise ValueError(f"unknown variant {variant!r}; the book's variants: {', '.join(VARIANTS)}; the repairs "
                             "one at a time: cmnet_without_<r>, cmnet_printed_with_<r>")
        if not args.params:
            raise ValueError("--variant needs a params file (the profile), e.g. params/synthme.yaml")
        return variant_config(Path(args.params).stem, variant, params_dir=Path(args.params).parent, sets=over)
    if args.params:
        return load_config(args.params, over, "--set")
    return Config.from_flat(over, "--set").validate("--set")
