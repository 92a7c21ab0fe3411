"""Tendency consistency: the intensity prototype (Eqs. 2–4) and the Wilcoxon rank-sum
loss L_Wrst (Eqs. 5–9).

B clips, N frames. Frame indices are 0-based here; the apex index a splits the clip into
N1 = a frames before it and N2 = N−1−a after it.

Prototype, per frame i (ε = ``eps``, η_i ∈ (0, 1)):
    i < a  : mean ε + i·(1−ε)/N1,          std (1−ε)/(3·N1)·η_i          (Eq. 2)
    i > a  : mean 1 − (i−a)·(1−ε)/N2,      std (1−ε)/(3·N2)·η_i          (Eq. 3)
    i = a  : mean 1,                       std min of the two above ·η_i (Eq. 4; the
                                           existing segment's value when a is at an end)
The paper names the second argument of N(·,·) a variance but sets it by the 3σ rule: it is
read as the standard deviation (see paper-notes.md).

Rank-sum Z (Eq. 7): T2 = Σ ranks of k among (q, k) pooled; Z = (T2 − N(2N+1)/2)/√(N²(2N+1)/12).
Exact ranks average ties (as scipy.stats.rankdata). Soft ranks, for gradients:
    rank_i = 0.5 + Σ_j sigmoid((x_i − x_j)/t),
which is the exact average rank in the limit t → 0 (sigmoid(0) = ½ gives the tie rule).

L_Wrst = max(0, ξ − (p − α)) with p = φ(Z) as Eq. 8 prints it (the normal density), or
p = 2(1 − Φ(|Z|)) (the two-sided p-value) with ``p="two-sided"``. It depends on k only
through the multiset {k_n}: permuting k in time leaves it unchanged.

An order-aware alternative (ours, not the paper's; ``tendency="spearman"`` in CMNetLoss):
L_ρ = (1 − ρ)/2 per clip, ρ the Spearman correlation of k with the prototype draw q over the
clip's frames, computed on soft ranks (the same sigmoid ranks as above, within k and within
q) so that it has a gradient; with exact ranks it is scipy's spearmanr. Unlike L_Wrst it
changes when the frames of k are permuted: it asks k to rise and fall *where* q does.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn


def intensity_prototype(
    apex: torch.Tensor, n_frames: int, eps: float = 0.2, eta: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Means and standard deviations (B, N) of Eqs. 2–4.

    ``apex``: (B,) 0-based apex indices in [0, N). ``eta``: (N,) or (B, N) in (0, 1);
    None means η = 1 (the unscaled 3σ widths).
    """
    apex = torch.as_tensor(apex)
    if apex.dim() != 1:
        raise ValueError(f"apex must be a (B,) tensor of indices, got shape {tuple(apex.shape)}")
    if n_frames < 2:
        raise ValueError(f"the prototype needs N >= 2 frames, got {n_frames}")
    if not 0 < eps < 1:
        raise ValueError(f"eps must be in (0, 1), got {eps}")
    if ((apex < 0) | (apex >= n_frames)).any():
        raise ValueError(f"apex indices must lie in [0, {n_frames}), got {apex.tolist()}")
    dtype = eta.dtype if eta is not None and eta.is_floating_point() else torch.float32
    dev = eta.device if eta is not None else apex.device
    a = apex.to(dev, dtype)[:, None]  # (B,1)
    i = torch.arange(n_frames, device=dev, dtype=dtype)[None, :]  # (1,N)
    n1 = a
    n2 = (n_frames - 1) - a
    rise = 1 - eps
    # clamp only guards the division where a segment is empty (its frames are not selected)
    mean_up = eps + i * rise / n1.clamp(min=1)
    mean_down = 1 - (i - a) * rise / n2.clamp(min=1)
    sd_up = rise / (3 * n1.clamp(min=1))
    sd_down = rise / (3 * n2.clamp(min=1))
    sd_apex = torch.where(n1 == 0, sd_down, torch.where(n2 == 0, sd_up, torch.minimum(sd_up, sd_down)))
    mean = torch.where(i < a, mean_up, torch.where(i > a, mean_down, torch.ones_like(mean_up)))
    std = torch.where(i < a, sd_up, torch.where(i > a, sd_down, sd_apex)).expand_as(mean)
    if eta is not None:
        std = std * eta
    return mean, std


class TendencyPrototype(nn.Module):
    """Holds the learnable η_n ∈ (0, 1) (a sigmoid of a free parameter, one per frame) and
    draws q = mean + std·η·ε, ε ~ N(0, 1), by the reparameterisation trick, so that η gets
    a gradient through L_Wrst's soft ranks."""

    def __init__(self, n_frames: int = 16, eps: float = 0.2, eta_init: float = 0.5):
        super().__init__()
        if not 0 < eta_init < 1:
            raise ValueError(f"eta_init must be in (0, 1), got {eta_init}")
        self.n_frames, self.eps = n_frames, eps
        self.eta_logit = nn.Parameter(torch.full((n_frames,), math.log(eta_init / (1 - eta_init))))

    @property
    def eta(self) -> torch.Tensor:  # (N,)
        return torch.sigmoid(self.eta_logit)

    def forward(self, apex: torch.Tensor, generator: torch.Generator | None = None):
        """Returns (q, mean, std), each (B, N); std already includes η."""
        mean, std = intensity_prototype(apex.to(self.eta_logit.device), self.n_frames, self.eps, self.eta)
        noise = torch.randn(mean.shape, device=mean.device, dtype=mean.dtype, generator=generator)
        return mean + std * noise, mean, std


