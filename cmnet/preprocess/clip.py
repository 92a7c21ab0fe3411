"""One clip's frames → the array a model reads: face box, decode, crop, resize, N frames.
The clip cache (cmnet.preprocess.cache) and ``cmnet predict`` both go through here, so a
clip is prepared the same way for training and for prediction.

    box = crop_box(frames, [0, apex, last], detector, margin, key)   one square box per clip
    seq, apex, pos = normalised_frames(frames, box, settings, apex_index)   (N, S, S, 3) uint8 RGB
    preprocess_clip(clip, settings, detector)   the cache's record of an annotated clip
"""

from __future__ import annotations

from pathlib import Path

import logging

import cv2
import numpy as np

from ..config import PreprocessSettings
from ..data.clip import Clip
from .faces import NoFaceError, crop, square_box
from .temporal import needed_indices, normalize_length

log = logging.getLogger("cmnet.preprocess")

PAIR_MAX = 4  # at most this many jittered candidates beside the annotated onset / apex


class PreprocessError(RuntimeError):
    pass


def read_frame(path: Path) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise PreprocessError(f"cannot decode frame {path} (corrupt or not an image)")
    return img


def crop_box(frames: list[Path], order, detector, margin: float, what: str, level: bool = False):
    """One square box for a clip: the face found in the first of ``order``'s frames that has
    one (NoFaceError naming ``what`` and the frames tried); where that frame holds several
    faces, the largest, said in a warning naming the clip and the frame. ``level``: the eye
    line levelled (faces.square_box)."""
    tried = []
    for i in dict.fromkeys(order):
        face = detector(read_frame(frames[i]))
        tried.append(frames[i].name)
        if face is not None:
            if face.faces > 1:
                log.warning("%s: %d faces in %s (detector %s); the largest is cropped", what, face.faces,
                            frames[i].name, detector.name)
            return square_box(face, margin, level)
    raise NoFaceError(f"{what}: no face found (detector {detector.name}, tried {', '.join(tried)})")


def decode_crops(frames: list[Path], indices, box, size: int) -> dict[int, np.ndarray]:
    """frame index → its crop (size, size, 3) uint8 RGB; a frame of another size than the
    first one read is a PreprocessError naming both."""
    out, first = {}, None
    for i in sorted(set(indices)):
        img = read_frame(frames[i])
        if first is None:
            first = (i, img.shape[:2])
        elif img.shape[:2] != first[1]:
            (h, w), (h0, w0) = img.shape[:2], first[1]
            ref = ("the first frame " if first[0] == 0 else "") + frames[first[0]].name
            raise PreprocessError(f"{frames[i]}: {w}×{h} px, but {ref} is {w0}×{h0}: a clip's frames must all have "
                                  "one size")
        out[i] = cv2.cvtColor(crop(img, box, size), cv2.COLOR_BGR2RGB)
    return out


def normalised_frames(frames: list[Path], box, settings: PreprocessSettings, apex_index: int, extra=()):
    """(seq (N, S, S, 3) uint8 RGB, normalised apex index, source positions (N,), decoded crops):
    only the frames the temporal normalisation needs (and ``extra`` indices) are read."""
    need = set(needed_indices(len(frames), settings.frames)) | set(extra)
    decoded = decode_crops(frames, need, box, settings.size)
    seq, apex, pos = normalize_length([decoded.get(i) for i in range(len(frames))], apex_index, settings.frames,
                                      settings.interpolation)
    return seq, apex, pos, decoded


def pair_candidates(clip: Clip, jitter: float) -> tuple[list[int], list[int]]:
    """0-based frame indices of the onset candidates (onset first) and of the apex
    candidates (apex first), from the original sequence: MMNet's training-time jitter."""
    a = clip.apex_index
    j = min(PAIR_MAX, int(np.floor(jitter * a)))
    return list(range(0, j + 1)), [a - i for i in range(0, j + 1)]


def preprocess_clip(clip: Clip, settings: PreprocessSettings, detector):
    """(frames (N, S, S, 3) uint8 RGB, normalised apex, intensity (N,), crop box, pairs or None)."""
    box = crop_box(clip.frames, [0, clip.apex_index, len(clip) - 1], detector, settings.margin, clip.key,
                   settings.level_eyes)
    on_c, ap_c = pair_candidates(clip, settings.pair_jitter) if settings.pairs else ([], [])
    out, apex, pos, decoded = normalised_frames(clip.frames, box, settings, clip.apex_index, [*on_c, *ap_c])
    if clip.intensity is not None:
        inten = np.interp(pos, np.arange(len(clip)), np.asarray(clip.intensity, dtype=np.float64))
    else:
        inten = np.full(settings.frames, np.nan)
    pairs = None
    if settings.pairs:
        s = settings.size
        pairs = (np.zeros((2, PAIR_MAX + 1, s, s, 3), np.uint8), (len(on_c), len(ap_c)))
        for row, cands in enumerate((on_c, ap_c)):
            for j, i in enumerate(cands):
                pairs[0][row, j] = decoded[i]
    return out, apex, inten, box, pairs
