"""Where SynthME may be written: a folder cmnet did not write is never written into (a dataset's
copy would be overwritten), and a SynthME larger than the free disk is refused before its first
clip, its size estimated beforehand.

    estimate_bytes(cfg)   about how many bytes ``cfg`` (a SynthConfig) writes
    claim(out, cfg)       refuse ``out`` (FileExistsError, WriteError naming it), else mark it as SynthME's
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ..io import WriteError

MARKER = ".cmnet-synthme"  # written first into a folder SynthME is generated in: cmnet may write there again
STAMP = "synthme.json"  # written last by every SynthME (an earlier one without the marker is cmnet's too)

# bytes per frame: its JPEG (≈ 1000 + 0.2 · side², measured at quality 92: 1.9 kB at 64², 4.0 kB at 128²)
# and its share of truth.npz (≈ 600); frames per clip: onset … offset plus ≈ 10 around them
# (measured: 42.8 frames per clip, 196 kB per clip at 128², 106 kB at 64²)
FRAME_FIXED, FRAME_PER_PIXEL, FRAMES_AROUND = 1600, 0.2, 10


def estimate_bytes(cfg) -> int:
    frames = (cfg.min_len + cfg.max_len) / 2 + FRAMES_AROUND
    return int(cfg.subjects * cfg.clips_per_subject * frames * (FRAME_FIXED + FRAME_PER_PIXEL * cfg.size ** 2))


def human(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000


def free_bytes(out: Path) -> int:
    probe = Path(out).absolute()
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return shutil.disk_usage(probe).free


def claim(out: Path, cfg) -> None:
    """Refuse a folder cmnet did not write: ``out`` must be new, empty, or hold the marker (or an
    earlier SynthME's stamp); refuse a SynthME the free disk cannot hold; then mark ``out``."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"{out}: a file, not a folder to write SynthME into")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file() and not (out / STAMP).is_file():
        raise FileExistsError(f"{out} is not empty and cmnet did not write it (no {MARKER} in it): SynthME is written "
                              "only into a new or empty folder, or one it wrote; choose another --out")
    need, free = estimate_bytes(cfg), free_bytes(out)
    if need > 0.9 * free:
        raise WriteError(f"SynthME of {cfg.subjects} × {cfg.clips_per_subject} clips at {cfg.size}² needs "
                      f"about {human(need)}; {out} has {human(free)} free: fewer subjects or clips, or a smaller size")
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("SynthME was generated here by cmnet synth; cmnet may write into this folder again\n")