def pooled_ranks(x: torch.Tensor, temperature: float | None = None) -> torch.Tensor:
    """Ranks (1-based) of each row of ``x`` (B, L) among that row: exact with ties averaged
    when ``temperature`` is None, soft (differentiable) otherwise."""
    diff = x[..., :, None] - x[..., None, :]  # (B,L,L): x_i − x_j
    if temperature is None:
        step = (diff > 0).to(x.dtype) + 0.5 * (diff == 0).to(x.dtype)
    else:
        if not temperature > 0:
            raise ValueError(f"temperature must be positive or None, got {temperature}")
        step = torch.sigmoid(diff / temperature)
    return 0.5 + step.sum(-1)


def rank_sum_z(q: torch.Tensor, k: torch.Tensor, temperature: float | None = None) -> torch.Tensor:
    """Z of Eq. 7 for each row of ``q`` and ``k`` (B, N) (or (N,), giving a 0-d tensor).

    Exact (``temperature=None``) Z equals ``scipy.stats.ranksums(k, q).statistic``."""
    if q.shape != k.shape or q.dim() not in (1, 2):
        raise ValueError(f"q and k must both be (B, N) or (N,), got {tuple(q.shape)} and {tuple(k.shape)}")
    squeeze = q.dim() == 1
    if squeeze:
        q, k = q[None], k[None]
    n = q.shape[-1]
    dtype = torch.promote_types(q.dtype, k.dtype)
    if not dtype.is_floating_point:
        dtype = torch.float32
    ranks = pooled_ranks(torch.cat([q, k], -1).to(dtype), temperature)  # (B,2N)
    t2 = ranks[:, n:].sum(-1)
    z = (t2 - n * (2 * n + 1) / 2) / math.sqrt(n * n * (2 * n + 1) / 12)
    return z[0] if squeeze else z


def wrst_p(z: torch.Tensor, p: str = "density") -> torch.Tensor:
    """Eq. 8's p: the standard normal density at Z ("density", as printed) or the two-sided
    p-value 2(1 − Φ(|Z|)) ("two-sided")."""
    if p == "density":
        return torch.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    if p == "two-sided":
        return torch.special.erfc(z.abs() / math.sqrt(2))
    raise ValueError(f'p must be "density" or "two-sided", got {p!r}')


def wrst_loss(
    q: torch.Tensor,
    k: torch.Tensor,
    alpha: float = 0.05,
    xi: float = 0.01,
    temperature: float | None = 0.05,
    p: str = "density",
    reduction: str = "mean",
) -> torch.Tensor:
    """L_Wrst (Eq. 9) = max(0, ξ − (p − α)) per clip; ``reduction`` "mean" or "none" (B,)."""
    z = rank_sum_z(q, k, temperature)
    loss = torch.relu(xi - (wrst_p(z, p) - alpha))
    if reduction == "none":
        return loss
    if reduction == "mean":
        return loss.mean()
    raise ValueError(f'reduction must be "mean" or "none", got {reduction!r}')


def soft_spearman(q: torch.Tensor, k: torch.Tensor, temperature: float | None = 0.05) -> torch.Tensor:
    """Spearman's ρ between the rows of ``q`` and ``k`` (B, N) (or (N,), giving a 0-d tensor),
    on soft ranks (``temperature``) or exact ones (None: scipy.stats.spearmanr). A row whose
    ranks are all equal (a constant k) has ρ = 0."""
    if q.shape != k.shape or q.dim() not in (1, 2):
        raise ValueError(f"q and k must both be (B, N) or (N,), got {tuple(q.shape)} and {tuple(k.shape)}")
    squeeze = q.dim() == 1
    if squeeze:
        q, k = q[None], k[None]
    dtype = torch.promote_types(torch.promote_types(q.dtype, k.dtype), torch.float32)
    rq, rk = pooled_ranks(q.to(dtype), temperature), pooled_ranks(k.to(dtype), temperature)
    rq, rk = rq - rq.mean(-1, keepdim=True), rk - rk.mean(-1, keepdim=True)
    den = (rq.pow(2).sum(-1) * rk.pow(2).sum(-1)).sqrt()
    rho = torch.where(den > 0, (rq * rk).sum(-1) / den.clamp(min=torch.finfo(dtype).tiny), torch.zeros_like(den))
    return rho[0] if squeeze else rho


def spearman_tendency_loss(
    q: torch.Tensor, k: torch.Tensor, temperature: float | None = 0.05, reduction: str = "mean"
) -> torch.Tensor:
    """L_ρ = (1 − ρ(k, q))/2 per clip, in [0, 1]; ``reduction`` "mean" or "none" (B,)."""
    loss = (1 - soft_spearman(q, k, temperature)) / 2
    if reduction == "none":
        return loss
    if reduction == "mean":
        return loss.mean()
    raise ValueError(f'reduction must be "mean" or "none", got {reduction!r}')
