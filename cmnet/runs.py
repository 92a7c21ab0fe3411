"""What makes a fold folder trustworthy: atomic, checked writes; a record of every file's
size and checksum; the fingerprint of what produced the folder; one writer at a time.

    write_bytes(path, data)          temporary file, fsync, rename; size and SHA-256 recorded
                                     in the folder's checksums.json; a failed write (disk full,
                                     I/O error) raises WriteError and leaves the old file as it was
    problem(path)                    None if the file is what was written, else why not
    fold_fingerprint(cfg, cache)     what produced a fold: the result-relevant configuration,
                                     the clip cache's content hash, the package version, the commit
    fingerprint_changes(old, new)    ["epochs: 2 → 3", …]: what differs in what decides results
    with StudyLock(folder): …        one writer per study; a lock whose holder died is stale

A crash between a file's rename and the update of checksums.json leaves a file whose
record disagrees: it is then treated as damaged and recomputed, never trusted.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import io
import json
import logging
import os
import socket
import time
from pathlib import Path

log = logging.getLogger("cmnet.runs")

CHECKSUMS = "checksums.json"
FINGERPRINT = "fingerprint.json"


class WriteError(RuntimeError):
    """A file could not be written (disk full, read-only, I/O error); names the file. The
    previous version of the file, if any, is untouched; no partial file is left."""


class ArtifactError(RuntimeError):
    """A file is not what was written (truncated, edited, garbled, missing); names the file."""


class LockedError(RuntimeError):
    """Another process holds the study; names it."""


# ------------------------------------------------------------------ writes

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


def strip_weights(folder: Path) -> int:
    """Remove a finished fold's weight files (final.pt, last.pt) and their records, e.g. to
    carry a study's artifacts from a GPU machine: the fold still reads as finished (its
    tables need no weights), but a damaged file of it can then only be recomputed by
    training again. Returns the bytes freed."""
    freed = 0
    for name in ("final.pt", "last.pt"):
        p = Path(folder) / name
        if p.is_file():
            freed += p.stat().st_size
        forget(p)
    return freed


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


# ------------------------------------------------------------------ fingerprints

@functools.lru_cache(maxsize=1)
def git_commit() -> str:
    import subprocess

    import cmnet

    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=Path(cmnet.__file__).parent).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        out = ""
    return out or "unknown"


def fold_fingerprint(cfg, cache_content: str) -> dict:
    """What decides a fold's numbers: the configuration without the keys that cannot change
    them (cmnet.config.NOT_IN_FINGERPRINT), the clip cache's content hash, the package version;
    the git commit is recorded beside them (see fingerprint_changes)."""
    import cmnet

    from .config import NOT_IN_FINGERPRINT

    conf = {k: v for k, v in cfg.to_flat().items() if k not in NOT_IN_FINGERPRINT}
    return {"config": conf, "cache": cache_content, "cmnet": cmnet.__version__, "git_commit": git_commit()}


def fingerprint_changes(old: dict, new: dict) -> list[str]:
    """What differs between two fingerprints in what decides results, as "key: old → new".
    The git commit is not compared (every commit, documentation ones too, would otherwise
    discard all runs); it is recorded in each fold's fingerprint.json and env.json."""
    out = []
    oc, nc = old.get("config", {}), new.get("config", {})
    for k in sorted(set(oc) | set(nc)):
        if k in nc and k in oc and oc[k] != nc[k]:
            out.append(f"{k}: {oc[k]!r} → {nc[k]!r}")
        elif k not in oc:
            out.append(f"{k}: (not recorded) → {nc[k]!r}")
        elif k not in nc:
            out.append(f"{k}: {oc[k]!r} → (no such key now)")
    if old.get("cache") != new.get("cache"):
        out.append(f"{CACHE_CHANGE}{str(old.get('cache'))[:12]} → {str(new.get('cache'))[:12]}")
    if old.get("cmnet") != new.get("cmnet"):
        out.append(f"cmnet version: {old.get('cmnet')} → {new.get('cmnet')}")
    return out


CACHE_CHANGE = "clip cache content: "


def only_cache_changed(changes: list[str]) -> bool:
    """The only difference is the clip cache's content (e.g. the same SynthME generated and
    preprocessed on another machine, whose JPEG encoder rounds differently)."""
    return len(changes) == 1 and changes[0].startswith(CACHE_CHANGE)


