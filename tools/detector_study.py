"""The Haar-vs-dlib study's answer (issue 33): the cpu design's baseline, seed 0, with faces
cropped from OpenCV's Haar box (runs/cpu-baseline) and from dlib's 68 landmarks
(runs/cpu_dlib-baseline, params/cpu_dlib.yaml): Δ = dlib − Haar on the clips both tested, per
metric, with its 95 % interval (subjects resampled: cmnet.statistics.verdicts.compare) and the
verdict's words, written to results/detector-study.json (chapter 2 reads it). Run the two
studies first (`make detector-study` does both, then this).

    .venv/bin/python tools/detector_study.py [--runs runs] [--seed 0] [--out results/detector-study.json]
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import json  # noqa: E402

import pandas as pd  # noqa: E402

from cmnet.report.crops import DETECTOR_STUDY, detector_study_record  # noqa: E402
from cmnet.runs.provenance import environment  # noqa: E402
from cmnet.variants import variant_config  # noqa: E402

from cmnet.preprocess.prepare import CLASSES  # noqa: E402
from cmnet.statistics.verdicts import ALPHA, NOT_DISTINGUISHABLE, clip_table, compare  # noqa: E402


def detector_delta(dlib_clips: pd.DataFrame, haar_clips: pd.DataFrame, classes, seed: int = 0) -> pd.DataFrame:
    """dlib − Haar per metric on ``seed``'s clips both studies tested (compare's columns), the clips
    only one of them kept (a face one detector did not find) counted, and the verdict in words."""
    a, b = dlib_clips[dlib_clips.seed == seed], haar_clips[haar_clips.seed == seed]
    t = compare(a, b, classes)
    t["only_one"] = len(set(a.key) ^ set(b.key))
    t["verdict"] = [words(r.delta, r.p, r.mde) for r in t.itertuples()]
    return t


def words(delta: float, p: float, mde: float) -> str:
    """'dlib higher' / 'dlib lower' (p < α), else not distinguishable with the smallest
    difference this design could have detected."""
    if p < ALPHA:
        return f"dlib {'higher' if delta > 0 else 'lower'} (p = {p:.3f})"
    return f"{NOT_DISTINGUISHABLE} — smallest detectable difference {100 * mde:.1f} pp"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=Path, default=Path("runs"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=Path("results") / DETECTOR_STUDY)
    args = ap.parse_args()
    dlib, haar = clip_table(args.runs / "cpu_dlib-baseline"), clip_table(args.runs / "cpu-baseline")
    t = detector_delta(dlib, haar, CLASSES["synthme"], args.seed)
    both = set(dlib.key[dlib.seed == args.seed]) & set(haar.key[haar.seed == args.seed])
    acc = {name: float((c.pred == c.label)[(c.seed == args.seed) & c.key.isin(both)].mean())
           for name, c in (("haar", haar), ("dlib", dlib))}
    rec = detector_study_record(t, acc, variant_config("cpu", "baseline"), args.seed, environment(__import__("torch").device("cpu")))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rec, indent=1) + "\n")
    pd.set_option("display.width", 200)
    print(f"dlib − Haar, the cpu design's baseline, seed {args.seed} (fractions; 0.05 = 5 points):")
    print(t[["metric", "delta", "ci_low", "ci_high", "p", "mde", "subjects", "clips", "only_one", "verdict"]]
          .to_string(index=False))
    print(f"accuracy on the clips both tested: Haar {acc['haar']:.4f}, dlib {acc['dlib']:.4f}; written {args.out}")


if __name__ == "__main__":
    main()
