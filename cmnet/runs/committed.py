"""The committed edition's tables change only by publish (``make publish``, ``cmnet book
--publish``, which copies them from a build folder). A study or a report whose tables folder
(``results_dir/<name>/``) holds files git tracks would rewrite that edition: it is refused
before anything is trained or written, with the way to write elsewhere.

    tracked_files(folder)   the files under ``folder`` git tracks ([] outside a git checkout)
    refuse_committed(cfg)   ConfigError when the study's tables folder holds tracked files (unless
                            publish: `make repairs` refreshes its committed tables on purpose)
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from ..params import ConfigError
from .layout import results_dir

ELSEWHERE = "_build/results"  # ignored by git; the README's place for a committed profile's own runs


def tracked_files(folder: str | Path) -> list[str]:
    folder = Path(folder).absolute()
    probe = folder
    while not probe.is_dir() and probe != probe.parent:
        probe = probe.parent
    try:
        r = subprocess.run(["git", "ls-files", "-z", "--", str(folder)], cwd=probe, capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):  # no git: nothing is committed
        return []
    return [f for f in r.stdout.decode("utf-8", "replace").split("\0") if f] if r.returncode == 0 else []


def refuse_committed(cfg, publish: bool = False) -> None:
    if publish:  # the run that refreshes the edition (make repairs), to be committed
        return
    res = results_dir(cfg)
    tracked = tracked_files(res)
    if tracked:
        raise ConfigError(f"{res}/ holds the committed edition's tables ({len(tracked)} files tracked by git), which "
                          f"change only by `make publish`: write this study's tables elsewhere, e.g. --set "
                          f"results_dir={ELSEWHERE} (a chapter: its results_dir parameter)")
