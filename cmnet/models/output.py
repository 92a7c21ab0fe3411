"""What every model's ``forward`` returns.

B clips, N frames, C classes, E ICE embedding width.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class ModelOutput:
    logits: torch.Tensor  # (B, C)
    k: torch.Tensor | None = None  # (B, N) per-frame intensity values (CMNet only)
    z: torch.Tensor | None = None  # (B, N, E) ICE embeddings of the un-augmented frames
    z1: torch.Tensor | None = None  # (B, N, E) ICE embeddings of the first augmented view
    z2: torch.Tensor | None = None  # (B, N, E) ICE embeddings of the second augmented view
