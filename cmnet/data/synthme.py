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

from .synthface import SS, Identity, au_bumps, draw_face, field_at, landmarks68, make_identity

CLASSES = ("happiness", "disgust", "repression", "surprise", "others")
CLASS_AUS = {
    "happiness": ("6", "12"),
    "disgust": ("9", "10"),
    "repression": ("14", "17"),
    "surprise": ("1", "2", "5"),
    "others": ("4", "7"),
}


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