def recorded_fingerprint(folder: Path) -> dict | None:
    """The fingerprint a fold folder was made with; None for a folder nothing was written to.
    Folders of an older cmnet without fingerprint.json give their config.json as the config."""
    folder = Path(folder)
    seen = []
    for p, wrap in ((folder / FINGERPRINT, False), (folder / "config.json", True)):
        if p.is_file():
            why = problem(p)
            if why and not why.startswith("no size"):  # damaged: try the other record
                seen.append(f"{p.name} damaged")
                continue
            try:
                data = json.loads(p.read_text())
            except (OSError, ValueError):
                seen.append(f"{p.name} unreadable")
                continue
            return {"config": data, "cache": "not recorded", "cmnet": "not recorded"} if wrap else data
    if seen:
        return {"config": {}, "cache": "unknown", "cmnet": "unknown (" + ", ".join(seen) + ")"}
    return None


# ------------------------------------------------------------------ one writer

def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def lock_holder(folder: Path) -> dict | None:
    """Who holds ``folder``'s lock now, as far as can be told without taking it: the holder
    the lock file names, if that process is alive (on this host) or on another host; None
    when the lock is free (empty file) or its holder is gone."""
    p = Path(folder) / ".lock"
    try:
        h = json.loads(p.read_text() or "{}")
    except (OSError, ValueError):
        return None
    if not h.get("pid"):
        return None
    if h.get("host") == socket.gethostname() and not _pid_alive(int(h["pid"])):
        return None
    return h


class StudyLock:
    """An exclusive lock on a folder for one process (``<folder>/.lock``, fcntl.flock: the
    kernel releases it when its holder dies, so a killed study's lock is free at once). The
    file names the holder (host, pid, since); a second holder gets LockedError naming it.
    A lock file whose holder is gone is reported as stale and taken over."""

    def __init__(self, folder: Path, what: str = "study"):
        self.folder, self.what = Path(folder), what
        self.path = self.folder / ".lock"
        self.fd = None

    def holder(self) -> dict:
        try:
            return json.loads(self.path.read_text() or "{}")
        except (OSError, ValueError):
            return {}

    def acquire(self) -> "StudyLock":
        import fcntl

        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            h = self.holder()
            raise LockedError(f"{self.what} {self.folder} is being written by another process: host "
                              f"{h.get('host', '?')}, pid {h.get('pid', '?')}, since {h.get('since', '?')} "
                              f"(lock {self.path}); wait for it to finish, or stop it") from None
        old = self.holder()
        if old.get("pid"):  # a holder that never released: it was killed (the flock was free)
            gone = old.get("host") == socket.gethostname() and not _pid_alive(int(old["pid"]))
            log.warning("%s: stale lock of pid %s on %s (since %s) taken over: %s", self.path, old.get("pid"),
                        old.get("host"), old.get("since"), "its process is gone" if gone else "it no longer holds it")
        self.stale = old or None
        info = {"host": socket.gethostname(), "pid": os.getpid(),
                "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        self.fd = fd
        return self

    def release(self) -> None:
        if self.fd is not None:
            os.ftruncate(self.fd, 0)  # an empty lock file: nobody holds it
            os.close(self.fd)  # closing releases the flock
            self.fd = None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()


# ------------------------------------------------------------------ carrying studies

def pack(studies: list[Path], out: Path, weights: bool = False) -> dict:
    """One .tar.gz of whole study folders (``runs/<name>/``), members named ``<name>/…`` so that
    ``tar -xzf ARCHIVE -C runs/`` puts them back. Without ``weights`` the .pt files are left out
    and each fold's checksums.json in the archive forgets them (as strip_weights does): the
    folds read as finished where they are unpacked. Locks and temporary files stay behind.
    Returns {"path", "bytes", "files", "folds"}."""
    import tarfile

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    n_files = n_folds = 0
    tmp = out.with_name(f".{out.name}.tmp")
    with tarfile.open(tmp, "w:gz") as tar:
        for study in map(Path, studies):
            if not (study / "study.json").is_file() and not any(study.glob("seed*")):
                raise FileNotFoundError(f"{study}: not a study folder (no study.json, no seed*/)")
            for p in sorted(study.rglob("*")):
                if not p.is_file() or p.name == ".lock" or p.name.endswith(".tmp"):
                    continue
                if p.suffix == ".pt" and not weights:
                    continue
                name = f"{study.name}/{p.relative_to(study).as_posix()}"
                if p.name == CHECKSUMS and not weights:
                    rec = {k: v for k, v in read_checksums(p.parent).items() if not k.endswith(".pt")}
                    data = json.dumps(rec, indent=1, sort_keys=True).encode()
                    info = tarfile.TarInfo(name)
                    info.size, info.mtime = len(data), int(p.stat().st_mtime)
                    tar.addfile(info, io.BytesIO(data))
                else:
                    tar.add(p, arcname=name)
                n_files += 1
                n_folds += p.name == "done.json"
    os.replace(tmp, out)
    return {"path": out, "bytes": out.stat().st_size, "files": n_files, "folds": n_folds}
