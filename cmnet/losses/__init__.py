"""CMNet's losses: intensity distillation (Eq. 1), tendency prototype and rank-sum loss
(Eqs. 2–9), and their weighted total (Eq. 10)."""

from .distillation import NEGATIVES, SAMPLERS, intensity_distillation_loss, sample_negatives
from .tendency import (
    TendencyPrototype,
    intensity_prototype,
    pooled_ranks,
    rank_sum_z,
    wrst_loss,
    wrst_p,
)
from .total import PAPER_LAMBDAS, CMNetLoss

__all__ = [
    "NEGATIVES",
    "PAPER_LAMBDAS",
    "SAMPLERS",
    "CMNetLoss",
    "TendencyPrototype",
    "intensity_distillation_loss",
    "intensity_prototype",
    "pooled_ranks",
    "rank_sum_z",
    "sample_negatives",
    "wrst_loss",
    "wrst_p",
]
