"""What chapters 1–3 compute and draw (the data, the preprocessing, the model and its losses),
so that those notebooks hold narrative and calls only. Chapter 11 (your own data) is
``cmnet.report.own_data``.

    pictures       read_rgb, amplified_difference, image_grid (readable at page width),
                   class_grid (one clip of each class: onset, apex, offset, apex − onset)
    SynthME        curve_shape / curve_shapes (apex position, plateau, second peak, neutral
                   frames of each truth curve), curve_summary (their spread, as text to glue)
    preprocessing  face_crops (the face box and the square crop), normalisation_figure,
                   against_chance (a pooled accuracy's Wilson interval beside chance)
    model, losses  book_models, parameter_table, negative_frequencies (the samplers simulated),
                   expected_frequencies (what they should give), zero_loss_bound (Eq. 8 and 9:
                   where L_Wrst becomes positive), wrst_invariance (L_Wrst ignores time order)
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

FONT = 12  # titles and labels: about the text's size at the page's width
MMNET_REFERENCE_PARAMS = 9.44e6  # MMNet's used parameters, 5 classes (../shared/reference/mmnet.md)


# ---------------------------------------------------------------- pictures

def read_rgb(path: str | Path) -> np.ndarray:
    """An image file as RGB uint8."""
    import cv2

    img = cv2.imread(str(path))
    if img is None:
        raise FileNotFoundError(f"{path}: not a readable image")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def amplified_difference(a: np.ndarray, b: np.ndarray, gain: float = 8) -> np.ndarray:
    """(b − a) × gain around grey 128, clipped to uint8: where a frame moved against another."""
    return np.clip(128 + gain * (b.astype(np.int32) - a.astype(np.int32)), 0, 255).astype(np.uint8)


def image_grid(images, titles, ncols: int = 6, width: float = 9.0, row_labels=None, suptitle: str = ""):
    """Images in rows of ``ncols`` on a figure of fixed ``width`` (inches, about the page's), so that
    the titles stay readable however many images there are; ``row_labels`` name each row."""
    n = len(images)
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    side = width / ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, nrows * (side + 0.45) + (0.5 if suptitle else 0)),
                             squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if i < n:
            ax.imshow(images[i], cmap="gray" if np.ndim(images[i]) == 2 else None)
            ax.set_title(titles[i], fontsize=FONT)
    for r, label in enumerate(row_labels or []):
        axes[r, 0].axis("on")
        axes[r, 0].set_xticks([]), axes[r, 0].set_yticks([])
        for s in axes[r, 0].spines.values():
            s.set_visible(False)
        axes[r, 0].set_ylabel(label, fontsize=FONT)
    if suptitle:
        fig.suptitle(suptitle, fontsize=FONT + 1)
    fig.tight_layout()
    return fig


def class_grid(clips, gain: float = 8):
    """One clip of each class (the first found), a row each: onset, apex, offset and the apex −
    onset difference × ``gain``. Returns the figure and the clips shown."""
    seen = {}
    for c in clips:
        seen.setdefault(c.label, c)
    shown = [seen[k] for k in sorted(seen)]
    images, titles = [], []
    for c in shown:
        on, ap, off = read_rgb(c.frames[0]), read_rgb(c.frames[c.apex_index]), read_rgb(c.frames[-1])
        images += [on, ap, off, amplified_difference(on, ap, gain)]
        titles += ["onset", "apex", "offset", f"(apex − onset) × {gain:g}"] if c is shown[0] else [""] * 4
    labels = [f"{c.label}\nAU {c.action_units}" for c in shown]
    return image_grid(images, titles, ncols=4, width=8.0, row_labels=labels), shown


def landmark_figure(image: np.ndarray, landmarks, title: str = "", scale: int = 3):
    """A frame enlarged ``scale`` times with its landmarks (L, 2; pixel coordinates) as red dots."""
    fig, ax = plt.subplots(figsize=(4.5, 4.8))
    h, w = image.shape[:2]
    ax.imshow(image, extent=(-0.5, w - 0.5, h - 0.5, -0.5), interpolation="bicubic")
    pts = np.asarray(landmarks, float)
    ax.plot(pts[:, 0], pts[:, 1], "o", color="red", ms=2.5 * scale / 3)
    ax.set_title(title, fontsize=FONT)
    ax.axis("off")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- SynthME's curves

def curve_shape(curve) -> dict:
    """What one truth curve (onset..offset, 1 at the apex) looks like: the apex position as a
    fraction of the clip, the frames held at the apex beyond the first (plateau), whether a
    second, smaller peak rises after a dip, and the neutral (zero) frames inside onset–offset
    beyond its two end frames."""
    c = np.asarray(curve, float)
    n = len(c)
    top = np.flatnonzero(c >= 1 - 1e-9)
    moving = np.flatnonzero(c > 1e-9)
    apex = (top[0] + top[-1]) / 2 if len(top) else float(np.argmax(c))
    inner = [i for i in range(1, n - 1) if c[i] > c[i - 1] and c[i] >= c[i + 1] and 1e-3 < c[i] < 1 - 1e-9]
    lead = int(moving[0]) - 1 if len(moving) else n - 2
    trail = n - 2 - int(moving[-1]) if len(moving) else 0
    return {"apex_position": apex / max(n - 1, 1), "plateau_frames": max(len(top) - 1, 0),
            "second_peak": bool(inner), "neutral_frames": max(lead, 0) + max(trail, 0)}


def curve_shapes(clips) -> pd.DataFrame:
    """``curve_shape`` of every clip with a truth curve (SynthME), with its key and class."""
    return pd.DataFrame([{"key": c.key, "class": c.label, "frames": len(c), **curve_shape(c.intensity)}
                         for c in clips if c.intensity is not None])


def curve_summary(shapes: pd.DataFrame) -> dict:
    """The spread of the curves as numbers (fractions): the apex position's 10th and 90th
    percentiles, the shares of clips with a plateau, a second peak, neutral frames inside."""
    return {"apex_p10": float(shapes["apex_position"].quantile(0.1)),
            "apex_p90": float(shapes["apex_position"].quantile(0.9)),
            "plateau": float((shapes["plateau_frames"] > 0).mean()),
            "second_peak": float(shapes["second_peak"].mean()),
            "neutral": float((shapes["neutral_frames"] > 0).mean())}


def simulated_curves(curves: str, n: int = 400, frames: int = 16, seed: int = 0, min_len: int = 9,
                     max_len: int = 60) -> np.ndarray:
    """``n`` truth curves drawn by SynthME's own curve generator (no frame rendered), ``curves``
    "varied" or "bump", each cut to onset–offset and normalised to ``frames`` positions as the
    clip cache stores them: (n, frames)."""
    from ..data.synthme import clip_curve
    from ..preprocess.temporal import positions

    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        length, pre, post = int(rng.integers(min_len, max_len + 1)), 3, 3
        c, _ = clip_curve(curves, pre + length + post, pre, pre + length - 1, rng)
        c = c[pre:pre + length]
        out.append(np.interp(positions(length, frames), np.arange(length), c))
    return np.asarray(out)


def fixed_bump_rho(curves: np.ndarray) -> float:
    """Mean Spearman ρ between each curve and the mean of the others (the fixed bump: a k
    that reads no image)."""
    from scipy.stats import spearmanr

    total = curves.sum(0)
    rhos = [spearmanr((total - c) / (len(curves) - 1), c).statistic for c in curves if np.ptp(c) > 0]
    return float(np.mean(rhos))


def bump_sentence(rho_varied: float, rho_bump: float) -> str:
    """How the varied curves change the fixed bump's reading, in words from the two ρ."""
    if rho_varied < rho_bump - 0.05:
        return ("so a k that draws the same bump for every clip no longer follows the truth as closely: "
                "ρ(k, truth) has to beat this control to show that k reads the images")
    return "so the fixed bump still follows the truth about as well: ρ(k, truth) alone says little here"


# chapter 1's numbers that only SynthME has (its stored truth, curve shapes and AU sets): on a real
# dataset they are glued as a dash, so that the chapter's text builds and says what is absent
SYNTHME_ONLY = ("c1_landmarks", "c1_amp_min", "c1_amp_max", "c1_amp_median", "c1_frames", "c1_apex_p10",
                "c1_apex_p90", "c1_share_plateau", "c1_share_second", "c1_share_neutral", "c1_sim_n",
                "c1_rho_varied", "c1_rho_bump", "c1_rho_profile")
SYNTHME_ONLY_MD = ("c1_bump_sentence", "c1_others_sentence")


def glue_synthme_absent() -> None:
    """Glue chapter 1's SynthME-only names for a real dataset: a dash for each number, a sentence for each
    SynthME-only sentence."""
    from .prose import glue_markdown, glue_numbers

    glue_numbers(**{n: "—" for n in SYNTHME_ONLY})
    glue_markdown(**{n: "not measured (this dataset is not SynthME and stores no truth)" for n in SYNTHME_ONLY_MD})


def others_sentence(mode: str, n_sets: int, n_clips: int) -> str:
    """What the "others" clips' action units mean for a model, in words from what was drawn."""
    if n_sets > 1:
        return (f"{n_sets} different sets among {n_clips} 'others' clips (synth_others: {mode}; the most frequent "
                "first): a model cannot learn 'others' as one movement, it has to learn it as none of the four "
                "other classes' movements, as on CASME II")
    return (f"one set for all {n_clips} 'others' clips (synth_others: {mode}): here 'others' is one movement "
            "like every other class, easier than CASME II's catch-all")


# ---------------------------------------------------------------- preprocessing

def face_crops(clips, detector, margin: float, n: int = 3):
    """The first frame of ``n`` clips with the detected face box (green) and the square crop
    box with its margin (red) drawn in; returns RGB images and the clips' names."""
    import cv2

    from ..preprocess.faces import square_box

    images, titles = [], []
    for c in clips[:n]:
        img = cv2.imread(str(c.frames[0]))
        face = detector(img)
        x0, y0, side = square_box(face, margin)
        bx = tuple(int(v) for v in face.box)
        cv2.rectangle(img, bx[:2], bx[2:], (0, 255, 0), 1)
        cv2.rectangle(img, (x0, y0), (x0 + side, y0 + side), (0, 0, 255), 1)
        images.append(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))
        titles.append(f"{c.subject}/{c.clip_id}")
    return images, titles


