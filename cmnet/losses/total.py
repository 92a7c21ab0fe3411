"""The total loss of Eq. 10: L = λ1·L_ID + λ2·L_Wrst + λ3·L_C.

``tendency="spearman"`` puts our order-aware L_ρ (cmnet.losses.tendency) in L_Wrst's place,
under the same λ2; its part is then named ``spearman``. ``tendency="truth"`` (a control, SynthME
only: the *supervised k*) teaches k the clip's true intensity mapped to the prototype's range,
the mean squared error to ε + (1 − ε)·truth; its part is named ``truth``.

A weight of 0 skips its branch entirely: no prototype draw or ranking when λ2 = 0, no
negative sampling when λ1 = 0 (and the trainer then passes no augmented views, so the
ICE encodes only the clean frames: ``CMNetLoss.needs_views`` says which).
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..models.output import ModelOutput
from .distillation import NEGATIVES, SAMPLERS, intensity_distillation_loss
from .tendency import TendencyPrototype, spearman_tendency_loss, wrst_loss

TENDENCIES = ("wrst", "spearman", "truth")

PAPER_LAMBDAS = (0.07, 0.71, 0.22)


class CMNetLoss(nn.Module):
    """Eq. 10 with its hyper-parameters; holds the prototype's learnable η."""

    def __init__(
        self,
        n_frames: int = 16,
        lambdas: tuple[float, float, float] = PAPER_LAMBDAS,
        sampler: str = "probabilistic",
        tau: float = 0.1,
        num_negatives: int = 15,
        eps: float = 0.2,
        alpha: float = 0.05,
        xi: float = 0.01,
        rank_temperature: float | None = 0.05,
        p: str = "density",
        eta_init: float = 0.5,
        negatives: str = "clean",
        tendency: str = "wrst",
    ):
        super().__init__()
        if tendency not in TENDENCIES:
            raise ValueError(f"unknown tendency {tendency!r}; choose one of {TENDENCIES}")
        self.tendency = tendency
        if len(lambdas) != 3 or any(not (w >= 0 and math.isfinite(w)) for w in lambdas):
            raise ValueError(f"lambdas must be three finite weights >= 0, got {lambdas}")
        if sampler not in SAMPLERS:
            raise ValueError(f"unknown sampler {sampler!r}; choose one of {SAMPLERS}")
        self.lambdas = tuple(float(w) for w in lambdas)
        if negatives not in NEGATIVES:
            raise ValueError(f"unknown negatives {negatives!r}; choose one of {NEGATIVES}")
        self.sampler, self.tau, self.num_negatives, self.negatives = sampler, tau, num_negatives, negatives
        self.alpha, self.xi, self.rank_temperature, self.p = alpha, xi, rank_temperature, p
        self.prototype = TendencyPrototype(n_frames, eps, eta_init)

    @property
    def needs_views(self) -> bool:
        """Whether the model must be given augmented views (λ1 > 0)."""
        return self.lambdas[0] > 0

    def forward(
        self,
        out: ModelOutput,
        labels: torch.Tensor,
        apex: torch.Tensor,
        generator: torch.Generator | None = None,
        truth: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Returns the total loss and its parts (``id``, ``wrst``, ``spearman`` or ``truth``, ``ce``; ``q`` the
        prototype draw (B, N) when λ2 > 0). Skipped parts are absent. ``truth`` (B, N): the clips' true
        intensity in [0, 1], needed by ``tendency="truth"`` only."""
        l_id_w, l_wrst_w, l_c_w = self.lambdas
        parts: dict[str, torch.Tensor] = {}
        total = out.logits.new_zeros(())
        if l_id_w > 0:
            if out.z is None or out.z1 is None or out.z2 is None:
                raise ValueError(
                    "λ1 > 0 needs ICE embeddings of the frames and of two augmented views: "
                    "call the model with views=(view1, view2), or use a model with an intensity branch"
                )
            parts["id"] = intensity_distillation_loss(
                out.z1, out.z2, out.z, self.sampler, self.tau, self.num_negatives, generator, self.negatives
            )
            total = total + l_id_w * parts["id"]
        if l_wrst_w > 0:
            if out.k is None:
                raise ValueError("λ2 > 0 needs per-frame intensities k: this model has no intensity branch")
            if self.tendency == "truth":
                if truth is None or truth.shape != out.k.shape or not torch.isfinite(truth).all():
                    raise ValueError("tendency 'truth' needs every clip's true intensity (B, N): SynthME's ground truth")
                target = self.prototype.eps + (1 - self.prototype.eps) * truth.to(out.k.dtype)
                parts["truth"] = F.mse_loss(out.k, target)
                return self._finish(total + l_wrst_w * parts["truth"], parts, out, labels)
            q, _, _ = self.prototype(apex, generator)
            parts["q"] = q
            if self.tendency == "wrst":
                parts["wrst"] = wrst_loss(q, out.k, self.alpha, self.xi, self.rank_temperature, self.p)
            else:
                parts["spearman"] = spearman_tendency_loss(q, out.k, self.rank_temperature)
            total = total + l_wrst_w * parts[self.tendency]
        return self._finish(total, parts, out, labels)

    def _finish(self, total, parts, out, labels):
        if self.lambdas[2] > 0:
            parts["ce"] = F.cross_entropy(out.logits.float(), labels)
            total = total + self.lambdas[2] * parts["ce"]
        return total, parts

    def weights(self) -> dict[str, float]:
        """Each scalar part's weight in the total (λ1, λ2 or λ3), by the part's name."""
        return {"id": self.lambdas[0], self.tendency: self.lambdas[1], "ce": self.lambdas[2]}
