"""SynthME: a procedurally generated micro-expression dataset, written in the CASME II
layout so that the CASME II reader and the whole preprocessing path run on it.

No image comes from outside: every face is drawn here from a seed. A clip is the
subject's neutral face warped by a displacement field of small local facial motions
(AU-like Gaussian bumps around the brows, eyes, nose and lip corners) scaled by an
onset→apex→offset intensity curve, with the nuisances of real recordings: identity and
skin tone, an illumination gradient and flicker, small head motion, blinks, sensor noise
and JPEG compression.

Classes (CASME II's five; the AU combinations are CASME II-like, not copies of its coding):
    happiness  AU6 + AU12  cheeks up, lip corners up and out
    disgust    AU9 + AU10  nose sides and upper lip up
    repression AU14 + AU17 lip corners in, chin and lower lip up
    surprise   AU1+2 + AU5 brows up, upper lids up
    others     AU4 + AU7   brows down and together, lower lids up

On disk (``cmnet synth --out DIR``):
    DIR/CASME2-coding-synthme.xlsx                      CASME II's column names
    DIR/CASME2_RAW_selected/subXX/EPxx_yy/imgN.jpg      a few frames before the onset and
                                                        after the offset, as in raw video
    DIR/CASME2_RAW_selected/subXX/EPxx_yy/truth.npz     frame_numbers, intensity (0..1, the
                                                        curve), amplitude_px, landmarks (L, 68, 2)
Pixel units: the frames are ``size`` (128) px square; the face is about 80 px wide, so
the default peak amplitude of 0.4–1.5 px is sub-pixel to ~1.5 px at 112 px, as asked.
Deterministic from ``seed`` (one child seed per subject and clip).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

CLASSES = ("happiness", "disgust", "repression", "surprise", "others")
CLASS_AUS = {
    "happiness": ("6", "12"),
    "disgust": ("9", "10"),
    "repression": ("14", "17"),
    "surprise": ("1", "2", "5"),
    "others": ("4", "7"),
}
SS = 2  # supersampling factor of the drawing


@dataclass
class SynthConfig:
    subjects: int = 16
    clips_per_subject: int = 10
    seed: int = 0
    size: int = 128  # frame side (px)
    min_len: int = 9  # onset..offset length range (frames)
    max_len: int = 60
    amplitude_px: tuple[float, float] = (0.4, 1.5)  # peak displacement at difficulty 1
    difficulty: float = 1.0  # > 1: weaker motion, stronger nuisances; < 1: easier
    jpeg_quality: int = 92

    def __post_init__(self):
        if self.subjects < 1 or self.clips_per_subject < 1:
            raise ValueError("SynthME needs at least one subject and one clip per subject")
        if not 2 <= self.min_len <= self.max_len:
            raise ValueError(f"need 2 <= min_len <= max_len, got {self.min_len}, {self.max_len}")
        if self.difficulty <= 0:
            raise ValueError(f"difficulty must be positive, got {self.difficulty}")
        if self.size < 64:
            raise ValueError(f"size must be at least 64 px, got {self.size}")


# ---------------------------------------------------------------- identity and drawing

@dataclass
class Identity:
    cx: float
    cy: float
    a: float  # face half-width (px, output scale)
    b: float  # face half-height
    skin: tuple[float, float, float]  # BGR
    hair: tuple[float, float, float]
    background: tuple[float, float, float]
    eye_dx: float  # eye centre offset from the midline
    eye_y: float  # eye height, relative to cy
    eye_w: float
    eye_h: float
    brow_gap: float
    mouth_w: float
    mouth_y: float
    nose_y: float
    light: float  # left–right shading slope


def make_identity(rng: np.random.Generator, size: int) -> Identity:
    s = size / 128
    skin_dark, skin_light = np.array([60, 90, 140]), np.array([185, 205, 240])
    t = rng.uniform()
    skin = tuple((skin_dark + t * (skin_light - skin_dark) + rng.normal(0, 6, 3)).clip(0, 255).tolist())
    hair = tuple(rng.uniform(10, 90, 3).tolist())
    bg = tuple(rng.uniform(90, 230, 3).tolist())
    return Identity(
        cx=size / 2 + rng.uniform(-3, 3) * s, cy=size / 2 + rng.uniform(0, 5) * s,
        a=rng.uniform(37, 43) * s, b=rng.uniform(47, 53) * s,
        skin=skin, hair=hair, background=bg,
        eye_dx=rng.uniform(15, 19) * s, eye_y=rng.uniform(-13, -9) * s,
        eye_w=rng.uniform(7, 9) * s, eye_h=rng.uniform(3.2, 4.2) * s,
        brow_gap=rng.uniform(7, 10) * s, mouth_w=rng.uniform(12, 16) * s,
        mouth_y=rng.uniform(24, 29) * s, nose_y=rng.uniform(8, 12) * s,
        light=rng.uniform(-0.2, 0.2),
    )


def landmarks68(idt: Identity) -> np.ndarray:
    """68 points in the iBUG order (jaw 0–16, brows 17–26, nose 27–35, eyes 36–47,
    mouth 48–67), output pixel coordinates (x, y)."""
    cx, cy = idt.cx, idt.cy
    pts = []
    for th in np.linspace(np.pi * 0.05, np.pi * 0.95, 17)[::-1]:  # jaw, right to left of image
        pts.append((cx + idt.a * np.cos(th), cy + idt.b * 0.92 * np.sin(th) + 0.08 * idt.b))
    ey = cy + idt.eye_y
    for side in (-1, 1):  # brows: image-left then image-right, 5 points each
        xs = cx + side * (idt.eye_dx + np.linspace(-idt.eye_w * 1.1, idt.eye_w * 1.1, 5) * side)
        xs = xs if side < 0 else xs[::-1][::-1]
        for j, x in enumerate(sorted(xs)):
            arch = np.sin(np.pi * (j + 0.5) / 5)
            pts.append((x, ey - idt.brow_gap - 2.5 * arch * idt.eye_h / 4))
    for j in range(4):  # nose bridge
        pts.append((cx, ey + j * (idt.nose_y - idt.eye_y) / 3.5))
    ny = cy + idt.nose_y
    for j in range(5):  # nostrils
        pts.append((cx + (j - 2) * idt.a * 0.09, ny + (2 - abs(j - 2)) * 1.0))
    for side in (-1, 1):  # eyes: 6 points each
        ex = cx + side * idt.eye_dx
        for th in np.linspace(0, 2 * np.pi, 7)[:-1]:
            pts.append((ex - idt.eye_w * np.cos(th), ey - idt.eye_h * np.sin(th)))
    my = cy + idt.mouth_y
    for th in np.linspace(0, 2 * np.pi, 13)[:-1]:  # outer lip
        pts.append((cx - idt.mouth_w * np.cos(th), my - 4.0 * np.sin(th) * idt.a / 40))
    for th in np.linspace(0, 2 * np.pi, 9)[:-1]:  # inner lip
        pts.append((cx - idt.mouth_w * 0.7 * np.cos(th), my - 1.2 * np.sin(th)))
    return np.asarray(pts, dtype=np.float32)


def draw_face(idt: Identity, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The neutral face at SS× resolution (float32 BGR) and an eye mask for blinks."""
    S = size * SS
    img = np.empty((S, S, 3), np.float32)
    img[:] = idt.background
    img *= np.linspace(0.9, 1.1, S, dtype=np.float32)[:, None, None]

    def P(x, y):
        return int(round(x * SS)), int(round(y * SS))

    def E(a, b):
        return int(round(a * SS)), int(round(b * SS))

    cx, cy = idt.cx, idt.cy
    cv2.ellipse(img, P(cx, cy - idt.b * 0.25), E(idt.a * 1.12, idt.b * 0.95), 0, 0, 360, idt.hair, -1, cv2.LINE_AA)
    cv2.ellipse(img, P(cx, cy + idt.b * 0.05), E(idt.a, idt.b), 0, 0, 360, idt.skin, -1, cv2.LINE_AA)
    for side in (-1, 1):  # ears
        cv2.ellipse(img, P(cx + side * idt.a * 0.98, cy), E(idt.a * 0.12, idt.b * 0.2), 0, 0, 360, idt.skin, -1, cv2.LINE_AA)
    skin = np.array(idt.skin, np.float32)
    dark = skin * 0.55
    lm = landmarks68(idt)
    ey = cy + idt.eye_y
    eyes = np.zeros((S, S), np.float32)
    for side, brow in ((-1, lm[17:22]), (1, lm[22:27])):
        ex = cx + side * idt.eye_dx
        cv2.polylines(img, [np.round(brow * SS).astype(np.int32)], False, idt.hair, int(2.2 * SS), cv2.LINE_AA)
        cv2.ellipse(img, P(ex, ey + 1.5), E(idt.eye_w * 1.3, idt.eye_h * 1.6), 0, 0, 360, tuple((skin * 0.85).tolist()), -1, cv2.LINE_AA)
        cv2.ellipse(img, P(ex, ey), E(idt.eye_w, idt.eye_h), 0, 0, 360, (235, 235, 235), -1, cv2.LINE_AA)
        cv2.circle(img, P(ex, ey), int(round(idt.eye_h * 0.95 * SS)), (40, 30, 25), -1, cv2.LINE_AA)
        cv2.ellipse(img, P(ex, ey), E(idt.eye_w, idt.eye_h), 0, 180, 360, (20, 20, 20), int(1.2 * SS), cv2.LINE_AA)
        cv2.ellipse(eyes, P(ex, ey), E(idt.eye_w * 1.25, idt.eye_h * 1.6), 0, 0, 360, 1.0, -1, cv2.LINE_AA)
    ny = cy + idt.nose_y
    cv2.line(img, P(cx - 2, ey + 3), P(cx - 3, ny - 1), tuple((skin * 0.8).tolist()), int(1.5 * SS), cv2.LINE_AA)
    for side in (-1, 1):
        cv2.ellipse(img, P(cx + side * 3.2, ny), E(2.2, 1.3), 0, 0, 360, tuple(dark.tolist()), -1, cv2.LINE_AA)
    my = cy + idt.mouth_y
    lip = np.array([90, 80, 170], np.float32) * 0.5 + skin * 0.5
    cv2.ellipse(img, P(cx, my), E(idt.mouth_w, 4.0), 0, 0, 360, tuple(lip.tolist()), -1, cv2.LINE_AA)
    cv2.line(img, P(cx - idt.mouth_w, my), P(cx + idt.mouth_w, my), tuple((lip * 0.5).tolist()), int(1.2 * SS), cv2.LINE_AA)
    xs = (np.arange(S, dtype=np.float32) / SS - cx) / idt.a
    img *= (1 + idt.light * xs)[None, :, None]
    img = cv2.GaussianBlur(img, (0, 0), 0.8 * SS)
    eyes = cv2.GaussianBlur(eyes, (0, 0), 1.0 * SS)
    return img, eyes


