"""Checks the readers share: the annotation sheet's header, frame files in numeric order,
image headers, the apex estimate, and the assembly of one Clip with its repairs."""

from __future__ import annotations

import math
import re
from pathlib import Path

import cv2
import numpy as np

from ..formats import count
from .clip import Clip, DatasetError, LoadReport

_MAGIC = {".jpg": b"\xff\xd8\xff", ".jpeg": b"\xff\xd8\xff", ".bmp": b"BM", ".png": b"\x89PNG"}


def read_sheet(path: Path, required: list[str], header: int = 0):
    """Read the first sheet of an .xlsx file with its header on 0-based row ``header``; a
    missing column is a DatasetError naming the file, the columns expected and, when it can
    find them, the row where the header really is."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"annotation sheet {path} not found")
    try:
        raw = pd.read_excel(path, sheet_name=0, header=None)
    except Exception as e:  # openpyxl raises many kinds on a broken file
        raise DatasetError(f"cannot read annotation sheet {path}: {e}") from e
    cells = [str(v).strip() for v in raw.iloc[header].tolist()] if len(raw) > header else []
    missing = [c for c in required if c not in cells]
    if missing:
        hint = ""
        for i, row in raw.head(40).iterrows():
            if all(c in {str(v).strip() for v in row.tolist()} for c in required):
                hint = f"; the header seems to be on Excel row {i + 1}, not row {header + 1}"
                break
        raise DatasetError(
            f"{path}: missing column{'s' * (len(missing) != 1)} {missing} in the header on Excel row {header + 1}; "
            f"expected columns {required}{hint}"
        )
    df = raw.iloc[header + 1 :].reset_index(drop=True)
    df.columns = cells
    return df


def scan_frames(folder: Path, pattern: str, clashes: list | None = None) -> dict[int, Path]:
    """Frame files of ``folder`` whose name matches ``pattern`` (one group: the frame
    number), keyed and sorted by number (never by directory order). macOS's ``._*`` files
    (a copy's resource forks) are not frames. Two files of one number (img1.jpg, img01.jpg)
    keep neither: their names go to ``clashes`` (the clip is then excluded, naming them)."""
    rx = re.compile(pattern)
    found: dict[int, list[Path]] = {}
    for p in folder.iterdir():
        m = None if p.name.startswith("._") else rx.search(p.name)
        if m and p.is_file():
            found.setdefault(int(m.group(1)), []).append(p)
    if clashes is not None:
        clashes += [sorted(q.name for q in ps) for ps in found.values() if len(ps) > 1]
    return {n: ps[0] for n, ps in sorted(found.items()) if len(ps) == 1}


def image_problem(path: Path) -> str | None:
    """None if the file looks like a complete image (non-empty, the right magic bytes, a
    JPEG's end marker near its end), else what is wrong. Cheap: reads a few bytes."""
    try:
        size = path.stat().st_size
        if size == 0:
            return "empty file"
        with open(path, "rb") as f:
            head = f.read(8)
            f.seek(max(0, size - 64))
            tail = f.read()
    except OSError as e:
        return f"unreadable ({e.strerror})"
    magic = _MAGIC.get(path.suffix.lower())
    if magic and not head.startswith(magic):
        return "not an image of its extension (bad header)"
    if path.suffix.lower() in (".jpg", ".jpeg") and b"\xff\xd9" not in tail:
        return "truncated JPEG (no end marker)"
    return None


def read_gray_small(path: Path) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_REDUCED_GRAYSCALE_4)
    if img is None:
        raise DatasetError(f"cannot decode image {path}")
    return img.astype(np.float32)


def estimate_apex(paths: list[Path]) -> int:
    """0-based index of the frame farthest from the first (onset) frame: the largest mean
    absolute grayscale difference at quarter resolution. Used for SMIC-HS, which gives no
    apex, and to repair a missing apex elsewhere."""
    ref = read_gray_small(paths[0])
    diffs = [float(np.abs(read_gray_small(p) - ref).mean()) for p in paths]
    return int(np.argmax(diffs))


def _number(v) -> int | None:
    """An annotation cell as a frame number, or None when it is missing ('/', '-1', NaN).
    A fractional one (61.9) is not a frame number: see _fractional."""
    if v is None:
        return None
    if isinstance(v, str):
        v = v.strip()
        if not re.fullmatch(r"-?\d+(\.0+)?", v):
            return None
        v = float(v)
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, float) and v != int(v):
        return None
    n = int(v)
    return None if n < 0 else n


def _fractional(v) -> bool:
    """A cell holding a number with a fractional part (61.9, '61.5'): never truncated to a frame."""
    try:
        f = float(v.strip() if isinstance(v, str) else v)
    except (TypeError, ValueError):
        return False
    return math.isfinite(f) and f != int(f)