def normalisation_figure(source, normalised, positions, ncols: int = 8):
    """A clip's original frames, then its normalised frames titled with their source
    positions (✱: between two source frames, interpolated), in one figure."""
    images = list(source) + list(normalised)
    titles = [f"src {i}" for i in range(len(source))] + \
             [f"{p:.2f}" + ("✱" if p % 1 else "") for p in positions]
    pad = (-len(source)) % ncols  # the normalised frames start on a row of their own
    images[len(source):len(source)] = [np.ones_like(source[0]) * 255] * pad
    titles[len(source):len(source)] = [""] * pad
    return image_grid(images, titles, ncols=ncols, width=9.0)


def against_chance(correct: int, n: int, chance: float, level: float = 0.95) -> dict:
    """A pooled accuracy's Wilson interval (clips taken as independent: a lower bound on the
    width) and where it lies against chance: 'above', 'below', 'indistinguishable from'."""
    from scipy.stats import binomtest

    from .prose import relation

    ci = binomtest(int(correct), int(n)).proportion_ci(level, method="wilson")
    return {"accuracy": correct / n, "lo": float(ci.low), "hi": float(ci.high),
            "relation": relation(ci.low - chance, ci.high - chance)}


def hardness_sentence(res: dict, chance: float) -> str:
    """What the plain classifier's interval (``against_chance``) says about the task."""
    from .prose import estimate_pct, pct

    head = f"{estimate_pct(res['accuracy'], res['lo'], res['hi'])}, {res['relation']} chance ({pct(chance)})"
    if res["relation"] != "above":
        return f"{head}: on this profile the classes cannot be told apart from the apex − onset difference alone."
    if res["hi"] >= 0.99:
        return f"{head}: the classes are learnable, but the task is at the ceiling, too easy to rank methods."
    return f"{head}: the classes are learnable from the motion between onset and apex, with room above for a better model."


