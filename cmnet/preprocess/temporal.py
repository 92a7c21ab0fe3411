"""Temporal normalisation of a clip to N frames (the paper's N = 16).

Long clips (L ≥ N): frames at regular intervals, positions round(linspace(0, L−1, N)), so
the onset and offset frames are kept. Short clips (L < N): frames at the fractional
positions linspace(0, L−1, N), each made from its two neighbours by interpolation —
optical flow (OpenCV's Farneback flow, both frames warped to the intermediate time, then
blended; the default, standing in for the paper's learned DAIN) or linear blending.
The apex moves to the normalised frame whose position is nearest the original apex.

L frames in, N out; each frame H×W×3 uint8.
"""

from __future__ import annotations

import cv2
import numpy as np


def positions(length: int, n: int) -> np.ndarray:
    """Source positions (float, in frames) of the n normalised frames."""
    if length < 2:
        raise ValueError(f"clip too short: {length} frame{'s' * (length != 1)}; temporal normalisation needs at least 2")
    t = np.linspace(0.0, length - 1, n)
    return np.round(t) if length >= n else t


def map_apex(pos: np.ndarray, apex: int) -> int:
    """Index of the normalised frame nearest the original apex index (the first on a tie)."""
    return int(np.argmin(np.abs(pos - apex)))


def _flow_interp(a: np.ndarray, b: np.ndarray, w: float) -> np.ndarray:
    ga = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY) if a.ndim == 3 else a
    gb = cv2.cvtColor(b, cv2.COLOR_RGB2GRAY) if b.ndim == 3 else b
    flow = cv2.calcOpticalFlowFarneback(ga, gb, None, 0.5, 3, 15, 3, 5, 1.2, 0)  # a(x) ≈ b(x + f(x))
    h, wd = ga.shape
    xs, ys = np.meshgrid(np.arange(wd, dtype=np.float32), np.arange(h, dtype=np.float32))
    fa = cv2.remap(a, xs - w * flow[..., 0], ys - w * flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    fb = cv2.remap(b, xs + (1 - w) * flow[..., 0], ys + (1 - w) * flow[..., 1], cv2.INTER_LINEAR,
                   borderMode=cv2.BORDER_REPLICATE)
    return cv2.addWeighted(fa, 1 - w, fb, w, 0)


def interpolate(a: np.ndarray, b: np.ndarray, w: float, method: str = "flow") -> np.ndarray:
    """The frame at fraction ``w`` ∈ [0, 1] of the way from ``a`` to ``b``."""
    if w <= 0:
        return a.copy()
    if w >= 1:
        return b.copy()
    if method == "linear":
        return cv2.addWeighted(a, 1 - w, b, w, 0)
    if method == "flow":
        return _flow_interp(a, b, w)
    raise ValueError(f"unknown interpolation {method!r}; choose 'flow' or 'linear'")


def normalize_length(frames, apex: int, n: int = 16, method: str = "flow"):
    """(frames (N, H, W, 3) uint8, new apex index, source positions (N,)).

    ``frames``: a sequence of L arrays or an (L, H, W, 3) array; ``apex``: 0-based index."""
    length = len(frames)
    if not 0 <= apex < length:
        raise ValueError(f"apex index {apex} outside the clip's {length} frames")
    pos = positions(length, n)
    out = []
    for t in pos:
        i = int(np.floor(t))
        w = float(t - i)
        out.append(np.asarray(frames[i]) if w == 0 else interpolate(np.asarray(frames[i]), np.asarray(frames[i + 1]), w, method))
    return np.stack(out), map_apex(pos, apex), pos


def needed_indices(length: int, n: int) -> list[int]:
    """The source frames that normalisation reads (so only those need decoding)."""
    pos = positions(length, n)
    idx = set()
    for t in pos:
        i = int(np.floor(t))
        idx.add(i)
        if t > i:
            idx.add(i + 1)
    return sorted(idx)