# ---------------------------------------------------------------- motion

def au_bumps(idt: Identity, aus, rng: np.random.Generator):
    """Gaussian displacement bumps (centre x, y, sigma, direction dx, dy, weight) for the AUs,
    output pixel units; each side gets its own weight (slight asymmetry)."""
    cx, cy = idt.cx, idt.cy
    ey, ny, my = cy + idt.eye_y, cy + idt.nose_y, cy + idt.mouth_y
    out = []
    for side in (-1, 1):
        w = rng.uniform(0.75, 1.0)
        ex = cx + side * idt.eye_dx
        for au in aus:
            if au == "1":  # inner brow raiser
                out.append((ex - side * idt.eye_w * 0.6, ey - idt.brow_gap, 4.0, 0, -1, w))
            elif au == "2":  # outer brow raiser
                out.append((ex + side * idt.eye_w * 0.7, ey - idt.brow_gap, 4.0, 0, -1, w))
            elif au == "4":  # brow lowerer: down and towards the midline
                out.append((ex - side * idt.eye_w * 0.4, ey - idt.brow_gap, 4.5, -side * 0.7, 0.7, w))
            elif au == "5":  # upper lid raiser
                out.append((ex, ey - idt.eye_h * 0.8, 3.0, 0, -1, w))
            elif au == "6":  # cheek raiser
                out.append((ex, ey + idt.eye_h * 3.2, 5.0, 0, -1, w))
            elif au == "7":  # lid tightener: lower lid up
                out.append((ex, ey + idt.eye_h * 1.1, 3.0, 0, -1, w))
            elif au == "9":  # nose wrinkler
                out.append((cx + side * 4.5, ny - 5.0, 3.5, 0, -1, w))
            elif au == "10":  # upper lip raiser
                out.append((cx + side * idt.mouth_w * 0.45, my - 3.5, 4.0, 0, -1, w))
            elif au == "12":  # lip corner puller: up and out
                out.append((cx + side * idt.mouth_w, my, 4.0, side * 0.6, -0.8, w))
            elif au == "14":  # dimpler: corners in
                out.append((cx + side * idt.mouth_w, my, 3.5, -side, 0.0, w))
            elif au == "17":  # chin raiser: lower lip and chin up
                out.append((cx + side * 3.0, my + 6.0, 5.0, 0, -1, w))
    return out