# ---------------------------------------------------------------- model and losses

def book_models(cfg, num_classes: int = 5) -> dict:
    """The models the book trains: CMNet at this profile's widths and at the defaults, the
    ResNet + LSTM baseline, MMNet for five and three classes."""
    from ..models import create_model

    m = cfg.model
    return {
        f"cmnet (this profile: ice_width {m.ice_width})": create_model(
            "cmnet", num_classes=num_classes, ice_width=m.ice_width, ice_depth=m.ice_depth,
            embed_dim=m.embed_dim, lstm_hidden=m.lstm_hidden),
        "cmnet (defaults)": create_model("cmnet", num_classes=num_classes),
        "resnet_lstm (baseline)": create_model("resnet_lstm", num_classes=num_classes),
        "mmnet, 5 classes": create_model("mmnet", num_classes=5),
        "mmnet, 3 classes": create_model("mmnet", num_classes=3),
    }


def parameter_table(models: dict) -> pd.DataFrame:
    """Per model its trainable parameters and their split over the top-level modules."""
    rows = []
    for name, net in models.items():
        parts: dict[str, int] = {}
        for pname, p in net.named_parameters():
            top = pname.split(".")[0]
            parts[top] = parts.get(top, 0) + p.numel()
        rows.append({"model": name, "parameters": sum(parts.values()),
                     "by module": ", ".join(f"{k} {v:,}" for k, v in parts.items())})
    return pd.DataFrame(rows)


