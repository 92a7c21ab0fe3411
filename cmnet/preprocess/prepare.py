"""From a config to cached clips: generate SynthME when it is the dataset and is missing,
read the dataset (reporting repairs and exclusions), preprocess into the cache."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from ..config import Config
from ..data.clip import DatasetError
from ..data.readers import CASME2_CLASSES, MEGC_CLASSES, SAMM_CLASSES, SMIC_CLASSES, read_dataset
from ..runs.layout import LOCK
from ..runs.lock import exclusive
from .cache import ClipCache, preprocess

log = logging.getLogger("cmnet.preprocess")

CLASSES = {
    "synthme": CASME2_CLASSES,
    "casme2": CASME2_CLASSES,
    "samm": SAMM_CLASSES,
    "smic_hs": SMIC_CLASSES,
    "megc2019": MEGC_CLASSES,
}


def synthme_root(cfg: Config) -> Path:
    d = cfg.data
    if d.data_root:
        return Path(d.data_root)
    # the first edition's settings keep its folder names; each newer setting adds its value
    newer = "".join(f"-{k}-{v}" for k, v in (("curves", d.synth_curves), ("others", d.synth_others),
                                             ("classes", d.synth_proportions))
                    if v != {"curves": "bump", "others": "template", "classes": "balanced"}[k])
    return Path(d.data_dir) / (f"synthme-s{d.synth_seed}-{d.synth_subjects}x{d.synth_clips_per_subject}"
                           f"-{d.synth_size}px-d{d.synth_difficulty:g}{newer}")


def synth_config(cfg: Config):
    """The SynthME generator's settings from the configuration's synth_* keys."""
    from ..data.synthme import SynthConfig

    d = cfg.data
    return SynthConfig(subjects=d.synth_subjects, clips_per_subject=d.synth_clips_per_subject, seed=d.synth_seed,
                       size=d.synth_size, difficulty=d.synth_difficulty, curves=d.synth_curves, others=d.synth_others,
                       proportions=d.synth_proportions)


def synth_face_check(sc):
    """For the second edition's SynthME (any newer setting on): a check that the Haar detector
    (the default) finds a subject's neutral face, so that no identity is lost to preprocessing
    (at 48 subjects one of seed 0's was). None for the first edition's: its identities stay as
    they were (all of them are found)."""
    from ..data.synthme import LEGACY

    if all(getattr(sc, k) == v for k, v in LEGACY.items()):
        return None
    from .faces import make_detector

    detector = make_detector("haar")
    return lambda frame: detector(frame) is not None


def ensure_synthme(cfg: Config, progress: bool = True) -> Path:
    """Generate SynthME as the config describes, unless the same one is already there."""
    from ..data.synthme import generate

    root = synthme_root(cfg)
    sc = synth_config(cfg)
    stamp = root / "synthme.json"
    with exclusive(root.with_name(f".{root.name}{LOCK}")):  # studies started together: one generates
        if stamp.is_file() and json.loads(stamp.read_text()) == json.loads(json.dumps(sc.stamp())):
            return root
        if stamp.is_file():
            raise FileExistsError(f"{root} holds a SynthME made with other settings ({stamp}); "
                                  "remove it or set data_root elsewhere")
        log.info("generating SynthME into %s", root)
        generate(root, sc, progress=progress, accept_face=synth_face_check(sc))
    return root


def dataset_root(cfg: Config, progress: bool = True):
    """The folder(s) the configured dataset is read from (SynthME generated if missing)."""
    d = cfg.data
    if d.dataset == "synthme":
        if d.data_root and Path(d.data_root).exists():
            _check_folder(d.data_root, "data_root")
        root = ensure_synthme(cfg, progress)
    elif d.dataset == "megc2019":
        root = {"casme2": d.casme2_root, "samm": d.samm_root, "smic_hs": d.smic_root}
        if not all(root.values()):
            raise ValueError("dataset megc2019 needs casme2_root, samm_root and smic_root")
    else:
        if not d.data_root:
            raise ValueError(f"dataset {d.dataset} needs data_root: the folder of your licensed copy")
        root = d.data_root
    for key, folder in (root.items() if isinstance(root, dict) else [("data_root", root)]):
        _check_folder(folder, f"{key}_root" if isinstance(root, dict) else key)
    return root


def _check_folder(folder, key: str) -> None:
    """DatasetError naming ``key`` unless ``folder`` is a folder that can be listed."""
    p = Path(folder)
    try:
        is_dir = p.is_dir()
        if is_dir:
            next(p.iterdir(), None)
    except OSError as e:  # a symlink loop, a folder without read permission, …
        raise DatasetError(f"{key} {p}: cannot be read ({e.strerror or e})") from None
    if not is_dir:
        what = ("a file, not a folder" if p.exists() else
                "cannot be read (a symbolic link that leads nowhere: a loop, or a missing target)" if p.is_symlink()
                else "no such folder")
        raise DatasetError(f"{key} {p}: {what}")


def prepare_cache(cfg: Config, progress: bool = True) -> tuple[ClipCache, tuple[str, ...]]:
    """The cached clips of the configured dataset and its class names (the label order)."""
    d = cfg.data
    clips, report = read_dataset(d.dataset, dataset_root(cfg, progress), d.layout)
    if report.rows:
        log.info("%s", report)
    with exclusive(Path(d.cache_dir) / f".{d.dataset}{LOCK}"):  # one process builds a cache, the others reuse it
        cache = preprocess(clips, cfg.preprocess, d.cache_dir, d.dataset, sources=report.sources, progress=progress)
    labels = sorted(set(cache.labels.tolist()))
    if len(labels) < 2:
        raise DatasetError(f"{d.dataset}: all {len(cache)} usable clips have the label {labels[0]!r}; a classifier "
                           f"needs clips of at least two of the classes {list(CLASSES[d.dataset])}")
    return cache, CLASSES[d.dataset]