def field_at(bumps, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Displacement (dx, dy) of unit amplitude at points (xs, ys), output pixel units."""
    dx = np.zeros(np.broadcast(xs, ys).shape, np.float32)
    dy = np.zeros_like(dx)
    for bx, by, sig, ux, uy, w in bumps:
        n = np.hypot(ux, uy)
        g = w * np.exp(-((xs - bx) ** 2 + (ys - by) ** 2) / (2 * sig * sig))
        dx += g * ux / n
        dy += g * uy / n
    return dx, dy


def intensity_curve(n_total: int, onset_i: int, apex_i: int, offset_i: int) -> np.ndarray:
    """0 outside [onset, offset], 0 at both ends, 1 at the apex; sin² rise, cos² fall."""
    t = np.arange(n_total, dtype=np.float64)
    c = np.zeros(n_total)
    up = (t >= onset_i) & (t <= apex_i)
    c[up] = np.sin(0.5 * np.pi * (t[up] - onset_i) / max(apex_i - onset_i, 1)) ** 2
    down = (t > apex_i) & (t <= offset_i)
    c[down] = np.cos(0.5 * np.pi * (t[down] - apex_i) / max(offset_i - apex_i, 1)) ** 2
    c[offset_i] = 0.0  # exactly (cos² of π/2 is 4e-33 in floating point)
    return c


def render_clip(cfg: SynthConfig, idt: Identity, base: np.ndarray, eyes: np.ndarray, label: str, rng: np.random.Generator):
    """All frames (uint8 BGR, size²), the clip's timing and its ground truth."""
    size, d = cfg.size, cfg.difficulty
    n_me = int(rng.integers(cfg.min_len, cfg.max_len + 1))
    pre, post = int(rng.integers(2, 6)), int(rng.integers(2, 6))
    n_total = pre + n_me + post
    onset_i, offset_i = pre, pre + n_me - 1
    apex_i = onset_i + int(np.clip(round(rng.uniform(0.25, 0.6) * (n_me - 1)), 1, n_me - 2)) if n_me > 2 else onset_i + 1
    curve = intensity_curve(n_total, onset_i, apex_i, offset_i)
    lo, hi = cfg.amplitude_px
    amp = float(rng.uniform(lo, hi) / d)
    bumps = au_bumps(idt, CLASS_AUS[label], rng)
    S = size * SS
    grid = (np.arange(S, dtype=np.float32) + 0.5) / SS - 0.5  # output-pixel coordinate of each SS pixel
    X, Y = np.meshgrid(grid, grid)
    ux, uy = field_at(bumps, X, Y)
    lm0 = landmarks68(idt)
    lux, luy = field_at(bumps, lm0[:, 0], lm0[:, 1])
    # nuisances: smooth head motion (random walk, px and degrees), blink, flicker, noise
    walk = np.cumsum(rng.normal(0, 0.12 * d, (n_total, 3)), 0)
    walk -= walk[0]
    walk[:, 2] *= 0.5  # rotation, degrees
    blink = np.zeros(n_total)
    if rng.uniform() < 0.3:
        c, w = rng.integers(0, n_total), rng.uniform(1.5, 3.0)
        blink = np.exp(-0.5 * ((np.arange(n_total) - c) / w) ** 2)
    flick = 1 + 0.012 * d * np.sin(2 * np.pi * np.arange(n_total) / rng.uniform(6, 20) + rng.uniform(0, 6.3))
    flick += rng.normal(0, 0.003 * d, n_total)
    skin = np.array(idt.skin, np.float32) * 0.9
    frames, landmarks = [], []
    for f in range(n_total):
        a = amp * curve[f]
        tx, ty, rot = walk[f]
        th = np.deg2rad(rot)
        cth, sth = np.cos(th), np.sin(th)
        # destination p = R(q − c) + c + t + a·u(q); inverted to first order for the source q
        px, py = X - idt.cx - tx, Y - idt.cy - ty
        qx = cth * px + sth * py + idt.cx
        qy = -sth * px + cth * py + idt.cy
        qx = qx - a * ux
        qy = qy - a * uy
        img = base
        if blink[f] > 0.01:
            m = (eyes * blink[f])[..., None]
            img = base * (1 - m) + skin * m
        mx = ((qx + 0.5) * SS - 0.5).astype(np.float32)
        my_ = ((qy + 0.5) * SS - 0.5).astype(np.float32)
        warped = cv2.remap(img.astype(np.float32), mx, my_, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        small = cv2.resize(warped, (size, size), interpolation=cv2.INTER_AREA) * flick[f]
        small += rng.normal(0, 1.5 * d, small.shape).astype(np.float32)
        frames.append(np.clip(small, 0, 255).round().astype(np.uint8))
        lx, ly = lm0[:, 0] + a * lux - idt.cx, lm0[:, 1] + a * luy - idt.cy
        landmarks.append(np.stack([cth * lx - sth * ly + idt.cx + tx, sth * lx + cth * ly + idt.cy + ty], 1))
    return frames, dict(
        onset_i=onset_i, apex_i=apex_i, offset_i=offset_i, intensity=curve, amplitude_px=amp,
        landmarks=np.asarray(landmarks, np.float32), aus="+".join(CLASS_AUS[label]),
    )


# ---------------------------------------------------------------- writing

def _write_sheet(path: Path, rows: list[dict]) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws.append(["Subject", "Filename", None, "OnsetFrame", "ApexFrame", "OffsetFrame", None, "Action Units", "Estimated Emotion"])
    for r in rows:
        ws.append([r["subject"], r["clip"], None, r["onset"], r["apex"], r["offset"], None, r["aus"], r["label"]])
    tmp = path.with_suffix(".tmp.xlsx")
    wb.save(tmp)
    tmp.replace(path)


def clip_amplitudes(root: str | Path) -> dict[str, float]:
    """Each SynthME clip's peak displacement in pixels (``amplitude_px`` of its truth.npz), by
    clip key ("synthme/sub01/EP01_01", as the readers name clips). The per-frame truth curve
    is normalised to peak at 1, so this is the only record of how strong a clip is."""
    files = sorted((Path(root) / "CASME2_RAW_selected").glob("*/*/truth.npz"))
    if not files:
        raise FileNotFoundError(f"{root}: no SynthME ground truth (CASME2_RAW_selected/<subject>/<clip>/truth.npz)")
    out = {}
    for f in files:
        try:
            out[f"synthme/{f.parent.parent.name}/{f.parent.name}"] = float(np.load(f)["amplitude_px"])
        except (OSError, KeyError, ValueError, EOFError) as e:
            raise ValueError(f"{f}: cannot read amplitude_px ({e})") from e
    return out


def generate(out: str | Path, cfg: SynthConfig | None = None, progress: bool = True) -> Path:
    """Write SynthME under ``out`` in the CASME II layout; returns the sheet's path."""
    from tqdm import tqdm  # plain text bars: no widget (and no IProgress warning) in notebooks

    cfg = cfg or SynthConfig()
    out = Path(out)
    frames_root = out / "CASME2_RAW_selected"
    frames_root.mkdir(parents=True, exist_ok=True)
    seeds = np.random.SeedSequence(cfg.seed).spawn(cfg.subjects)
    rows = []
    bar = tqdm(total=cfg.subjects * cfg.clips_per_subject, desc="SynthME clips", disable=not progress, unit="clip")
    for s, ss in enumerate(seeds):
        srng = np.random.default_rng(ss.spawn(1)[0])
        idt = make_identity(srng, cfg.size)
        base, eyes = draw_face(idt, cfg.size)
        labels = [CLASSES[(s + i) % len(CLASSES)] for i in range(cfg.clips_per_subject)]
        srng.shuffle(labels)
        subject = f"sub{s + 1:02d}"
        for i, (label, cs) in enumerate(zip(labels, ss.spawn(cfg.clips_per_subject + 1)[1:])):
            crng = np.random.default_rng(cs)
            frames, truth = render_clip(cfg, idt, base, eyes, label, crng)
            first = int(crng.integers(1, 300))
            numbers = np.arange(first, first + len(frames))
            clip_id = f"EP{(i // 3) + 1:02d}_{(i % 3) + 1:02d}"
            folder = frames_root / subject / clip_id
            folder.mkdir(parents=True, exist_ok=True)
            for n, fr in zip(numbers, frames):
                ok, buf = cv2.imencode(".jpg", fr, [cv2.IMWRITE_JPEG_QUALITY, cfg.jpeg_quality])
                (folder / f"img{n}.jpg").write_bytes(buf.tobytes())
            np.savez(
                folder / "truth.npz", frame_numbers=numbers, intensity=truth["intensity"],
                amplitude_px=truth["amplitude_px"], landmarks=truth["landmarks"],
            )
            rows.append(dict(
                subject=s + 1, clip=clip_id, onset=int(numbers[truth["onset_i"]]), apex=int(numbers[truth["apex_i"]]),
                offset=int(numbers[truth["offset_i"]]), aus=truth["aus"], label=label,
            ))
            bar.update()
    bar.close()
    sheet = out / "CASME2-coding-synthme.xlsx"
    _write_sheet(sheet, rows)
    (out / "synthme.json").write_text(__import__("json").dumps(asdict(cfg), indent=1))
    return sheet
