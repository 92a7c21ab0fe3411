"""Print the numbers a closing note quotes about a published edition, with the chapters' own
functions: the power design, the claims (accuracy and UF1), L_ρ against L_Wrst, every row's pooled
accuracy and UF1, the plain classifier, ρ(k, truth) against the controls, the repairs one at a
time; and, where a build's fold artifacts are at hand (runs/), the learning and loss-terms tables.

    .venv/bin/python tools/book_numbers.py                 # the committed cpu edition (results/)
    .venv/bin/python tools/book_numbers.py --profile smoke # another profile's results
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd  # noqa: E402

from cmnet.preprocess.prepare import CLASSES  # noqa: E402
from cmnet.statistics.claims import order_claims, reference_claims  # noqa: E402
from cmnet.statistics.controls import controls_summary, intensity_controls  # noqa: E402
from cmnet.report.findings import repairs_status  # noqa: E402
from cmnet.report.paper import paper_numbers  # noqa: E402
from cmnet.statistics.power import claims_power, design_numbers, design_of, power_table, read_first_edition  # noqa: E402
from cmnet.report.tables import learning_table, loss_terms_table  # noqa: E402
from cmnet.runs.layout import results_dir, study_dir  # noqa: E402
from cmnet.variants import BOOK_VARIANTS, LABELS, variant_config  # noqa: E402

K_VARIANTS = ["cmnet", "cmnet_no_wrst", "cmnet_no_id", "cmnet_printed"]


def section(title: str, body) -> None:
    print(f"\n## {title}\n{body if isinstance(body, str) else body.to_string()}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="cpu")
    profile = ap.parse_args().profile
    pd.set_option("display.width", 250)
    pd.set_option("display.max_colwidth", 70)
    cfgs = {v: variant_config(profile, v) for v in BOOK_VARIANTS}
    dataset = cfgs["cmnet"].data.dataset
    cls, root = CLASSES[dataset], results_dir(cfgs["cmnet"]).parent
    runs = {v: results_dir(c) for v, c in cfgs.items() if (results_dir(c) / "summary.json").is_file()}
    doc, chosen = read_first_edition(), design_of(cfgs["cmnet"])
    section("design", f"{chosen}\n{design_numbers(doc, chosen, chosen)}")
    section("power table", power_table(doc, (chosen["subjects"], chosen["seeds"])))
    claims = order_claims(runs, cls, paper_numbers(), dataset)
    for m in ("accuracy", "uf1"):
        section(f"claims, {m}", claims_power(claims, m))
    if {"cmnet", "cmnet_spearman"} <= set(runs):
        section("L_ρ against L_Wrst", claims_power(reference_claims(
            {v: runs[v] for v in ("cmnet_spearman", "cmnet")}, "cmnet_spearman", cls, LABELS), "accuracy"))
    rows = {v: json.loads((d / "summary.json").read_text())["summary"] for v, d in runs.items()}
    section("pooled", pd.DataFrame({v: {m: s[f"pooled_{m}"]["mean"] for m in ("accuracy", "uf1")} for v, s in rows.items()}).T)
    plain = root / f"{profile}-plain" / "summary.json"
    if plain.is_file():
        section("plain classifier", str({k: v for k, v in json.loads(plain.read_text()).items() if isinstance(v, (int, float, str))}))
    section("ρ(k, truth) and the controls", controls_summary(
        {LABELS[v]: intensity_controls(runs[v]) for v in K_VARIANTS if v in runs}))
    rep, text = repairs_status(root, cls)
    if len(rep):
        section("the repairs one at a time", f"{claims_power(rep, 'accuracy').to_string()}\n{text}")
    built = [v for v, c in cfgs.items() if any(study_dir(c).glob("seed*/*/done.json"))]
    if built:  # the learning and loss-terms tables read each fold's metrics.jsonl (runs/, not committed)
        section("learning", learning_table(built, profile))
        section("loss terms", loss_terms_table([v for v in built if v != "mmnet"], profile))
    else:
        print("\n(learning and loss-terms tables: no fold artifacts under runs/; build the book first)")


if __name__ == "__main__":
    main()
