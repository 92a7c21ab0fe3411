"""One writer per folder: a study's, or a single fold's.

    with FolderLock(folder, "study"): …      LockedError naming the holder when another process has it
    lock_holder(folder)                      who holds it now (None: free, or its holder is gone)
    held_here(folder)                        its lock names a process of this machine

The lock is ``<folder>/.lock`` under fcntl.flock: the kernel releases it when its holder dies,
so a killed study's lock is free at once; the file names the holder (host, pid, since).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import time
from pathlib import Path

from ..io import WriteError
from .layout import LOCK, read_json

log = logging.getLogger("cmnet.runs")


class LockedError(RuntimeError):
    """Another process holds the folder; names it."""


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
    h = read_json(Path(folder) / LOCK)
    if not h.get("pid"):
        return None
    if h.get("host") == socket.gethostname() and not _pid_alive(int(h["pid"])):
        return None
    return h


class FolderLock:
    """An exclusive lock on a folder for one process (``<folder>/.lock``, fcntl.flock: the
    kernel releases it when its holder dies, so a killed study's lock is free at once). The
    file names the holder (host, pid, since); a second holder gets LockedError naming it.
    A lock file whose holder is gone is reported as stale and taken over."""

    def __init__(self, folder: Path, what: str = "study"):
        self.folder, self.what = Path(folder), what
        self.path = self.folder / LOCK
        self.fd = None

    def holder(self) -> dict:
        try:
            return json.loads(self.path.read_text() or "{}")
        except (OSError, ValueError):
            return {}

    def acquire(self) -> "FolderLock":
        import fcntl

        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:  # a read-only disk, no permission, a .lock that is a folder
            raise WriteError(f"{self.path}: cannot take the {self.what}'s lock ({e.strerror or e}); the folder "
                             f"must be writable, and {LOCK} a file") from None
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



def held_here(folder: Path) -> bool:
    """The folder's lock file names a process of this machine (alive or not)."""
    h = read_json(Path(folder) / LOCK)
    return bool(h.get("pid")) and h.get("host") == socket.gethostname()


@contextlib.contextmanager
def exclusive(path: Path):
    """Wait for, then hold, an exclusive flock on the file ``path`` (made if missing): one
    process at a time makes a shared thing (a SynthME folder, a clip cache); the others wait,
    then find it made."""
    import fcntl

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the flock
