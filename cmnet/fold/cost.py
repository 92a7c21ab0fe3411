"""What a study costs in compute, counted before it runs: FLOPs of one clip through the model and
the losses its configuration builds (torch.utils.flop_counter on meta tensors: no memory, no
compute, seconds), the clip passes of a study's design, and GPU hours at an assumed utilisation.
Chapter 11 prints it for the GPU study.

    clip_flops(cfg)             FLOPs of one training clip and one test clip
    design_passes(cfg)          training and test clip passes of a whole study (one seed)
    study_cost(profile)         per variant: seeds, FLOPs, PFLOP of the study
    gpu_hours(pflop)            hours of one device at a share of its peak
"""

from __future__ import annotations

from dataclasses import astuple
from pathlib import Path

import pandas as pd

from .loop import loss_from_config

H100_BF16_PEAK = 989e12  # FLOP/s: NVIDIA H100 SXM, dense bf16 tensor cores (datasheet; 1,979 with sparsity)
UTILISATIONS = (0.05, 0.25)  # the fractions of that peak assumed reached, low and high: a ResNet-18 over
# 16 frames of 224² in small folds (40 steps an epoch) gets a small share (short kernels, an LSTM step per
# frame, an evaluation every epoch); ImageNet ResNet-50 training reaches about a fifth of an A100's peak


def clip_flops(cfg, num_classes: int = 5) -> tuple[int, int]:
    """FLOPs (torch.utils.flop_counter: matrix products and convolutions, 2 per multiply-add) of
    one clip at ``cfg``'s frame size: a training pass (forward with the augmented views the loss
    needs, backward) and a test pass (forward). Counted on meta tensors: shapes only."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from ..models import input_kind, model_from_config

    model = model_from_config(cfg, num_classes).to("meta")
    n = 2 if input_kind(cfg.model.model) == "pair" else cfg.preprocess.frames
    x = torch.empty(1, n, 3, cfg.preprocess.size, cfg.preprocess.size, device="meta")
    views = (torch.empty_like(x), torch.empty_like(x)) if loss_from_config(cfg).needs_views else None
    with FlopCounterMode(display=False) as train:
        out = model(x, views=views)
        sum(t.sum() for t in vars(out).values() if isinstance(t, torch.Tensor)).backward()  # every head
    model.eval()
    with torch.no_grad(), FlopCounterMode(display=False) as test:
        model(x)
    return int(train.get_total_flops()), int(test.get_total_flops())


def design_passes(cfg) -> tuple[int, int]:
    """Training and test clip passes of one seed of a SynthME study: per epoch every subject's
    clips train in (K − 1) of K subject-grouped folds (LOSO: S − 1 of S) and are tested once per
    monitored epoch (every ``eval_every``) and once at the end."""
    d, t, st = cfg.data, cfg.train, cfg.study
    s, c = d.synth_subjects, d.synth_clips_per_subject
    folds = st.kfold_k if st.protocol == "kfold" else s
    train = (folds - 1) * s * c * t.epochs
    evals = (t.epochs // t.eval_every if t.eval_every else 0) + 1
    return train, s * c * evals


def study_cost(profile: str, variants=None, params_dir: str | Path = "params") -> pd.DataFrame:
    """Per variant of the book (``cmnet.variants.BOOK_VARIANTS``) for ``profile``: its seeds, the
    FLOPs of a training and a test clip, the clip passes of one seed and the study's FLOPs."""
    from ..variants import BOOK_VARIANTS, variant_config

    rows, counted = [], {}
    for v in variants or BOOK_VARIANTS:
        cfg = variant_config(profile, v, params_dir=params_dir)
        shape = (astuple(cfg.model), loss_from_config(cfg).needs_views, cfg.preprocess.size, cfg.preprocess.frames)
        tr, te = counted[shape] = counted.get(shape) or clip_flops(cfg)  # variants that differ in losses only
        n_tr, n_te = design_passes(cfg)
        seeds = len(cfg.study.seeds)
        rows.append({"variant": v, "seeds": seeds, "GFLOP / training clip": tr / 1e9, "GFLOP / test clip": te / 1e9,
                     "training passes / seed": n_tr, "test passes / seed": n_te,
                     "PFLOP": seeds * (tr * n_tr + te * n_te) / 1e15})
    return pd.DataFrame(rows)


def gpu_hours(pflop: float, peak: float = H100_BF16_PEAK, utilisation: float = 0.3) -> float:
    """Hours of one device that reaches ``utilisation`` of ``peak`` FLOP/s for ``pflop`` PFLOP."""
    if not 0 < utilisation <= 1:
        raise ValueError(f"utilisation must be in (0, 1], got {utilisation}")
    return pflop * 1e15 / (peak * utilisation) / 3600
