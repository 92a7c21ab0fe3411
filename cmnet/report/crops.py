"""Chapter 2's comparison of face detectors: the same clips cropped by each (arrays ready for
``chapters_data.image_grid``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def detector_crops(clips, detectors=("haar", "dlib"), margin: float = 0.15, size: int = 112, n: int = 3,
                   frame: str = "apex", level_eyes: bool = False) -> dict:
    """The same ``n`` clips cropped by each detector as the cache crops them (one box per clip from
    its onset frame, falling back to the apex and last frames: cmnet.preprocess.clip.crop_box),
    ready for a figure: ``{"titles": [subject/clip …], "crops": {detector: (n, size, size, 3) uint8
    RGB of the ``frame`` ("onset" or "apex")}, "boxes": {detector: [box …]}, "missing": {detector:
    [clip keys where it found no face]}}``; a clip without a face gets a mid-grey square.
    ``level_eyes`` applies to the landmark detectors (dlib, face_alignment) only. For chapter 2::

        d = detector_crops(clips, margin=p.margin)
        ch.image_grid([*d["crops"]["haar"], *d["crops"]["dlib"]], d["titles"] * 2, ncols=len(d["titles"]),
                      row_labels=["Haar", "dlib"]).show()
    """
    from ..preprocess.clip import crop_box, decode_crops
    from ..preprocess.faces import NoFaceError, make_detector

    if frame not in ("onset", "apex"):
        raise ValueError(f"frame must be 'onset' or 'apex', got {frame!r}")
    chosen = list(clips)[:n]
    out = {"titles": [f"{c.subject}/{c.clip_id}" for c in chosen], "crops": {}, "boxes": {}, "missing": {}}
    for name in detectors:
        det = make_detector(name) if isinstance(name, str) else name
        name = det.name
        crops, boxes, missing = [], [], []
        for c in chosen:
            i = 0 if frame == "onset" else c.apex_index
            try:
                box = crop_box(c.frames, [0, c.apex_index, len(c) - 1], det, margin, c.key,
                               level_eyes and name in ("dlib", "face_alignment"))
            except NoFaceError:
                missing.append(c.key)
                boxes.append(None)
                crops.append(np.full((size, size, 3), 128, np.uint8))
                continue
            boxes.append(tuple(int(v) for v in box))
            crops.append(decode_crops(c.frames, [i], box, size)[i])
        out["crops"][name], out["boxes"][name], out["missing"][name] = np.stack(crops), boxes, missing
    return out


# ------------------------------------------------------------------ the Haar-vs-dlib study (issue 33)

DETECTOR_STUDY = "detector-study.json"  # under the repository's results/ (tools/detector_study.py writes it)


def detector_study_record(table, accuracy: dict, cfg, seed: int, env: dict | None = None,
                          profile: str = "cpu") -> dict:
    """What the Haar-vs-dlib study keeps (JSON-ready): ``table`` (tools/detector_study.py's
    ``detector_delta``: one row per metric, fractions), each arm's accuracy on the clips both
    tested (``{"haar": …, "dlib": …}``), the design it ran at (``cfg``: the cpu profile's
    baseline config, ``profile`` its profile) and the seed."""
    from .scope import scope_words

    rows = [{k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()}
            for r in table.to_dict(orient="records")]
    return {"seed": int(seed), "profile": profile, "scope": scope_words(cfg, repaired_input=False),
            "folds": int(cfg.study.kfold_k), "subjects": int(cfg.data.synth_subjects), "epochs": int(cfg.train.epochs),
            "accuracy": {k: float(v) for k, v in accuracy.items()}, "rows": rows, "env": env or {}}


def seed_accuracies(results_dir: str | Path, study: str = "cpu-baseline") -> list[float]:
    """The pooled accuracy of each seed of ``study`` from its summary under ``results_dir`` (empty
    where there is none): how far one retraining moves the number the detector study compares."""
    import json

    from ..runs.layout import SUMMARY

    f = Path(results_dir) / study / SUMMARY
    if not f.is_file():
        return []
    return [float(x["pooled_accuracy"]) for x in json.loads(f.read_text()).get("seeds", [])
            if isinstance(x, dict) and "pooled_accuracy" in x]


def detector_study_sentence(path: str | Path, profile: str = "cpu", seeds: list[float] | None = None) -> str:
    """Chapter 2's sentence on the Haar-vs-dlib study from its record (``path``): Δ = dlib − Haar in
    accuracy with its interval and verdict, the clips only one detector kept, the scope; with
    ``seeds`` (the Haar baseline's accuracy per seed, :func:`seed_accuracies`) how far a retraining
    moves it, beside Δ (the interval resamples subjects, not trainings). Where the record is
    missing or was made with another profile, says so and how to make it."""
    import json

    from .prose import count, estimate_pp, p_value, pct, pp

    path = Path(path)
    if not path.is_file():
        return (f"The study that answers this has not been run for this edition (`make detector-study` trains the "
                f"baseline once with each detector and writes `results/{DETECTOR_STUDY}`).")
    rec = json.loads(path.read_text())
    if rec.get("profile") != profile:
        return (f"The committed study was made with the profile `{rec.get('profile')}`, not this chapter's "
                f"`{profile}`: `make detector-study` remakes it.")
    r = next(x for x in rec["rows"] if x["metric"] == "accuracy")
    acc = rec["accuracy"]
    if r["p"] < 0.05:
        verdict = f"a test that resamples subjects finds a difference ({p_value(r['p'])})"
    else:
        verdict = (f"the two cannot be told apart here; the smallest difference this design could have detected "
                   f"is {pp(r['mde'], signed=False)}")
    only = int(r.get("only_one", 0))
    kept = f"; {count(only, 'clip')} kept by one detector only" if only else ""
    out = (f"The baseline trained once on each crop (seed {rec['seed']}, {rec['subjects']} subjects in "
           f"{rec['folds']} folds, {rec['scope']}): Haar {pct(acc['haar'])}, dlib {pct(acc['dlib'])}; "
           f"dlib − Haar = {estimate_pp(r['delta'], r['ci_low'], r['ci_high'])} on the "
           f"{count(int(r['clips']), 'clip')} both tested (subjects resampled){kept} — {verdict}.")
    if seeds and len(seeds) > 1:
        gap = max(seeds) - min(seeds)
        within = abs(r["delta"]) <= gap
        out += (f" The interval resamples subjects, not trainings: the same Haar baseline trained with each of "
                f"its {count(len(seeds), 'seed')} moves by {pp(gap, signed=False)} here, so this difference is "
                + ("within what a retraining alone gives, and the detector's part in it cannot be told apart from "
                   "the retraining's" if within else "larger than what a retraining alone gives")
                + " (one seed per detector: a second would tell them apart).")
    return out
