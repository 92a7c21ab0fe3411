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
    others     ``others="varied"`` (default): a random set of 1–3 action units per clip that holds
               no other class's combination (CASME II's "others" is a catch-all, not one
               movement); ``others="template"`` (the first edition): AU4 + AU7 every time

Intensity curves: ``curves="varied"`` (default) draws each clip's curve as real ones vary — the
apex anywhere from 5 % to 95 % of the clip, rise and fall each fast or slow, sometimes a
plateau at the apex, sometimes a second smaller peak, sometimes neutral frames inside
onset–offset (a late start or an early end); ``curves="bump"`` (the first edition) is one sin²
rise and cos² fall with the apex at 25–60 %. Class proportions: ``proportions="balanced"``
(every class equally often, the first edition), ``"casme2"`` or ``"samm"`` (each clip's class
drawn with the 5-class protocol's shares: CASME II happiness 32, disgust 63, repression 27,
surprise 25, others 99 of 246; SAMM's 57, 26, 26, 15, 12 of 136 — anger, happiness, others,
surprise, contempt — given to SynthME's classes largest to largest).

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
from .synthdisk import MARKER, claim  # noqa: F401  (MARKER: the folder mark, named here too)

CLASSES = ("happiness", "disgust", "repression", "surprise", "others")
CLASS_AUS = {
    "happiness": ("6", "12"),
    "disgust": ("9", "10"),
    "repression": ("14", "17"),
    "surprise": ("1", "2", "5"),
    "others": ("4", "7"),  # the template (others="template"); "varied" draws a set per clip
}
AU_POOL = ("1", "2", "4", "5", "6", "7", "9", "10", "12", "14", "17")
CURVES, OTHERS = ("varied", "bump"), ("varied", "template")
# each class's share of clips in the 5-class protocols (counts; SynthME's classes largest to largest)
PROPORTIONS = {
    "balanced": {c: 1 for c in CLASSES},
    "casme2": {"happiness": 32, "disgust": 63, "repression": 27, "surprise": 25, "others": 99},
    "samm": {"happiness": 26, "disgust": 26, "repression": 15, "surprise": 12, "others": 57},
}
LEGACY = {"curves": "bump", "others": "template", "proportions": "balanced"}  # the first edition's SynthME


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
    curves: str = "varied"  # or "bump" (the first edition)
    others: str = "varied"  # or "template" (the first edition)
    proportions: str = "balanced"  # or "casme2", "samm"

    def __post_init__(self):
        if self.subjects < 1 or self.clips_per_subject < 1:
            raise ValueError("SynthME needs at least one subject and one clip per subject")
        if not 2 <= self.min_len <= self.max_len:
            raise ValueError(f"need 2 <= min_len <= max_len, got {self.min_len}, {self.max_len}")
        if self.difficulty <= 0:
            raise ValueError(f"difficulty must be positive, got {self.difficulty}")
        if self.size < 64:
            raise ValueError(f"size must be at least 64 px, got {self.size}")
        for name, allowed in (("curves", CURVES), ("others", OTHERS), ("proportions", tuple(PROPORTIONS))):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}")

    def stamp(self) -> dict:
        """The settings recorded beside a generated SynthME (synthme.json): the first edition's
        values of the newer settings are left out, so its folders still match."""
        return {k: v for k, v in asdict(self).items() if not (k in LEGACY and v == LEGACY[k])}


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


