"""Intensity distillation loss L_ID (Eq. 1) and its three negative samplers.

B clips, N frames, E embedding width, M negatives per anchor.

For the anchor frame n of a clip, the two augmented views z̃1, z̃2 are the positives and
M other frames of the same clip are the negatives:

    L_ID = -1/N Σ_n [ log s(z̃1,z̃2) / (s(z̃1,z̃2) + Σ_m s(z̃1, z_m))
                    + log s(z̃1,z̃2) / (s(z̃1,z̃2) + Σ_m s(z̃2, z_m)) ],   s(a,b) = exp(a·b/τ)

averaged over the B clips. Where the negatives come from (``negatives``):
  "clean"      z_m = the other frames un-augmented (``frames``), as printed. The positives
               are augmented and the negatives are not, so an encoder that only tells
               "augmented or not" separates them: a shortcut (book, chapter 4);
  "augmented"  z_m = the same view of the other frames (z̃1_m for the z̃1 anchor, z̃2_m for
               z̃2): every term compares augmented images, and only the frame's content
               tells positives from negatives (a repair).
Either way they are index gathers into embeddings already computed (never a new encoder
pass).

Samplers (M = ``num_negatives`` for random/probabilistic, M = N−1 for deterministic):
  deterministic  every other frame of the clip;
  random         M uniform draws, with replacement, from the N−1 other frames;
  probabilistic  M draws, with replacement, with probability softmax_j(z_n·z_j/τ) over the
                 other frames j ≠ n, z the clean frames' embeddings, computed without
                 gradient (frames more similar to the anchor are drawn more often).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

SAMPLERS = ("deterministic", "random", "probabilistic")
NEGATIVES = ("clean", "augmented")


def _others(n: int, device) -> torch.Tensor:
    """(N, N−1) indices: row i lists every frame j ≠ i in ascending order."""
    j = torch.arange(n - 1, device=device)
    i = torch.arange(n, device=device)[:, None]
    return j + (j >= i).long()


def sample_negatives(
    frames: torch.Tensor,
    sampler: str,
    tau: float,
    num_negatives: int = 15,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Indices (B, N, M) of the negative frames of every anchor; never the anchor itself.

    ``frames`` (B, N, E) are L2-normalised clean embeddings (used only by "probabilistic").
    ``generator`` must live on ``frames.device``.
    """
    b, n, _ = frames.shape
    dev = frames.device
    if sampler == "deterministic":
        return _others(n, dev).expand(b, n, n - 1)
    if num_negatives < 1:
        raise ValueError(f"num_negatives must be >= 1, got {num_negatives}")
    m = num_negatives
    if sampler == "random":
        r = torch.randint(0, n - 1, (b, n, m), device=dev, generator=generator)
        return r + (r >= torch.arange(n, device=dev)[None, :, None]).long()
    if sampler == "probabilistic":
        with torch.no_grad():
            if not bool(torch.isfinite(frames).all()):  # else multinomial fails deep inside torch
                raise FloatingPointError("frame embeddings are not finite (training diverged); lower lr or check the inputs")
            logits = frames @ frames.transpose(1, 2) / tau  # (B,N,N)
            eye = torch.eye(n, dtype=torch.bool, device=dev)
            probs = logits.float().masked_fill(eye, float("-inf")).softmax(-1)
            idx = torch.multinomial(probs.reshape(b * n, n), m, replacement=True, generator=generator)
        return idx.view(b, n, m)
    raise ValueError(f"unknown sampler {sampler!r}; choose one of {SAMPLERS}")


def _check(view1, view2, frames, tau):
    for name, t in (("view1", view1), ("view2", view2), ("frames", frames)):
        if t.dim() != 3:
            raise ValueError(f"{name} must be (B, N, E), got shape {tuple(t.shape)}")
    if not (view1.shape == view2.shape == frames.shape):
        raise ValueError(
            f"view1, view2, frames must share a shape, got {tuple(view1.shape)}, "
            f"{tuple(view2.shape)}, {tuple(frames.shape)}"
        )
    if frames.shape[1] < 2:
        raise ValueError(f"L_ID needs at least 2 frames per clip (a negative), got N = {frames.shape[1]}")
    if not tau > 0:
        raise ValueError(f"tau must be positive, got {tau}")


def intensity_distillation_loss(
    view1: torch.Tensor,
    view2: torch.Tensor,
    frames: torch.Tensor,
    sampler: str,
    tau: float,
    num_negatives: int = 15,
    generator: torch.Generator | None = None,
    negatives: str = "clean",
) -> torch.Tensor:
    """Eq. 1, a scalar. ``view1``, ``view2``, ``frames``: (B, N, E) ICE embeddings of the two
    augmented views and of the clean frames; L2-normalised here. The probabilistic sampler
    always ranks candidates by the clean frames' embeddings."""
    _check(view1, view2, frames, tau)
    if negatives not in NEGATIVES:
        raise ValueError(f"unknown negatives {negatives!r}; choose one of {NEGATIVES}")
    dtype = torch.promote_types(frames.dtype, torch.float32)  # bf16/fp16 inputs computed in fp32
    z1, z2, zf = (F.normalize(t.to(dtype), dim=-1) for t in (view1, view2, frames))
    idx = sample_negatives(zf, sampler, tau, num_negatives, generator)  # (B,N,M)
    pos = (z1 * z2).sum(-1, keepdim=True) / tau  # (B,N,1)
    terms = []
    for za in (z1, z2):
        pool = zf if negatives == "clean" else za  # (B,N,E): where the negatives are gathered
        sim = za @ pool.transpose(1, 2) / tau  # (B,N,N): anchor view n vs frame j
        neg = sim.gather(2, idx)  # (B,N,M)
        terms.append(pos.squeeze(-1) - torch.logsumexp(torch.cat([pos, neg], -1), -1))  # (B,N)
    return -(terms[0] + terms[1]).mean()
