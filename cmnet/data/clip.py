"""The Clip record: one micro-expression sample as the readers find it on disk, and the
report of what a reader repaired or excluded.

Frame numbers are the datasets' absolute numbers (the number in a file's name); onset,
apex and offset use the same numbering. ``frames`` lists the files from onset to offset
in numeric order.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("cmnet.data")


@dataclass
class Clip:
    dataset: str  # "casme2", "samm", "smic_hs", "synthme", …
    subject: str  # e.g. "sub01", "006", "s1"
    clip_id: str  # e.g. "EP02_01f"
    frames: list[Path]  # onset..offset, numeric order
    frame_numbers: list[int]  # the absolute number of each frame, ascending
    onset: int
    apex: int
    offset: int
    label: str  # protocol class name, e.g. "happiness"
    action_units: str = ""
    intensity: list[float] | None = None  # ground-truth per-frame intensity (SynthME only)
    notes: list[str] = field(default_factory=list)  # repairs made while reading

    @property
    def key(self) -> str:
        """A unique name: dataset/subject/clip."""
        return f"{self.dataset}/{self.subject}/{self.clip_id}"

    @property
    def apex_index(self) -> int:
        """0-based position of the apex within ``frames``."""
        return self.frame_numbers.index(self.apex)

    def __len__(self) -> int:
        return len(self.frames)


@dataclass
class ReportRow:
    source: str  # the file (and row) the decision concerns
    clip: str
    action: str  # "repaired" or "excluded"
    reason: str


@dataclass
class LoadReport:
    """Every repair or exclusion a reader made, row by row."""

    dataset: str
    rows: list[ReportRow] = field(default_factory=list)
    sources: list[Path] = field(default_factory=list)  # annotation sheets read

    def repaired(self, source: str, clip: str, reason: str) -> None:
        self.rows.append(ReportRow(source, clip, "repaired", reason))
        log.info("%s: %s repaired: %s", source, clip, reason)

    def excluded(self, source: str, clip: str, reason: str) -> None:
        self.rows.append(ReportRow(source, clip, "excluded", reason))
        log.info("%s: %s excluded: %s", source, clip, reason)

    @property
    def exclusions(self) -> list[ReportRow]:
        return [r for r in self.rows if r.action == "excluded"]

    @property
    def repairs(self) -> list[ReportRow]:
        return [r for r in self.rows if r.action == "repaired"]

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame([r.__dict__ for r in self.rows], columns=["source", "clip", "action", "reason"])

    def __str__(self) -> str:
        head = f"{self.dataset}: {len(self.repairs)} repaired, {len(self.exclusions)} excluded"
        return "\n".join([head] + [f"  {r.action:8s} {r.clip}: {r.reason} ({r.source})" for r in self.rows])


class DatasetError(ValueError):
    """A dataset file is malformed in a way no documented repair covers."""
