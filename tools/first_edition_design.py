"""Compute the first CPU edition's design and variance components, and the power calculation
that chose the new design from them, and commit them as results/power/first_edition.json.

    .venv/bin/python tools/first_edition_design.py            # from results/cpu-*/ (the first edition)

Run it while results/cpu-* still hold the first edition (8 subjects, LOSO, 3 seeds): the file
names every table it read with its SHA-256, so chapter 9 shows the calculation after those
results are replaced. Refuses to overwrite the file from an edition of another design.
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cmnet.statistics.power import FIRST_EDITION, first_edition  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", default="results")
    ap.add_argument("--profile", default="cpu")
    ap.add_argument("--out", default=str(FIRST_EDITION))
    ap.add_argument("--reps", type=int, default=300)
    ap.add_argument("--force", action="store_true", help="overwrite even when the design differs")
    a = ap.parse_args(argv)
    doc = first_edition(a.results, a.profile, reps=a.reps)
    out = Path(a.out)
    d = doc["design"]
    if out.is_file() and not a.force:
        old = json.loads(out.read_text())["design"]
        if (old["subjects"], old["seeds"]) != (d["subjects"], d["seeds"]):
            print(f"{out} holds an edition of {old['subjects']} subjects × {old['seeds']} seeds; these results are "
                  f"{d['subjects']} × {d['seeds']}: not the first edition (--force to overwrite)", file=sys.stderr)
            return 1
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"{out}: {doc['edition']}; components {doc['components']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
