"""Face finding and the per-clip crop.

Detectors return a ``Face``: a box (x0, y0, x1, y1) in pixels and, where the detector
gives them, 68 landmarks (iBUG order). One crop is computed per clip (from its onset
frame, falling back to the apex and offset frames), so the face does not jitter.

- ``haar``: OpenCV's frontal-face Haar cascade (ships with opencv-python 4.x): offline.
- ``face_alignment``: the paper's landmark tool (Bulat & Tzimiropoulos 2017). Its S3FD
  detector and 2DFAN4 network are read from the user's torch hub cache
  (``$TORCH_HOME/hub/checkpoints``); nothing is downloaded — a missing file is an error
  saying where to put it.
- ``none``: frames are already face crops (e.g. CASME II's ``Cropped`` release); the whole
  frame is the box.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np


@dataclass
class Face:
    box: tuple[float, float, float, float]  # x0, y0, x1, y1
    landmarks: np.ndarray | None = None  # (68, 2) x, y


class NoFaceError(RuntimeError):
    pass


class HaarDetector:
    name = "haar"

    def __init__(self, min_size: int = 40):
        path = Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"
        self.cascade = cv2.CascadeClassifier(str(path))
        if self.cascade.empty():
            raise RuntimeError(f"cannot load the Haar cascade {path}: install opencv-python 4.x (5.x has none)")
        self.min_size = min_size

    def __call__(self, img_bgr: np.ndarray) -> Face | None:
        gray = cv2.cvtColor(img_bgr, cv2.COLOR_BGR2GRAY) if img_bgr.ndim == 3 else img_bgr
        ms = min(self.min_size, min(gray.shape) // 3)
        faces = self.cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=4, minSize=(ms, ms))
        if len(faces) == 0:
            return None
        x, y, w, h = max(faces, key=lambda f: f[2] * f[3])  # the largest face
        return Face((float(x), float(y), float(x + w), float(y + h)))


class FaceAlignmentDetector:
    name = "face_alignment"

    def __init__(self, device: str = "cpu"):
        import torch

        ckpt = Path(torch.hub.get_dir()) / "checkpoints"
        have = {p.name for p in ckpt.glob("*")} if ckpt.is_dir() else set()
        if not any(n.startswith("s3fd") for n in have) or not any(n.startswith("2DFAN4") for n in have):
            raise FileNotFoundError(
                f"face-alignment's weights are not in {ckpt} (need its S3FD detector and 2DFAN4 "
                "landmark network files); copy them there (set TORCH_HOME to move it) or use detector='haar'"
            )
        import face_alignment

        s3fd = next(ckpt / n for n in sorted(have) if n.startswith("s3fd"))
        self.fa = face_alignment.FaceAlignment(
            face_alignment.LandmarksType.TWO_D, device=device, flip_input=False,
            face_detector="sfd", face_detector_kwargs={"path_to_detector": str(s3fd)},
            **({"compile": False} if device == "cpu" else {}),
        )

    def __call__(self, img_bgr: np.ndarray) -> Face | None:
        rgb = cv2.cvtColor(img_bgr, cv2.COLOR_BGR2RGB)
        out = self.fa.get_landmarks_from_image(rgb)
        if not out:
            return None
        lm = max(out, key=lambda p: np.ptp(p[:, 0]) * np.ptp(p[:, 1]))[:, :2]
        return Face((float(lm[:, 0].min()), float(lm[:, 1].min()), float(lm[:, 0].max()), float(lm[:, 1].max())), lm)


class WholeFrame:
    name = "none"

    def __call__(self, img_bgr: np.ndarray) -> Face:
        h, w = img_bgr.shape[:2]
        return Face((0.0, 0.0, float(w), float(h)))


DETECTORS = {"haar": HaarDetector, "face_alignment": FaceAlignmentDetector, "none": WholeFrame}  # CHOICES["detector"]


def make_detector(name: str, device: str = "cpu"):
    if name not in DETECTORS:
        raise ValueError(f"unknown detector {name!r}; choose one of {', '.join(DETECTORS)}")
    return FaceAlignmentDetector(device) if name == "face_alignment" else DETECTORS[name]()


def square_box(face: Face, margin: float) -> tuple[int, int, int]:
    """(x0, y0, side) of a square around the face: the landmarks' extent (extended upwards
    by 15% for the forehead above the brows) or the detector's box, widened by ``margin``."""
    x0, y0, x1, y1 = face.box
    if face.landmarks is not None:
        y0 -= 0.15 * (y1 - y0)
    side = max(x1 - x0, y1 - y0) * (1 + margin)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return int(round(cx - side / 2)), int(round(cy - side / 2)), max(int(round(side)), 1)


def crop(img: np.ndarray, box: tuple[int, int, int], size: int) -> np.ndarray:
    """The square ``box`` of ``img`` (edge pixels repeated where it leaves the image),
    resized to size × size."""
    x0, y0, side = box
    h, w = img.shape[:2]
    pad = max(0, -x0, -y0, x0 + side - w, y0 + side - h)
    if pad:
        img = cv2.copyMakeBorder(img, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        x0, y0 = x0 + pad, y0 + pad
    patch = img[y0 : y0 + side, x0 : x0 + side]
    interp = cv2.INTER_AREA if side > size else cv2.INTER_LINEAR
    return cv2.resize(patch, (size, size), interpolation=interp)
