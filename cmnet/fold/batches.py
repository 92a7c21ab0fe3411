"""A fold's batches: clips from the cache onto the device, and every per-clip transform of
training and evaluation, its values read once from the configuration (``ClipTransform``).

B clips, N frames, 3×S×S pixels in [0, 1]; frame 0 of every clip is its onset.

What the clip encoders (CMNet's FFE and ICE, the ResNet+LSTM baseline) see, the key ``input``:
    frames      the frames themselves, as the paper prints it;
    onset_diff  every frame minus the clip's onset frame, 0.5 + gain·(x_n − x_0) clamped
                to [0, 1]: a motion-carrying input (a repair, see the book's chapter 4).
                On SynthME the apex − onset motion is ~4.7 grey levels RMS against ~30 for
                the face's appearance; the difference removes the appearance and keeps
                the motion. The onset frame itself becomes uniform grey.
The result stays an image in [0, 1], so the view augmentations and ImageNet normalisation
apply to it unchanged. Pair models (MMNet) take their onset/apex pair as they are: they
compute apex − onset inside.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..config import blur_sigma_px
from ..models import input_kind
from . import FoldError
from .augment import augment_views, normalize, random_affine

INPUTS = ("frames", "onset_diff")


def encoder_input(x: torch.Tensor, kind: str = "frames", gain: float = 4.0) -> torch.Tensor:
    """(B, N, 3, H, W) in [0, 1] → the same shape in [0, 1], as ``kind`` says."""
    if kind == "frames":
        return x
    if kind == "onset_diff":
        if x.dim() != 5:
            raise ValueError(f"onset_diff needs clips (B, N, 3, H, W), got shape {tuple(x.shape)}")
        if not gain > 0:
            raise ValueError(f"diff_gain must be positive, got {gain}")
        return (0.5 + gain * (x - x[:, :1])).clamp_(0, 1)
    raise ValueError(f"unknown input {kind!r}; choose one of {INPUTS}")


def load_batch(cache, idx, device, channels_last: bool, pair: bool = False, gen=None) -> torch.Tensor:
    """(B, N, 3, S, S) float in [0, 1] on ``device`` (uint8 goes over the bus). ``pair``:
    (B, 2, 3, S, S) onset and apex frames from the original sequence — with ``gen`` (training)
    each drawn among its jittered candidates, else the annotated ones."""
    if pair:
        if cache.pairs is None:
            raise FoldError("a pair model needs a cache built with pairs (its config's pairs: true)")
        counts = cache.pair_counts[idx]  # (B,2)
        pick = np.zeros_like(counts)
        if gen is not None:
            pick = (torch.rand(counts.shape, generator=gen).numpy() * counts).astype(np.int64)
        raw = np.stack([np.stack([cache.pairs[i, r, pick[j, r]] for r in range(2)]) for j, i in enumerate(idx)])
    else:
        raw = cache.frames[idx]
    x = torch.from_numpy(np.ascontiguousarray(raw))
    x = x.to(device, non_blocking=True).permute(0, 1, 4, 2, 3).float().div_(255)  # (B,N,3,S,S)
    if channels_last:  # each frame NHWC in memory; flatten(0, 1) stays a view
        x = x.permute(0, 1, 3, 4, 2).contiguous().permute(0, 1, 4, 2, 3)
    return x


@dataclass(frozen=True)
class ClipTransform:
    """Every per-clip transform of a fold: how batches are loaded, what the encoders see, the
    training-time flips and shifts, and L_ID's augmented views."""

    pair: bool  # onset/apex pairs (MMNet) instead of clips
    input: str  # what the clip encoders see (INPUTS)
    diff_gain: float
    channels_last: bool
    hflip: bool
    rotate: float  # ± degrees
    translate: float  # ± px
    color_jitter: float
    grayscale_p: float
    blur_sigma: float
    blur_relative: bool
    blur_p: float

    @classmethod
    def from_config(cls, cfg) -> "ClipTransform":
        m, t = cfg.model, cfg.train
        return cls(pair=input_kind(m.model) == "pair", input=m.input, diff_gain=m.diff_gain,
                   channels_last=t.channels_last, hflip=t.hflip, rotate=t.affine_rotate, translate=t.affine_translate,
                   color_jitter=t.color_jitter, grayscale_p=t.grayscale_p, blur_sigma=t.blur_sigma,
                   blur_relative=t.blur_relative, blur_p=t.blur_p)

    def load(self, cache, idx, device, gen=None) -> torch.Tensor:
        """Clips ``idx`` of the cache on ``device`` (pairs drawn among candidates with ``gen``)."""
        return load_batch(cache, idx, device, self.channels_last, self.pair, gen)

    def encoder_input(self, x: torch.Tensor) -> torch.Tensor:
        """What the encoders see, still in [0, 1]; pair models take x as is."""
        return x if self.pair else encoder_input(x, self.input, self.diff_gain)

    def train(self, x: torch.Tensor, gen) -> torch.Tensor:
        """Training clips x (B, N, 3, S, S): a random horizontal flip of whole clips, a random
        rotation and shift, then the encoders' input."""
        if self.hflip:
            flip = torch.rand(x.shape[0], generator=gen, device=x.device) < 0.5
            x = torch.where(flip[:, None, None, None, None], x.flip(-1), x)
        x = random_affine(x, self.rotate, self.translate, gen)
        return self.encoder_input(x)

    def views(self, x: torch.Tensor, gen) -> tuple[torch.Tensor, torch.Tensor]:
        """Two independently augmented, normalised copies of the clips x (B, N, 3, S, S)."""
        flat = x.flatten(0, 1)
        sigma = blur_sigma_px(self.blur_sigma, self.blur_relative, flat.shape[-1])
        return tuple(normalize(augment_views(flat, self.color_jitter, self.grayscale_p, sigma, self.blur_p, gen))
                     .view_as(x) for _ in range(2))


def batches(idx, batch_size: int):
    """Consecutive slices of ``idx`` of at most ``batch_size`` clips."""
    bs = max(1, batch_size)
    for i in range(0, len(idx), bs):
        yield idx[i : i + bs]
