"""How far a landmark detector's 68 points lie from SynthME's stored ones (``truth.npz``'s
``landmarks``, iBUG 300-W order: cmnet.data.synthface.landmarks68), as the normalised mean error
of the 300-W benchmark: each point's distance divided by the inter-ocular distance (the outer eye
corners, points 36 and 45), averaged per point group (jaw, brows, nose, eyes, mouth).

SynthME's points are in iBUG's order but not all in its convention: its jaw runs from below the
ears round the chin, where iBUG's starts at the ears' top, about eye level. So part of the error is
a difference of convention, the same on every face. ``fit_mapping`` measures it — each point's mean
offset in the face's own frame (origin between the outer eye corners, x along the eye line, unit
the inter-ocular distance) — on some subjects, and ``landmark_report`` gives the error on the
other subjects both against the stored points (raw) and against the stored points moved by that
mapping (what remains is the detector's scatter).

    report = landmark_report(synthme_folder, make_detector("dlib"), every=5)
    report["raw"]["jaw"], report["mapped"]["eyes"], report["frames"], report["missed"]
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from .faces import GROUPS


def interocular(truth: np.ndarray) -> np.ndarray:
    """The outer eye corners' distance (points 36 and 45) of each face in ``truth`` (..., 68, 2)."""
    return np.linalg.norm(truth[..., 45, :] - truth[..., 36, :], axis=-1)


def point_errors(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """(F, 68): each point's distance to its true place over the face's inter-ocular distance."""
    pred, truth = np.asarray(pred, np.float64), np.asarray(truth, np.float64)
    if pred.shape != truth.shape or pred.shape[-2:] != (68, 2):
        raise ValueError(f"landmarks must be (F, 68, 2) both, got {pred.shape} and {truth.shape}")
    return np.linalg.norm(pred - truth, axis=-1) / interocular(truth)[..., None]


def group_nme(errors: np.ndarray) -> dict[str, float]:
    """The mean of ``point_errors`` over frames and the points of each group, and over all 68."""
    errors = np.asarray(errors).reshape(-1, 68)
    out = {g: float(errors[:, a:b].mean()) for g, (a, b) in GROUPS.items()}
    return out | {"all": float(errors.mean())}


def _face_frame(truth: np.ndarray):
    """Each face's frame: origin between the outer eye corners, unit vectors x (along the eye line)
    and y (perpendicular, pointing down the face), scaled by the inter-ocular distance."""
    o = (truth[:, 36] + truth[:, 45]) / 2
    ex = truth[:, 45] - truth[:, 36]  # length: the inter-ocular distance
    ey = np.stack([-ex[:, 1], ex[:, 0]], 1)
    return o, ex, ey


def fit_mapping(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """(68, 2): the mean of ``pred − truth`` per point in the faces' own frames (inter-ocular units)."""
    pred, truth = np.asarray(pred, np.float64), np.asarray(truth, np.float64)
    _, ex, ey = _face_frame(truth)
    d = pred - truth
    iod2 = (ex ** 2).sum(1)[:, None]
    local = np.stack([(d * ex[:, None]).sum(-1), (d * ey[:, None]).sum(-1)], -1) / iod2[..., None]
    return local.mean(0)


def apply_mapping(truth: np.ndarray, mapping: np.ndarray) -> np.ndarray:
    """``truth`` moved by ``mapping`` (fit_mapping's offsets), in each face's own frame."""
    truth = np.asarray(truth, np.float64)
    _, ex, ey = _face_frame(truth)
    return truth + mapping[None, :, :1] * ex[:, None] + mapping[None, :, 1:] * ey[:, None]


def synthme_landmarks(root: str | Path, detector, every: int = 5):
    """(predicted (F, 68, 2), true (F, 68, 2), the subject of each frame, the frames with no face)
    for every ``every``-th frame of each SynthME clip under ``root``."""
    files = sorted(Path(root).glob("CASME2_RAW_selected/*/*/truth.npz"))
    if not files:
        raise FileNotFoundError(f"{root}: no SynthME ground truth (CASME2_RAW_selected/<subject>/<clip>/truth.npz)")
    pred, truth, subjects, missed = [], [], [], []
    for f in files:
        with np.load(f) as z:
            numbers, lms = z["frame_numbers"], z["landmarks"]
        for i in range(0, len(numbers), every):
            path = f.parent / f"img{numbers[i]}.jpg"
            img = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if img is None:
                raise ValueError(f"{path}: cannot be read as an image")
            face = detector(img)
            if face is None or face.landmarks is None:
                missed.append(str(path))
                continue
            pred.append(face.landmarks)
            truth.append(lms[i])
            subjects.append(f.parent.parent.name)
    return np.asarray(pred, np.float64).reshape(-1, 68, 2), np.asarray(truth, np.float64).reshape(-1, 68, 2), \
        np.asarray(subjects), missed


def landmark_report(root: str | Path, detector, every: int = 5, fit_subjects: int | None = None) -> dict:
    """The detector's normalised mean error per group on the SynthME under ``root``: ``raw``
    (against the stored points) and ``mapped`` (against the stored points moved by the convention
    mapping fitted on the first ``fit_subjects`` subjects — half by default — and measured on the
    others), the mapping itself, and how many frames were tried and missed."""
    pred, truth, subjects, missed = synthme_landmarks(root, detector, every)
    names = sorted(set(subjects.tolist()))
    if len(names) < 2:
        raise ValueError(f"{root}: the convention mapping needs at least 2 subjects with a face found, got {len(names)}")
    k = fit_subjects if fit_subjects is not None else len(names) // 2
    fit = np.isin(subjects, names[:k])
    mapping = fit_mapping(pred[fit], truth[fit])
    held = ~fit
    return {"raw": group_nme(point_errors(pred[held], truth[held])),
            "mapped": group_nme(point_errors(pred[held], apply_mapping(truth[held], mapping))),
            "mapping": mapping, "frames": int(len(pred) + len(missed)), "measured": int(held.sum()),
            "fitted": int(fit.sum()), "missed": missed, "detector": getattr(detector, "name", str(detector))}
