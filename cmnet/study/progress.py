"""One live line for a whole submission of folds.

    study smoke: 3/4 done · 1 running · 0 failed · 0:13 elapsed · ~0:01 left
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from ..report.status import hms
from ..runs.lock import lock_holder

log = logging.getLogger("cmnet.study")


class Progress:
    """Folds done / running / failed, elapsed, and an estimate of what is left (pending folds
    × the mean time of the folds trained so far ÷ the folds running at once). Running folds
    are those whose lock a live process holds."""

    def __init__(self, label: str, total: int, enabled: bool):
        from tqdm import tqdm  # plain text bars: no widget (and no IProgress warning) in notebooks

        self.tqdm = tqdm
        self.bar = tqdm(total=total, desc=label, unit="fold", disable=not enabled, bar_format="{desc}")
        self.label, self.t0, self.total, self.done, self.failed = label, time.time(), total, 0, 0
        self.trained, self.enabled = [], enabled
        self.outs: list[Path] = []
        self.running = 0

    def line(self) -> str:
        el = time.time() - self.t0
        left = self.total - self.done - self.failed
        est = ""
        if self.trained and left:
            per = sum(self.trained) / len(self.trained)
            est = f" · ~{hms(per * left / max(1, self.running))} left"
        return (f"{self.label}: {self.done}/{self.total} done · {self.running} running · {self.failed} failed · "
                f"{hms(el)} elapsed{est}")

    def tick(self) -> None:
        self.running = sum(1 for o in self.outs if lock_holder(o) is not None)
        self.bar.set_description_str(self.line(), refresh=True)

    def say(self, text: str) -> None:
        if self.enabled:
            self.tqdm.write(text)
        else:
            log.info("%s", text)

    def ended(self, ok: bool, seconds: float | None = None) -> None:
        self.done += ok
        self.failed += not ok
        if seconds:
            self.trained.append(seconds)
        self.bar.update(1)
        self.tick()

    def close(self) -> None:
        self.bar.close()