def build_clip(
    report: LoadReport,
    source: str,
    *,
    dataset: str,
    subject: str,
    clip_id: str,
    folder: Path,
    pattern: str,
    onset,
    apex,
    offset,
    label: str,
    known_labels: set[str],
    classes: tuple[str, ...],
    action_units: str = "",
) -> Clip | None:
    """Validate one annotation row against its frames; return the Clip (with any repairs
    noted) or None after reporting why it was excluded."""
    name = f"{subject}/{clip_id}"
    why = _label_problem(label, known_labels, classes)
    is_dir = _is_dir(folder)
    clashes: list = []
    frames = None if why or is_dir is not True else scan_frames(folder, pattern, clashes)
    if not why and is_dir is not True:
        why = f"frame folder {folder} " + ("not found" if is_dir is False else f"cannot be read ({is_dir})")
    elif not why and clashes:
        why = f"two frame files of one number in {folder}: {' and '.join(clashes[0])}; keep one"
    elif not why and not frames:
        why = f"no frame files matching {pattern!r} in {folder}"
    if why:
        report.excluded(source, name, why)
        return None
    notes: list[str] = []
    span = _span(report, source, name, folder, frames, onset, offset, notes)
    if span is None:
        return None
    on, off, wanted, paths = span
    ap = _apex(report, source, name, wanted, paths, apex, on, off, notes)
    if ap is None:
        return None
    truth = folder / "truth.npz"
    intensity = _truth(truth, wanted, notes) if truth.is_file() else None
    return Clip(dataset, subject, clip_id, paths, wanted, on, ap, off, label, action_units, intensity, notes)


def _truth(path: Path, wanted, notes: list[str]) -> list[float] | None:
    """SynthME's per-frame ground truth beside a clip's frames; a truth.npz that is not this
    clip's (left by a copy, another SynthME, a damaged file) is named in the notes and ignored."""
    import zipfile

    try:
        with np.load(path) as t:
            gt = dict(zip(t["frame_numbers"].tolist(), t["intensity"].tolist()))
        return [float(gt[n]) for n in wanted]
    except (KeyError, ValueError, TypeError, OSError, EOFError, zipfile.BadZipFile) as e:
        notes.append(f"{path.name} ignored: not this clip's ground truth ({type(e).__name__}: {str(e)[:80]})")
        return None


def _is_dir(folder: Path) -> bool | str:
    """True or False; the reason when the folder cannot even be asked (a name too long, …)."""
    try:
        return folder.is_dir()
    except OSError as e:
        return e.strerror or str(e)


def _label_problem(label: str, known_labels: set[str], classes: tuple[str, ...]) -> str | None:
    if label not in known_labels:
        return f"unknown label {label!r} (known: {sorted(known_labels)})"
    if label not in classes:
        return f"label {label!r} is not in the protocol's classes {list(classes)}"
    return None


def _span(report: LoadReport, source: str, name: str, folder: Path, frames: dict, onset, offset, notes: list):
    """(onset, offset, frame numbers onset..offset, their files), the offset repaired when it is
    invalid; None after reporting why the clip is excluded."""
    numbers = list(frames)
    for what, cell in (("onset", onset), ("offset", offset)):
        if _fractional(cell):
            report.excluded(source, name, f"{what} {cell!r} is not a whole frame number")
            return None
    on, off = _number(onset), _number(offset)
    if on is None:
        report.excluded(source, name, f"onset {onset!r} is not a frame number")
        return None
    if on not in frames:
        report.excluded(source, name, f"onset frame {on} has no file in {folder}")
        return None
    if off is None or off <= on or off > numbers[-1]:
        new = numbers[-1]
        msg = f"offset {offset!r} invalid (onset {on}, last frame on disk {new}); set to the last frame {new}"
        report.repaired(source, name, msg)
        notes.append(msg)
        off = new
    wanted = list(range(on, off + 1))
    missing = [n for n in wanted if n not in frames]
    if missing:
        report.excluded(source, name, f"{count(len(missing), 'frame file')} missing between onset and offset, "
                                      f"first: number {missing[0]} in {folder}")
        return None
    paths = [frames[n] for n in wanted]
    for p in paths:
        problem = image_problem(p)
        if problem:
            report.excluded(source, name, f"{p}: {problem}")
            return None
    if len(paths) < 2:
        report.excluded(source, name, f"clip too short: {len(paths)} frame between onset and offset")
        return None
    return on, off, wanted, paths


def _apex(report: LoadReport, source: str, name: str, wanted, paths, apex, on: int, off: int, notes: list):
    """The apex frame number, estimated when missing; None after reporting one outside onset–offset."""
    if _fractional(apex):
        report.excluded(source, name, f"apex {apex!r} is not a whole frame number")
        return None
    ap = _number(apex)
    if ap is None:
        ap = wanted[estimate_apex(paths)]
        msg = f"apex {apex!r} missing; estimated as frame {ap} (largest difference from the onset frame)"
        report.repaired(source, name, msg)
        notes.append(msg)
    elif not on <= ap <= off:
        report.excluded(source, name, f"apex {ap} outside onset–offset [{on}, {off}]")
        return None
    return ap
