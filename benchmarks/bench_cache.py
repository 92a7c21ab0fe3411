"""Clip cache benchmark: loading preprocessed clips from the cache ÷ decoding the JPEGs
and preprocessing them again (face detection, crop, resize, temporal normalisation).

Also times generating and preprocessing SynthME at the chosen size. Everything runs in a
temporary folder; the OS page cache is warm for both paths (the JPEGs were just written,
the cache file just built), so the ratio compares the work, not the disk.

    python benchmarks/bench_cache.py [--subjects 16] [--clips-per-subject 10] [--size 224]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from cmnet.data import read_casme2
from cmnet.data.synthme import SynthConfig, generate
from cmnet.config import PreprocessSettings
from cmnet.preprocess import load_cache, make_detector, preprocess
from cmnet.preprocess.clip import preprocess_clip


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--subjects", type=int, default=16)
    ap.add_argument("--clips-per-subject", type=int, default=10)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cfg = SynthConfig(subjects=args.subjects, clips_per_subject=args.clips_per_subject)
        t0 = time.perf_counter()
        generate(tmp / "synthme", cfg, progress=False)
        t_gen = time.perf_counter() - t0
        clips, _ = read_casme2(tmp / "synthme", dataset="synthme")
        settings = PreprocessSettings(size=args.size)
        t0 = time.perf_counter()
        cache = preprocess(clips, settings, tmp / "cache", progress=False)
        t_pre = time.perf_counter() - t0
        k = len(cache)
        print(f"# SynthME {cfg.subjects} subjects × {cfg.clips_per_subject} clips ({k} clips, "
              f"{sum(len(c) for c in clips)} onset–offset frames on disk); cache {cache.frames.nbytes / 2**20:.0f} MiB "
              f"at {args.size}²")
        print(f"generate SynthME: {t_gen:.1f} s; preprocess into the cache: {t_pre:.1f} s")
        detector = make_detector(settings.detector)
        load, decode = [], []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            c = load_cache(cache.path)
            _ = int(c.frames.sum(dtype=np.uint64) % 7)  # touch every byte
            load.append((time.perf_counter() - t0) / k)
            t0 = time.perf_counter()
            for clip in clips:
                preprocess_clip(clip, settings, detector)
            decode.append((time.perf_counter() - t0) / len(clips))
        tl, td = min(load), min(decode)
        print(f"cached: {1 / tl:8.1f} clips/s   decode + preprocess: {1 / td:8.1f} clips/s")
        print(f"cache ÷ decode speed-up: {td / tl:.1f}×")


if __name__ == "__main__":
    main()