def varied_curve(n_total: int, onset_i: int, offset_i: int, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """A curve as real clips vary (0 outside [onset, offset] and at both ends, 1 at the apex):
    the apex anywhere in 5–95 % of the clip; rise and fall each sin² raised to a power in
    [0.5, 2] (fast or slow); with probability 0.3 each: a plateau at the apex (up to 20 % of the
    clip), a second peak of 0.3–0.6 on the longer side, neutral frames after the onset or before
    the offset (up to 20 %). Returns the curve and the apex index (the plateau's middle)."""
    n = offset_i - onset_i + 1
    t = np.arange(n_total, dtype=np.float64)
    start, end = onset_i, offset_i
    if n >= 8 and rng.uniform() < 0.3:  # neutral frames inside onset–offset
        gap = int(rng.integers(1, max(2, int(0.2 * n)) + 1))
        start, end = (start + gap, end) if rng.uniform() < 0.5 else (start, end - gap)
    m = end - start + 1
    peak = start + int(np.clip(round(rng.uniform(0.05, 0.95) * (m - 1)), 1, max(m - 2, 1)))
    plateau = int(rng.integers(1, max(2, int(0.2 * n)) + 1)) if n >= 8 and rng.uniform() < 0.3 else 0
    top0, top1 = peak, min(peak + plateau, end - 1)
    rise, fall = rng.uniform(0.5, 2.0, 2)
    c = np.zeros(n_total)
    up = (t >= start) & (t <= top0)
    # clipped at 0: (π/2)·k/k can round past π/2, and a negative base has no real power
    c[up] = np.clip(np.sin(0.5 * np.pi * (t[up] - start) / max(top0 - start, 1)), 0, 1) ** (2 * rise)
    c[(t > top0) & (t <= top1)] = 1.0
    down = (t > top1) & (t <= end)
    c[down] = np.clip(np.cos(0.5 * np.pi * (t[down] - top1) / max(end - top1, 1)), 0, 1) ** (2 * fall)
    if m >= 8 and rng.uniform() < 0.3:  # a second, smaller peak on the longer side
        left = top0 - start > end - top1
        lo, hi = (start + 1, top0 - 2) if left else (top1 + 2, end - 1)
        if hi > lo:
            at, width = rng.uniform(lo, hi), max(1.0, 0.06 * m)
            c = np.maximum(c, rng.uniform(0.3, 0.6) * np.exp(-0.5 * ((t - at) / width) ** 2) * (t > start) * (t < end))
    c[: onset_i + 1] = 0.0
    c[offset_i:] = 0.0
    c[top0:top1 + 1] = 1.0
    return c, (top0 + top1) // 2


def clip_curve(curves: str, n_total: int, onset_i: int, offset_i: int, rng: np.random.Generator):
    """The clip's intensity curve and apex index: the first edition's single bump (apex at
    25–60 %) or a varied one."""
    if curves == "varied":
        return varied_curve(n_total, onset_i, offset_i, rng)
    n_me = offset_i - onset_i + 1
    apex_i = onset_i + int(np.clip(round(rng.uniform(0.25, 0.6) * (n_me - 1)), 1, n_me - 2)) if n_me > 2 else onset_i + 1
    return intensity_curve(n_total, onset_i, apex_i, offset_i), apex_i


def class_aus(label: str, others: str, rng: np.random.Generator) -> tuple[str, ...]:
    """The action units a clip of ``label`` moves: the class's combination, or for "others"
    (``others="varied"``) 1–3 AUs of the pool drawn anew per clip, never holding another
    class's whole combination."""
    if label != "others" or others == "template":
        return CLASS_AUS[label]
    while True:
        aus = tuple(sorted(rng.choice(AU_POOL, size=int(rng.integers(1, 4)), replace=False), key=int))
        if not any(set(CLASS_AUS[c]) <= set(aus) for c in CLASSES if c != "others"):
            return aus


def clip_labels(cfg: "SynthConfig", subject: int, rng: np.random.Generator) -> list[str]:
    """A subject's clip labels: balanced (each class in turn, shuffled: the first edition) or
    drawn with the shares of ``cfg.proportions``."""
    if cfg.proportions == "balanced":
        labels = [CLASSES[(subject + i) % len(CLASSES)] for i in range(cfg.clips_per_subject)]
        rng.shuffle(labels)
        return labels
    counts = np.array([PROPORTIONS[cfg.proportions][c] for c in CLASSES], float)
    return [str(x) for x in rng.choice(CLASSES, size=cfg.clips_per_subject, p=counts / counts.sum())]


def render_clip(cfg: SynthConfig, idt: Identity, base: np.ndarray, eyes: np.ndarray, label: str, rng: np.random.Generator):
    """All frames (uint8 BGR, size²), the clip's timing and its ground truth."""
    size, d = cfg.size, cfg.difficulty
    n_me = int(rng.integers(cfg.min_len, cfg.max_len + 1))
    pre, post = int(rng.integers(2, 6)), int(rng.integers(2, 6))
    n_total = pre + n_me + post
    onset_i, offset_i = pre, pre + n_me - 1
    curve, apex_i = clip_curve(cfg.curves, n_total, onset_i, offset_i, rng)
    lo, hi = cfg.amplitude_px
    amp = float(rng.uniform(lo, hi) / d)
    aus = class_aus(label, cfg.others, rng)
    bumps = au_bumps(idt, aus, rng)
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
        landmarks=np.asarray(landmarks, np.float32), aus="+".join(aus),
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


def _identity(cfg: SynthConfig, rng: np.random.Generator, accept_face, tries: int = 20):
    """A subject's identity and its neutral face; with ``accept_face`` (a check of the neutral
    frame, uint8 BGR at the output size), identities it rejects are drawn again (up to ``tries``)."""
    for _ in range(tries):
        idt = make_identity(rng, cfg.size)
        base, eyes = draw_face(idt, cfg.size)
        if accept_face is None:
            return idt, base, eyes
        small = cv2.resize(base, (cfg.size, cfg.size), interpolation=cv2.INTER_AREA)
        if accept_face(np.clip(small, 0, 255).round().astype(np.uint8)):
            return idt, base, eyes
    raise RuntimeError(f"SynthME: no identity of {tries} drawn passed the face check")


def generate(out: str | Path, cfg: SynthConfig | None = None, progress: bool = True, accept_face=None) -> Path:
    """Write SynthME under ``out`` in the CASME II layout; returns the sheet's path.
    ``accept_face``: a check of each subject's neutral frame (e.g. that the default face
    detector finds it: cmnet.preprocess.prepare.synth_face_check); a rejected identity is drawn
    again, so no subject is lost to preprocessing."""
    from tqdm import tqdm  # plain text bars: no widget (and no IProgress warning) in notebooks

    cfg = cfg or SynthConfig()
    out = Path(out)
    claim(out, cfg)  # a folder cmnet did not write, or too little disk: refused before anything is written
    frames_root = out / "CASME2_RAW_selected"
    frames_root.mkdir(parents=True, exist_ok=True)
    seeds = np.random.SeedSequence(cfg.seed).spawn(cfg.subjects)
    rows = []
    bar = tqdm(total=cfg.subjects * cfg.clips_per_subject, desc="SynthME clips", disable=not progress, unit="clip")
    for s, ss in enumerate(seeds):
        srng = np.random.default_rng(ss.spawn(1)[0])
        idt, base, eyes = _identity(cfg, srng, accept_face)
        labels = clip_labels(cfg, s, srng)
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
    (out / "synthme.json").write_text(__import__("json").dumps(cfg.stamp(), indent=1))
    return sheet
