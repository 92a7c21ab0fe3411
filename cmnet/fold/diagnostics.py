"""The L_ID shortcut diagnostic: what a trained intensity clue encoder (ICE) tells apart.

B clips, N frames, E embedding width. From the ICE embeddings of the clean frames z and of
two augmented views z̃1, z̃2 of the same frames (all L2-normalised), and the intensities k:

    cos(view1, view2)          the two views of one frame (L_ID's positives)
    cos(view, own clean)       a view against the clean version of its own frame
    cos(view, other clean)     a view against the clean versions of the other frames
                               (the printed L_ID's negatives)
    cos(view, other view)      a view against the same view of the other frames
                               (the repaired L_ID's negatives)
    cos(clean, other clean)    two different clean frames of one clip
    k range                    max − min of k within a clip, mean over clips

An encoder that learned intensity keeps cos(view, own clean) clearly above cos(view, other
clean). An encoder that learned only "augmented or not" has the two equal (both low) while
cos(view1, view2) is high, and its clean frames collapse together (cos(clean, other clean)
near 1): its k then barely varies within a clip, so extend(k) is a constant.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _mean_offdiag(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean of a_n · b_m over n ≠ m, over clips; a, b (B, N, E) normalised."""
    sim = a @ b.transpose(1, 2)  # (B,N,N)
    n = sim.shape[1]
    off = ~torch.eye(n, dtype=torch.bool, device=sim.device)
    return float(sim[:, off].mean())


@torch.no_grad()
def shortcut_stats(z: torch.Tensor, z1: torch.Tensor, z2: torch.Tensor, k: torch.Tensor | None = None) -> dict:
    """The diagnostic's numbers from embeddings z, z1, z2 (B, N, E) and intensities k (B, N)."""
    if not (z.shape == z1.shape == z2.shape) or z.dim() != 3 or z.shape[1] < 2:
        raise ValueError(f"z, z1, z2 must share a (B, N>=2, E) shape, got {tuple(z.shape)}, {tuple(z1.shape)}, "
                         f"{tuple(z2.shape)}")
    z, z1, z2 = (F.normalize(t.float(), dim=-1) for t in (z, z1, z2))
    own = 0.5 * ((z1 * z).sum(-1) + (z2 * z).sum(-1))  # (B,N)
    out = {
        "cos_view1_view2": float((z1 * z2).sum(-1).mean()),
        "cos_view_own_clean": float(own.mean()),
        "cos_view_other_clean": 0.5 * (_mean_offdiag(z1, z) + _mean_offdiag(z2, z)),
        "cos_view_other_view": 0.5 * (_mean_offdiag(z1, z1) + _mean_offdiag(z2, z2)),
        "cos_clean_other_clean": _mean_offdiag(z, z),
    }
    out["own_minus_other"] = out["cos_view_own_clean"] - out["cos_view_other_clean"]
    if k is not None:
        k = k.float()
        out["k_range"] = float((k.max(1).values - k.min(1).values).mean())
        out["k_std_within_clip"] = float(k.std(1).mean())
    return out
