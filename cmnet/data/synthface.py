"""SynthME's faces: an identity drawn from a seed (shape, skin, hair, lighting), its neutral
face and 68 landmarks, and the displacement field of the action units (AU-like Gaussian
bumps around the brows, eyes, nose and lip corners). The clips are made in cmnet.data.synthme.

Output pixel units; drawing is supersampled ``SS`` times.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

SS = 2  # supersampling factor of the drawing


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
