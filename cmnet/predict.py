"""Apply a trained fold (its ``final.pt``) to a folder of frames: class probabilities and
the per-frame intensity curve k (CMNet). A pair model (MMNet) gets the first frame as the
onset and, lacking an annotation, the frame farthest from it as the apex."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import torch

from .config import Config
from .data.validate import estimate_apex, image_problem
from .fold.augment import normalize
from .fold.batches import ClipTransform
from .io import problem, read_checksums
from .models import model_from_config
from .preprocess.clip import PreprocessError, crop_box, decode_crops, normalised_frames
from .preprocess.faces import NoFaceError, make_detector
from .runs.layout import FINAL


def numbered_frames(folder: Path) -> list[Path]:
    """Image files of ``folder`` sorted by the last number in their names."""
    if not Path(folder).is_dir():
        what = "a file" if Path(folder).exists() else "missing"
        raise ValueError(f"{folder}: {what}, not a folder of frames (a video? extract its frames into a folder first)")
    files = []
    for p in Path(folder).iterdir():
        m = re.findall(r"(\d+)", p.stem)
        if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".bmp") and m and not p.name.startswith("._"):
            files.append((int(m[-1]), p))  # ._*: macOS's resource forks, not frames
    numbers = [n for n, _ in files]
    twice = sorted(p.name for n, p in files if numbers.count(n) > 1)
    if twice:
        raise ValueError(f"{folder}: two frame files of one number ({', '.join(twice[:4])}); keep one of each")
    if len(files) < 2:
        raise ValueError(f"{folder}: need at least 2 numbered frames (.jpg/.png/.bmp), found {len(files)}")
    return [p for _, p in sorted(files)]


def load_final(checkpoint: str | Path) -> tuple[dict, Config, list[str]]:
    """A fold's final.pt: (state, config, classes); a file that is not one, or is damaged, is
    a ValueError naming it."""
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
        raise ValueError(f"{p}: not a fold's {FINAL} (it holds {held}; a {FINAL} holds model, config and classes: "
                         f"runs/<name>/seed<k>/<fold>/{FINAL})")
    return state, Config.from_flat(json.loads(state["config"]), str(p)), list(state["classes"])


def predict_folder(checkpoint: str | Path, folder: str | Path, detector: str | None = None) -> dict:
    """Class probabilities and (CMNet) the per-frame intensity k of the clip in ``folder``, by
    the fold whose final.pt is ``checkpoint``; the clip is prepared as its training clips were
    (cmnet.preprocess.clip), the face box from the first frame."""
    state, cfg, classes = load_final(checkpoint)
    frames = numbered_frames(Path(folder))
    for p in frames:
        problem = image_problem(p)
        if problem:
            raise ValueError(f"{p}: {problem}")
    pre, transform = cfg.preprocess, ClipTransform.from_config(cfg)
    try:
        box = crop_box(frames, [0], make_detector(detector or pre.detector), pre.margin, str(folder),
                       pre.level_eyes and (detector or pre.detector) in ("dlib", "face_alignment"))
        if transform.pair:  # onset = the first frame, apex = the frame farthest from it (no annotation here)
            need = [0, estimate_apex(frames)]
            dec = decode_crops(frames, need, box, pre.size)
            seq = np.stack([dec[i] for i in need])
        else:
            seq = normalised_frames(frames, box, pre, 0)[0]
    except (NoFaceError, PreprocessError) as e:
        raise ValueError(str(e)) from None
    cfg.train.device, cfg.train.channels_last = "cpu", False
    model = model_from_config(cfg, len(classes))
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as e:
        detail = " ".join(str(e).split())[:300]
        raise ValueError(f"{checkpoint}: its weights do not fit the model its config describes ({cfg.model.model}, "
                         f"{len(classes)} classes): {detail}") from None
    model.eval()
    x = torch.from_numpy(np.ascontiguousarray(seq)).permute(0, 3, 1, 2).float().div(255)[None]
    with torch.no_grad():
        out = model(normalize(transform.encoder_input(x)))
    probs = out.logits.softmax(-1)[0].tolist()
    return {"probs": dict(zip(classes, probs)), "k": None if out.k is None else out.k[0].tolist(),
            "n_frames": len(frames), "frames": seq, "model": cfg.model.model}
