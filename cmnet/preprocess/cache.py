"""Preprocess a dataset's clips once and keep them: face crop → resize → N frames, stored
as uint8 in one file per dataset and settings, with a manifest of what produced it.

    cache = preprocess(clips, settings, cache_dir, dataset_name)   # builds or reuses
    cache.frames   (K, N, S, S, 3) uint8 RGB     cache.apex     (K,) 0-based, normalised
    cache.labels   (K,) str                      cache.subjects (K,) str
    cache.keys     (K,) clip names               cache.intensity (K, N) ground truth or NaN

Files: ``<cache_dir>/<dataset>-<settings hash>.npy`` (the frames, memory-mapped when
read) and a ``.json`` manifest beside it (the per-clip records: keys, labels, subjects,
apex, ground-truth intensity, crop boxes; the source files' sizes and modification times
as a fingerprint; the settings; the library versions; the clips that failed and why). The cache is reused while the
fingerprint, the settings and the versions are unchanged, and rebuilt otherwise. Writes go
to a temporary file first, then are renamed. A clip that fails (no face found, an
unreadable frame) is reported by name in ``cache.failures`` and the manifest, never
dropped silently; ``on_error="raise"`` stops at the first one instead.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ..config import PreprocessSettings
from ..data.clip import Clip
from ..io import ArtifactError, atomic_write, save_npy
from .clip import PAIR_MAX, PreprocessError, preprocess_clip
from .faces import NoFaceError, make_detector

log = logging.getLogger("cmnet.preprocess")
FORMAT_VERSION = 2  # 2: the manifest holds the content hash


@dataclass
class ClipCache:
    frames: np.ndarray
    apex: np.ndarray
    labels: np.ndarray
    subjects: np.ndarray
    keys: np.ndarray
    intensity: np.ndarray
    boxes: np.ndarray  # (K, 3) x0, y0, side of each clip's crop in its source frames (K, 4 with level_eyes: the turn, 1/100°)
    pairs: np.ndarray | None = None  # (K, 2, PAIR_MAX+1, S, S, 3) onset / apex candidates (settings.pairs)
    pair_counts: np.ndarray | None = None  # (K, 2) valid candidates of each
    path: Path | None = None
    failures: list[dict] = field(default_factory=list)
    manifest: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.keys)


def fingerprint(clips: list[Clip], extra: list[Path] = ()) -> str:
    """A hash of every source file's path, size and modification time."""
    h = hashlib.sha1()
    for c in clips:
        h.update(f"{c.key}|{c.label}|{c.onset}|{c.apex}|{c.offset}\n".encode())
        for p in c.frames:
            st = p.stat()
            h.update(f"{p}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    for p in extra:
        st = Path(p).stat()
        h.update(f"{p}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def versions() -> dict[str, str]:
    import cmnet

    v = {"cmnet": getattr(cmnet, "__version__", "0"), "numpy": np.__version__, "opencv": cv2.__version__,
         "format": str(FORMAT_VERSION)}
    return v


def _detector_version(detector: str) -> dict[str, str]:
    """dlib's version where it finds the faces (another dlib may place the landmarks elsewhere)."""
    if detector != "dlib":
        return {}
    try:
        import dlib
    except ImportError:  # the detector itself says so, in one line
        return {"dlib": "not installed"}
    return {"dlib": dlib.__version__}


def settings_record(settings: PreprocessSettings) -> dict:
    """The settings a cache is named and checked by: a key added later (cmnet.config.ADDED_KEYS)
    is left out while it has the value caches were built with before it, so they stay valid."""
    from ..config import ADDED_KEYS

    return {k: v for k, v in asdict(settings).items() if not (k in ADDED_KEYS and ADDED_KEYS[k] == v)}


def cache_path(cache_dir: Path, dataset: str, settings: PreprocessSettings, root: str) -> Path:
    record = json.dumps([dataset, str(root), settings_record(settings)], sort_keys=True)
    key = hashlib.sha1(record.encode()).hexdigest()[:12]
    return Path(cache_dir) / f"{dataset}-{key}.npy"


def content_hash(cache: "ClipCache") -> str:
    """SHA-1 of what a cache holds: the frames, the pair candidates and the per-clip records
    (what a fold's numbers depend on; paths and times are not part of it)."""
    h = hashlib.sha1()
    for arr in (cache.frames, cache.pairs):
        if arr is not None:
            flat = np.asarray(arr).reshape(len(arr), -1) if len(arr) else np.asarray(arr)
            h.update(str((arr.shape, str(arr.dtype))).encode())
            for row in flat:  # a row at a time: a memory-mapped cache is never read whole
                h.update(np.ascontiguousarray(row).data)
    h.update(json.dumps(_records(cache), sort_keys=True).encode())
    return h.hexdigest()


def cache_content(cache: "ClipCache") -> str:
    """The cache's content hash: recorded in its manifest when it was built, else computed."""
    return cache.manifest.get("content") or content_hash(cache)


def _records(cache: "ClipCache") -> dict:
    records = {k: np.asarray(getattr(cache, k)).tolist() for k in _RECORDS}
    if cache.pair_counts is not None:
        records["pair_counts"] = np.asarray(cache.pair_counts).tolist()
    records["intensity"] = [[None if v != v else v for v in row] for row in records["intensity"]]  # NaN → JSON null
    return records


def pairs_path(path: Path) -> Path:
    return path.with_name(path.stem + ".pairs.npy")


_RECORDS = {"apex": np.int64, "labels": str, "subjects": str, "keys": str, "intensity": np.float64, "boxes": np.int64}


def load_cache(path: Path, verify: bool = True) -> ClipCache:
    """Open a built cache: frames memory-mapped (read-only), records from the manifest. A
    truncated or garbled frames file, or an edited manifest, is an ArtifactError naming the
    file (its content hash differs from the one written with it). ``verify=False`` checks
    sizes only (a worker opening the cache its driver has just verified)."""
    path = Path(path)
    mpath = path.with_suffix(".json")
    try:
        manifest = json.loads(mpath.read_text())
        rec = manifest["records"]
        frames = np.load(path, mmap_mode="r", allow_pickle=False)
        arrays = {k: np.asarray(rec[k], dtype=t) for k, t in _RECORDS.items()}  # null intensity → NaN
        arrays["intensity"] = arrays["intensity"].reshape(len(frames), -1)
        if "pair_counts" in rec:
            arrays["pairs"] = np.load(pairs_path(path), mmap_mode="r", allow_pickle=False)
            arrays["pair_counts"] = np.asarray(rec["pair_counts"], np.int64).reshape(-1, 2)
        cache = ClipCache(frames=frames, **arrays, path=path, failures=manifest.get("failures", []), manifest=manifest)
        ok = len(frames) == len(arrays["keys"]) == manifest.get("clips") and (
            not verify or content_hash(cache) == manifest.get("content"))
    except (OSError, ValueError, KeyError, TypeError, EOFError) as e:
        raise ArtifactError(f"clip cache {path} (manifest {mpath.name}) is damaged: {e}") from e
    if not ok:
        raise ArtifactError(f"clip cache {path} is damaged: its frames or its manifest {mpath.name} differ from what "
                            "was written (content hash); it is rebuilt when the study runs")
    return cache


def preprocess(
    clips: list[Clip],
    settings: PreprocessSettings | None = None,
    cache_dir: str | Path = "cache",
    dataset: str | None = None,
    sources: list[Path] = (),
    on_error: str = "report",
    progress: bool = True,
    rebuild: bool = False,
) -> ClipCache:
    """Build (or reuse) the cache of ``clips``; ``sources`` are further files whose change
    must rebuild it (the annotation sheet)."""
    if on_error not in ("report", "raise"):
        raise ValueError(f"on_error must be 'report' or 'raise', got {on_error!r}")
    if not clips:
        raise ValueError("no clips to preprocess")
    settings = settings or PreprocessSettings()
    dataset = dataset or clips[0].dataset
    root = os.path.commonpath([str(c.frames[0].parent) for c in clips])
    path = cache_path(Path(cache_dir), dataset, settings, root)
    want = {"fingerprint": fingerprint(clips, list(sources)), "settings": settings_record(settings),
            "versions": versions() | _detector_version(settings.detector)}
    cache = None if rebuild else _reusable(path, want)
    if cache is not None:
        return cache
    cache = _build(clips, settings, dataset, on_error, progress)
    cache.path = path
    path.parent.mkdir(parents=True, exist_ok=True)
    mpath = path.with_suffix(".json")
    mpath.unlink(missing_ok=True)  # no manifest until the frames are complete: a cut build is never reused
    save_npy(path, cache.frames, "the clip cache")
    if cache.pairs is not None:
        save_npy(pairs_path(path), cache.pairs, "the clip cache")
    cache.manifest = want | {"dataset": dataset, "root": root, "clips": len(cache), "failures": cache.failures,
                             "sources": [str(p) for p in sources], "records": _records(cache),
                             "content": content_hash(cache)}
    atomic_write(mpath, json.dumps(cache.manifest, indent=1, default=str).encode())
    if cache.failures:
        log.warning("%d clip(s) of %s failed preprocessing: %s", len(cache.failures), dataset,
                    "; ".join(f["reason"] if f["reason"].startswith(f["clip"]) else f"{f['clip']}: {f['reason']}"
                              for f in cache.failures))  # a reason that names its clip is not prefixed twice
    return cache


def _reusable(path: Path, want: dict) -> ClipCache | None:
    """The cache at ``path`` when it was built from the same sources, settings and versions
    and is intact; None (it is rebuilt) otherwise."""
    mpath = path.with_suffix(".json")
    if not (path.is_file() and mpath.is_file()):
        return None
    try:
        old = json.loads(mpath.read_text())
    except ValueError:
        old = {}
    stale = [k for k, v in want.items() if old.get(k) != v]
    if stale:
        log.info("cache %s is stale (%s changed); rebuilding", path, ", ".join(stale))
        return None
    try:
        cache = load_cache(path)
    except ArtifactError as e:
        log.warning("%s; rebuilding it", e)
        return None
    log.info("reusing cache %s", path)
    return cache


def _build(clips: list[Clip], settings: PreprocessSettings, dataset: str, on_error: str, progress: bool) -> ClipCache:
    """Every clip preprocessed (a failing one reported by name, or raised with ``on_error="raise"``)."""
    from tqdm import tqdm  # plain text bars: no widget (and no IProgress warning) in notebooks

    detector = make_detector(settings.detector, settings.device)
    n, s = settings.frames, settings.size
    frames = np.empty((len(clips), n, s, s, 3), np.uint8)
    pairs = np.empty((len(clips), 2, PAIR_MAX + 1, s, s, 3), np.uint8) if settings.pairs else None
    kept, apex, inten, boxes, counts, failures = [], [], [], [], [], []
    for c in tqdm(clips, desc=f"preprocess {dataset}", unit="clip", disable=not progress):
        try:
            f, a, it, box, pr = preprocess_clip(c, settings, detector)
        except (NoFaceError, PreprocessError, ValueError) as e:
            if on_error == "raise":
                raise
            failures.append({"clip": c.key, "reason": str(e)})
            log.warning("%s", e)
            continue
        frames[len(kept)] = f
        if pr is not None:
            pairs[len(kept)] = pr[0]
            counts.append(pr[1])
        kept.append(c)
        apex.append(a)
        inten.append(it)
        boxes.append(box)
    if not kept:
        raise PreprocessError(f"every clip of {dataset} failed; first: {failures[0]['reason']}")
    return ClipCache(
        frames=frames[: len(kept)], apex=np.asarray(apex, np.int64),
        labels=np.asarray([c.label for c in kept]), subjects=np.asarray([c.subject for c in kept]),
        keys=np.asarray([c.key for c in kept]), intensity=np.asarray(inten, np.float64),
        boxes=np.asarray(boxes, np.int64), failures=failures,
        pairs=None if pairs is None else pairs[: len(kept)],
        pair_counts=np.asarray(counts, np.int64).reshape(-1, 2) if settings.pairs else None,
    )