def drifting_embeddings(n: int = 16):
    """(1, n, 3) L2-normalised embeddings drifting smoothly along a clip (neighbours alike)."""
    import torch

    t = torch.linspace(0, 1, n)
    emb = torch.stack([torch.cos(2 * t), torch.sin(2 * t), 0.3 * torch.cos(5 * t)], 1)[None]
    return torch.nn.functional.normalize(emb, dim=-1)


def negative_frequencies(emb, anchor: int, tau: float, m: int, draws: int, seed: int = 0,
                         samplers=("deterministic", "random", "probabilistic")) -> dict:
    """How often each frame is drawn as a negative of ``anchor``, per draw (a frame drawn twice
    in one draw counts twice), over ``draws`` draws of each sampler."""
    import torch

    from ..losses import sample_negatives

    g = torch.Generator().manual_seed(seed)
    out = {}
    for s in samplers:
        idx = torch.cat([sample_negatives(emb, s, tau, m, g) for _ in range(draws)])[:, anchor]
        out[s] = torch.bincount(idx.reshape(-1), minlength=emb.shape[1]).numpy() / draws
    return out


def expected_frequencies(emb, anchor: int, tau: float, m: int) -> dict:
    """What the samplers should give per draw: deterministic every other frame once; random
    m draws uniform over the other frames; probabilistic m draws with the softmax of z·z/τ
    over the other frames."""
    z = np.asarray(emb[0], float)
    n = len(z)
    others = np.arange(n) != anchor
    logits = z @ z[anchor] / tau
    p = np.where(others, np.exp(logits - logits[others].max()), 0.0)
    return {"deterministic": others.astype(float), "random": others * m / (n - 1), "probabilistic": m * p / p.sum()}


def zero_loss_bound(alpha: float, xi: float, reading: str = "density") -> float:
    """|Z| below which L_Wrst = max(0, ξ − (p − α)) is zero (p ≥ α + ξ): for Eq. 8 as printed,
    p = φ(Z), |Z| = sqrt(−2 ln((α + ξ)·sqrt(2π))); for the p-value reading 2(1 − Φ(|Z|)),
    |Z| = Φ⁻¹(1 − (α + ξ)/2)."""
    from scipy.stats import norm

    t = alpha + xi
    if reading == "density":
        return math.sqrt(-2 * math.log(t * math.sqrt(2 * math.pi)))
    if reading == "two-sided":
        return float(norm.ppf(1 - t / 2))
    raise ValueError(f'reading must be "density" or "two-sided", got {reading!r}')


def wrst_invariance(q, level: float = 2.0, gain: float = 0.5, seed: int = 2) -> pd.DataFrame:
    """k = level + gain·q follows the prototype draw q (1, N) but sits too high; shuffled in
    time, reversed in time, and its trend inverted (2·level + gain − k, the same values' mirror)
    it gives the same Z and L_Wrst: the loss sees the set of k's values, not their order."""
    import torch

    from ..losses import rank_sum_z, wrst_loss

    k = level + gain * q
    perm = torch.randperm(q.shape[-1], generator=torch.Generator().manual_seed(seed))
    mirror = 2 * level + gain
    ks = {"k (follows the tendency)": k, "k shuffled in time": k[:, perm], "k reversed in time": k.flip(-1),
          f"k trend inverted ({mirror:g} − k)": mirror - k}
    return pd.DataFrame([{"k": name, "Z": float(rank_sum_z(q, v)),
                          "L_Wrst (exact ranks)": float(wrst_loss(q, v, temperature=None)),
                          "L_Wrst (soft, t = 0.05)": float(wrst_loss(q, v))} for name, v in ks.items()])


def invariance_sentence(table: pd.DataFrame) -> str:
    """Whether the rows of ``wrst_invariance`` share one Z and one loss, in words."""
    cols = ["Z", "L_Wrst (exact ranks)", "L_Wrst (soft, t = 0.05)"]
    same = all(np.allclose(table[c], table[c].iloc[0], atol=1e-6) for c in cols)
    if same:
        return (f"all four give the same Z ({table['Z'].iloc[0]:.3f}) and the same loss: L_Wrst cannot tell "
                "a k that rises and falls with the prototype from one that does the opposite")
    return "the four rows differ: on these values L_Wrst does see the order of k (read the table)"
