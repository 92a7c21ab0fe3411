"""Apply a trained fold (its ``final.pt``) to a folder of frames: class probabilities and
the per-frame intensity curve k (CMNet). A pair model (MMNet) gets the first frame as the
onset and, lacking an annotation, the frame farthest from it as the apex."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import torch

from .augment import normalize
from .config import Config
from .data.validate import estimate_apex, image_problem
from .models import model_input
from .preprocess.cache import read_frame
from .preprocess.faces import crop, make_detector, square_box
from .preprocess.temporal import needed_indices, normalize_length
from .train import build, model_input_of


def numbered_frames(folder: Path) -> list[Path]:
    """Image files of ``folder`` sorted by the last number in their names."""
    files = []
    for p in Path(folder).iterdir():
        m = re.findall(r"(\d+)", p.stem)
        if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".bmp") and m:
            files.append((int(m[-1]), p))
    if len(files) < 2:
        raise ValueError(f"{folder}: need at least 2 numbered frames (.jpg/.png/.bmp), found {len(files)}")
    return [p for _, p in sorted(files)]


def load_final(checkpoint: str | Path) -> tuple[dict, Config, list[str]]:
    """A fold's final.pt: (state, config, classes); a file that is not one, or is damaged, is
    a ValueError naming it."""
    from .runs import problem, read_checksums

    p = Path(checkpoint)
    if not p.is_file():
        raise FileNotFoundError(f"checkpoint {p} not found")
    if p.name in read_checksums(p.parent):  # written by a fold: checked against its record
        why = problem(p)
        if why:
            raise ValueError(f"{p}: damaged ({why})")
    try:
        state = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many kinds on a file that is not its own
        first = (str(e).strip().splitlines() or [""])[0][:200]
        raise ValueError(f"{p}: not a checkpoint cmnet can read ({type(e).__name__}: {first})") from None
    if not isinstance(state, dict) or not {"model", "config", "classes"} <= set(state):
        held = sorted(state)[:8] if isinstance(state, dict) else type(state).__name__
        raise ValueError(f"{p}: not a fold's final.pt (it holds {held}; a final.pt holds model, config and classes: "
                         "runs/<name>/seed<k>/<fold>/final.pt)")
    return state, Config.from_flat(json.loads(state["config"]), str(p)), list(state["classes"])


def predict_folder(checkpoint: str | Path, folder: str | Path, detector: str | None = None) -> dict:
    state, cfg, classes = load_final(checkpoint)
    frames = numbered_frames(Path(folder))
    for p in frames:
        problem = image_problem(p)
        if problem:
            raise ValueError(f"{p}: {problem}")
    det = make_detector(detector or cfg.preprocess.detector)
    img0 = read_frame(frames[0])
    face = det(img0)
    if face is None:
        raise ValueError(f"{folder}: no face found in the first frame {frames[0].name}")
    box = square_box(face, cfg.preprocess.margin)
    need = needed_indices(len(frames), cfg.preprocess.frames)
    import cv2

    pair = model_input(cfg.model.model) == "pair"
    if pair:  # onset = the first frame, apex = the frame farthest from it (no annotation here)
        need = [0, estimate_apex(frames)]
    raw = {i: read_frame(frames[i]) for i in need}
    first = img0.shape[:2]
    for i, img in raw.items():
        if img.shape[:2] != first:
            raise ValueError(f"{frames[i]}: {img.shape[1]}×{img.shape[0]} px, but the first frame {frames[0].name} is "
                             f"{first[1]}×{first[0]}: a clip's frames must all have one size")
    dec = {i: cv2.cvtColor(crop(img, box, cfg.preprocess.size), cv2.COLOR_BGR2RGB) for i, img in raw.items()}
    if pair:
        seq = np.stack([dec[i] for i in need])
    else:
        seq, _, _ = normalize_length([dec.get(i) for i in range(len(frames))], 0, cfg.preprocess.frames,
                                     cfg.preprocess.interpolation)
    cfg.train.device, cfg.train.channels_last = "cpu", False
    model, crit, _, _ = build(cfg, len(classes), torch.device("cpu"))
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as e:
        detail = " ".join(str(e).split())[:300]
        raise ValueError(f"{checkpoint}: its weights do not fit the model its config describes ({cfg.model.model}, "
                         f"{len(classes)} classes): {detail}") from None
    model.eval()
    x = torch.from_numpy(np.ascontiguousarray(seq)).permute(0, 3, 1, 2).float().div(255)[None]
    with torch.no_grad():
        out = model(normalize(model_input_of(x, cfg)))
    probs = out.logits.softmax(-1)[0].tolist()
    return {"probs": dict(zip(classes, probs)), "k": None if out.k is None else out.k[0].tolist(),
            "n_frames": len(frames), "frames": seq, "model": cfg.model.model}
