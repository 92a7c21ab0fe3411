"""CMNet's losses: intensity distillation (Eq. 1), tendency prototype and rank-sum loss
(Eqs. 2–9), and their weighted total (Eq. 10)."""

from .distillation import NEGATIVES, SAMPLERS, intensity_distillation_loss, sample_negatives
from .tendency import (
    TendencyPrototype,
    intensity_prototype,
    pooled_ranks,
    rank_sum_z,
    soft_spearman,
    spearman_tendency_loss,
    wrst_loss,
    wrst_p,
)
from .total import PAPER_LAMBDAS, TENDENCIES, CMNetLoss

__all__ = [
    "NEGATIVES",
    "PAPER_LAMBDAS",
    "SAMPLERS",
    "TENDENCIES",
    "CMNetLoss",
    "TendencyPrototype",
    "intensity_distillation_loss",
    "intensity_prototype",
    "pooled_ranks",
    "rank_sum_z",
    "sample_negatives",
    "soft_spearman",
    "spearman_tendency_loss",
    "wrst_loss",
    "wrst_p",
]
