"""What the clip encoders (CMNet's FFE and ICE, the ResNet+LSTM baseline) see.

B clips, N frames, 3×H×W pixels in [0, 1]; frame 0 of every clip is its onset.

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

import torch

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
