"""Face detectors' cost per frame (the whole call: finding the face and, for the landmark
detectors, its 68 points) on SynthME frames as they are (128²) and enlarged to CASME II's raw
frame size (640×480, the face about 300 px), each detector against Haar in the same run
(the ratio is what carries to another machine). Timed as CPU time of this process, one
thread (OpenCV and OMP set to one), besides wall time: on a machine shared with a training run
the wall time measures the neighbours as much as the detector. ``face_alignment`` is timed only where its
weights are in the torch hub cache. Also the landmark error of each landmark detector on the
same SynthME (cmnet.preprocess.landmarks: normalised mean error per point group).

    python benchmarks/bench_detectors.py [--subjects 4] [--clips-per-subject 2] [--every 5] [--repeats 3]
                                         [--out benchmarks/results/detectors.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from cmnet.data.synthme import SynthConfig, generate  # noqa: E402
from cmnet.preprocess.faces import make_detector  # noqa: E402
from cmnet.preprocess.landmarks import landmark_report  # noqa: E402


def frames_of(root: Path, every: int) -> list[np.ndarray]:
    paths = sorted(root.glob("CASME2_RAW_selected/*/*/img*.jpg"))[::every]
    return [cv2.imread(str(p)) for p in paths]


def enlarge(img: np.ndarray, w: int = 640, h: int = 480, grey: bool = False) -> np.ndarray:
    """The 128² frame scaled to h×h and centred on a w×h canvas of its edge colours (grey: as
    OpenCV reads a grey JPEG, three equal channels)."""
    big = cv2.resize(img, (h, h), interpolation=cv2.INTER_CUBIC)
    pad = (w - h) // 2
    out = cv2.copyMakeBorder(big, 0, 0, pad, w - h - pad, cv2.BORDER_REPLICATE)
    return cv2.cvtColor(cv2.cvtColor(out, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR) if grey else out


def per_frame(detector, frames, repeats: int) -> tuple[float, float, int]:
    """(the median over ``repeats`` passes of the CPU seconds per frame, of the wall seconds per
    frame, frames with a face)."""
    found = sum(detector(f) is not None for f in frames)  # also a warm-up
    cpu, wall = [], []
    for _ in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        for f in frames:
            detector(f)
        cpu.append((time.process_time() - c0) / len(frames))
        wall.append((time.perf_counter() - t0) / len(frames))
    return float(np.median(cpu)), float(np.median(wall)), found


def available() -> list[str]:
    names = ["haar", "dlib"]
    try:
        make_detector("face_alignment")
        names.append("face_alignment")
    except (FileNotFoundError, ImportError) as e:
        print(f"# face_alignment not timed: {str(e).splitlines()[0][:120]}")
    return names


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--subjects", type=int, default=4)
    ap.add_argument("--clips-per-subject", type=int, default=2)
    ap.add_argument("--every", type=int, default=5, help="time every k-th frame")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", type=Path, help="also write the figures here (JSON)")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    names = available()
    out = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start",
           "cost": {}, "landmarks": {}}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "synthme"
        generate(root, SynthConfig(subjects=args.subjects, clips_per_subject=args.clips_per_subject, size=128),
                 progress=False)
        small = frames_of(root, args.every)
        sets = {"128x128": small, "640x480": [enlarge(f) for f in small],
                "2040x1088": [enlarge(f, 2040, 1088, grey=True) for f in small[:: max(1, len(small) // 20)]]}
        print(f"# {out['machine']}; SynthME {args.subjects} subjects × {args.clips_per_subject} clips, "
              f"{len(small)} frames (every {args.every}th), median of {args.repeats} passes")
        for label, frames in sets.items():
            row = {}
            for name in names:
                t0 = time.perf_counter()
                det = make_detector(name)
                load = time.perf_counter() - t0
                cpu, wall, found = per_frame(det, frames, args.repeats)
                row[name] = {"cpu_ms_per_frame": 1000 * cpu, "wall_ms_per_frame": 1000 * wall, "found": found,
                             "frames": len(frames), "load_s": load}
            for name in names:
                r = row[name]
                r["x_haar"] = r["cpu_ms_per_frame"] / row["haar"]["cpu_ms_per_frame"]
                print(f"{label:>8} {name:<15} {r['cpu_ms_per_frame']:8.1f} ms CPU/frame  {r['x_haar']:6.2f}× Haar  "
                      f"(wall {r['wall_ms_per_frame']:.1f} ms)  face in {r['found']}/{r['frames']}  "
                      f"(model load {r['load_s']:.1f} s wall)")
            out["cost"][label] = row
            # what a frame costs where HOG finds no face (both HOG passes, then the CNN detector)
            det = make_detector("dlib")
            hog = det.hog
            det.hog = lambda img, upsample: (hog(img, upsample), [])[1]
            some = frames[:: max(1, len(frames) // (8 if frames[0].shape[0] < 1000 else 3))]
            cpu, wall, found = per_frame(det, some, 1)
            row["dlib_cnn_fallback"] = {"cpu_ms_per_frame": 1000 * cpu, "wall_ms_per_frame": 1000 * wall,
                                        "found": found, "frames": len(some),
                                        "x_haar": 1000 * cpu / row["haar"]["cpu_ms_per_frame"]}
            print(f"{label:>8} {'dlib, CNN':<15} {1000 * cpu:8.1f} ms CPU/frame  {row['dlib_cnn_fallback']['x_haar']:6.2f}× "
                  f"Haar  (wall {1000 * wall:.1f} ms)  face in {found}/{len(some)}  (a frame where HOG finds none)")
        for name in names:
            if name == "haar":
                continue
            rep = landmark_report(root, make_detector(name), every=args.every)
            out["landmarks"][name] = {k: rep[k] for k in ("raw", "mapped", "measured", "fitted")} | {
                "missed": len(rep["missed"])}
            for k in ("raw", "mapped"):
                print(f"landmarks {name} {k:<6} NME (outer-eye-corner distance): " +
                      ", ".join(f"{g} {v:.3f}" for g, v in rep[k].items()) +
                      f"  ({rep['measured']} frames of the later half of the subjects"
                      + (f"; mapping fitted on {rep['fitted']} frames of the others)" if k == "mapped" else ")"))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
