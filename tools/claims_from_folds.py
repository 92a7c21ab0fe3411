"""The claims table on committed results that predate the per-clip predictions (only
results/<profile>-*/folds.csv), accuracy only: a (seed, fold) row's correct and wrong counts are
all the subject-clustered test of cmnet.statistics.verdicts needs for accuracy (UF1 needs the
clips' classes: it waits for the edition's republication).

    python tools/claims_from_folds.py [profile]      # default: cpu
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pandas as pd

from cmnet.statistics.claims import ORDER_CLAIMS, judge
from cmnet.report.paper import paper_numbers


def pseudo_clips(folds: pd.DataFrame) -> pd.DataFrame:
    """One row per test clip with the fold's counts of right ("x") and wrong ("y") predictions."""
    rows = []
    for r in folds.itertuples():
        right = round(r.accuracy * r.n_test)
        rows += [{"seed": r.seed, "key": f"{r.fold}/{i}", "subject": r.fold, "label": "x", "pred": "x" if i < right else "y"}
                 for i in range(r.n_test)]
    return pd.DataFrame(rows)


def main(profile: str = "cpu") -> pd.DataFrame:
    tmp, runs = Path(tempfile.mkdtemp()), {}
    for d in sorted(Path("results").glob(f"{profile}-*")):
        out = tmp / d.name
        out.mkdir()
        pseudo_clips(pd.read_csv(d / "folds.csv")).to_csv(out / "predictions.csv", index=False)
        runs[d.name.split("-", 1)[1]] = out
    specs = [c for c in ORDER_CLAIMS if c[1] in runs and c[2] in runs]
    t = judge(specs, runs, ["x", "y"], paper_numbers(), "casme2", ("accuracy",), 4000)
    pd.set_option("display.width", 250)
    pd.set_option("display.max_colwidth", 70)
    print(t.drop(columns=["metric"]).to_string(index=False))
    print(t.attrs["family"])
    return t


if __name__ == "__main__":
    main(*sys.argv[1:2])
