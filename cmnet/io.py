"""Files that are what was written: atomic, checked writes and a record of every file's size
and checksum.

    atomic_write(path, data)         temporary file, fsync, rename: a reader sees the old file or
                                     the new one; a failed write (disk full, I/O error) raises
                                     WriteError and leaves the old file as it was
    write_bytes(path, data)          atomic_write, then size and SHA-256 recorded in the folder's
                                     checksums.json (write_text, torch_save alike)
    problem(path)                    None if the file is what was written, else why not
    check(path)                      the path, or ArtifactError naming it
    save_npy(path, array)            np.save through a temporary file (the clip cache)

A crash between a file's rename and the update of checksums.json leaves a file whose
record disagrees: it is then treated as damaged and recomputed, never trusted.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import logging
import os
from pathlib import Path

log = logging.getLogger("cmnet.io")

CHECKSUMS = "checksums.json"


class WriteError(RuntimeError):
    """A file could not be written (disk full, read-only, I/O error); names the file. The
    previous version of the file, if any, is untouched; no partial file is left."""


class ArtifactError(RuntimeError):
    """A file is not what was written (truncated, edited, garbled, missing); names the file."""


def _write_all(fd: int, data: bytes) -> None:
    """os.write until done (a short write is not an error); tests replace os.write to
    simulate a full disk."""
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file, fsync and rename: a reader sees the
    old file or the new one, never a part. Any OSError → WriteError naming the path; the
    temporary file is removed."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError as e:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        what = "disk full" if e.errno == errno.ENOSPC else (e.strerror or str(e))
        raise WriteError(f"{path}: could not write {len(data)} bytes ({what}); the previous version, if any, "
                         "is kept — free space or fix the folder and run again: finished work is kept") from e


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_checksums(folder: Path) -> dict:
    """The folder's record of its files ({} when none, or when the record itself is damaged)."""
    p = Path(folder) / CHECKSUMS
    try:
        rec = json.loads(p.read_text())
        return rec if isinstance(rec, dict) else {}
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        log.warning("%s is damaged: every file it recorded is treated as unchecked", p)
        return {}


def write_bytes(path: Path, data: bytes) -> None:
    """atomic_write, then the file's size and SHA-256 recorded in its folder's checksums.json."""
    path = Path(path)
    atomic_write(path, data)
    rec = read_checksums(path.parent)
    rec[path.name] = {"size": len(data), "sha256": digest(data)}
    atomic_write(path.parent / CHECKSUMS, json.dumps(rec, indent=1, sort_keys=True).encode())


def write_text(path: Path, text: str) -> None:
    write_bytes(path, text.encode())


def torch_save(obj, path: Path) -> None:
    import torch

    buf = io.BytesIO()
    torch.save(obj, buf)
    write_bytes(path, buf.getvalue())


def forget(path: Path) -> None:
    """Remove a file and its record."""
    path = Path(path)
    path.unlink(missing_ok=True)
    rec = read_checksums(path.parent)
    if rec.pop(path.name, None) is not None:
        atomic_write(path.parent / CHECKSUMS, json.dumps(rec, indent=1, sort_keys=True).encode())


_VERIFIED: dict[str, tuple[int, int, str]] = {}  # path → (size, mtime_ns, sha256) found intact in this process


def problem(path: Path, checksums: dict | None = None) -> str | None:
    """None when ``path`` is the file that was recorded; else what is wrong, in words. A file
    found intact is not hashed again in this process while its size and time are unchanged
    (a study's rerun checks every finished fold)."""
    path = Path(path)
    rec = (read_checksums(path.parent) if checksums is None else checksums).get(path.name)
    if not path.is_file():
        return "missing"
    if rec is None:
        return "no size or checksum recorded for it (written by an older cmnet, or cut short)"
    st = path.stat()
    if st.st_size != rec["size"]:
        return f"{st.st_size} bytes, {rec['size']} written (truncated or replaced)"
    key = str(path.resolve())
    if _VERIFIED.get(key) == (st.st_size, st.st_mtime_ns, rec["sha256"]):
        return None
    if file_digest(path) != rec["sha256"]:
        return "checksum differs from the one recorded when it was written (edited or garbled)"
    _VERIFIED[key] = (st.st_size, st.st_mtime_ns, rec["sha256"])
    return None


def check(path: Path, checksums: dict | None = None) -> Path:
    """``path`` if it is the file that was written, else ArtifactError naming it."""
    why = problem(path, checksums)
    if why:
        raise ArtifactError(f"{path}: damaged ({why})")
    return Path(path)


def save_npy(path: Path, array, what: str = "the array") -> None:
    """np.save through a temporary file and a rename; a failed write (disk full) is a
    WriteError naming ``path``, and no partial file is left."""
    import numpy as np

    path = Path(path)
    tmp = path.with_name(path.stem + ".tmp.npy")
    try:
        with open(tmp, "wb") as f:
            np.save(f, array)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise WriteError(f"{path}: could not write {what} ({e.strerror or e}); nothing was replaced") from e


def check_output(path: Path, flag: str, force: bool = False, inputs: tuple = ()) -> Path:
    """A file the user named for a command to write (``--csv``, ``--figure``, ``--out``): refused,
    one line naming ``flag``, when it is a folder, one of ``inputs`` or inside an input folder
    (never, even with ``force``), or an existing file unless ``force``."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{flag} {path}: a folder; give the name of a file to write")
    here = path.resolve()
    for given in inputs:
        src = Path(given).resolve()
        if here == src or (src.is_dir() and here.is_relative_to(src)):
            raise FileExistsError(f"{flag} {path}: that is {'inside ' if here != src else ''}an input ({given}); "
                                  "write it elsewhere")
    if path.exists() and not force:
        raise FileExistsError(f"{flag} {path} exists; choose another name, or --force to replace it")
    return path


def shorten(text: str, limit: int = 200) -> str:
    """A value's echo in an error message, cut to ``limit`` characters (a hostile file or value
    can be megabytes long)."""
    text = str(text)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"
