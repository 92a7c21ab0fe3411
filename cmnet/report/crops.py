"""Chapter 2's comparison of face detectors: the same clips cropped by each (arrays ready for
``chapters_data.image_grid``)."""

from __future__ import annotations

import numpy as np


def detector_crops(clips, detectors=("haar", "dlib"), margin: float = 0.15, size: int = 112, n: int = 3,
                   frame: str = "apex", level_eyes: bool = False) -> dict:
    """The same ``n`` clips cropped by each detector as the cache crops them (one box per clip from
    its onset frame, falling back to the apex and last frames: cmnet.preprocess.clip.crop_box),
    ready for a figure: ``{"titles": [subject/clip …], "crops": {detector: (n, size, size, 3) uint8
    RGB of the ``frame`` ("onset" or "apex")}, "boxes": {detector: [box …]}, "missing": {detector:
    [clip keys where it found no face]}}``; a clip without a face gets a mid-grey square.
    ``level_eyes`` applies to the landmark detectors (dlib, face_alignment) only. For chapter 2::

        d = detector_crops(clips, margin=p.margin)
        ch.image_grid([*d["crops"]["haar"], *d["crops"]["dlib"]], d["titles"] * 2, ncols=len(d["titles"]),
                      row_labels=["Haar", "dlib"]).show()
    """
    from ..preprocess.clip import crop_box, decode_crops
    from ..preprocess.faces import NoFaceError, make_detector

    if frame not in ("onset", "apex"):
        raise ValueError(f"frame must be 'onset' or 'apex', got {frame!r}")
    chosen = list(clips)[:n]
    out = {"titles": [f"{c.subject}/{c.clip_id}" for c in chosen], "crops": {}, "boxes": {}, "missing": {}}
    for name in detectors:
        det = make_detector(name) if isinstance(name, str) else name
        name = det.name
        crops, boxes, missing = [], [], []
        for c in chosen:
            i = 0 if frame == "onset" else c.apex_index
            try:
                box = crop_box(c.frames, [0, c.apex_index, len(c) - 1], det, margin, c.key,
                               level_eyes and name in ("dlib", "face_alignment"))
            except NoFaceError:
                missing.append(c.key)
                boxes.append(None)
                crops.append(np.full((size, size, 3), 128, np.uint8))
                continue
            boxes.append(tuple(int(v) for v in box))
            crops.append(decode_crops(c.frames, [i], box, size)[i])
        out["crops"][name], out["boxes"][name], out["missing"][name] = np.stack(crops), boxes, missing
    return out
