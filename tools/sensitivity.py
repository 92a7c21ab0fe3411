"""Run the studies that ask whether this experiment could have seen the paper's effects (chapters 7-9):

    python tools/sensitivity.py tuning   every tuned arm at three learning rates (params/cpu_tuning.yaml)
    python tools/sensitivity.py dose     the dose-response (params/cpu_dose*.yaml) and, at the book's
                                         strength, the controls; the plain classifier of each profile
    python tools/sensitivity.py draw2    the second draw (params/cpu_draw2.yaml)
    python tools/sensitivity.py all      dose and draw2 in one submission, then probe
    python tools/sensitivity.py oracle_rate   oracle k at the book's strength at lr 0.02 as well
    python tools/sensitivity.py report   every number a closing note quotes, from the committed results/
    python tools/sensitivity.py probe    after dose: the linear probe of the ICE (trained L_C + L_ID,
                                         repaired CMNet, and the ICE at initialisation) and every
                                         clip's motion energy, at the book's strength

Each is one submission (both workers busy throughout); finished folds are reused. Tables go to
results/<profile>-<variant>/ (commit them); `make tuning`, `make dose`, `make draw2` call this.
"""

from __future__ import annotations

import sys
import time

from cmnet.preprocess.prepare import CLASSES, prepare_cache
import io
from pathlib import Path

import numpy as np
import pandas as pd

from cmnet import io as fio
from cmnet.fold.probe import motion_energy, probe_study
from cmnet.report.dose import (DOSE_ARMS, DOSE_CONTROLS, DOSE_PROFILES, DRAW2_ARMS, DRAW2_PROFILE, MOTION_FILE,
                               PROBE_ARMS, PROBE_FILE, probe_folder)
from cmnet.runs.layout import study_dir
from cmnet.report.plain import write_plain
from cmnet.study.run import run_studies
from cmnet.variants import TUNING, variant_config


def plan(job: str) -> list[tuple[str, str]]:
    """(profile, variant) of every study of ``job``, the most telling first."""
    if job == "tuning":
        return [("cpu_tuning", v) for v in TUNING]
    if job == "dose":  # the book's strength and its controls first, MMNet last: a stopped run keeps the most
        book, others = DOSE_PROFILES[0.5], [p for d, p in sorted(DOSE_PROFILES.items(), reverse=True) if d != 0.5]
        arms = [v for v in DOSE_ARMS if v != "mmnet"]
        return ([(book, v) for v in arms] + [(book, v) for v in DOSE_CONTROLS] + [(p, v) for p in others for v in arms]
                + [(p, "mmnet") for p in DOSE_PROFILES.values()])
    if job == "draw2":
        return [(DRAW2_PROFILE, v) for v in DRAW2_ARMS]
    if job == "oracle_rate":  # the oracle at the baseline's and CMNet's rate too (the tuned 0.08 fits its training clips less)
        return [(DOSE_PROFILES[0.5], "oracle_k_lr0.02")]
    if job == "all":  # dose and the second draw in one submission, MMNet's rows last
        dose = plan("dose")
        return [x for x in dose if x[1] != "mmnet"] + plan("draw2") + [x for x in dose if x[1] == "mmnet"]
    raise SystemExit(f"unknown job {job!r}: tuning, dose, draw2, all or probe")


def probe(profile: str = DOSE_PROFILES[0.5]) -> None:
    """results/<profile>-probe/: the probe's scores per fold (probe.csv) and every clip's motion energy
    (motion.npz: keys, curves)."""
    cfg = variant_config(profile, "cmnet")
    cache, _ = prepare_cache(cfg, progress=False)
    rows = []
    for arm in PROBE_ARMS:
        rows += [r | {"arm": arm} for r in probe_study(study_dir(variant_config(profile, arm)), cache)]
    rows += [r | {"arm": "initialisation"} for r in probe_study(study_dir(cfg), cache, trained=False)]
    out = probe_folder(profile, "results")
    out.mkdir(parents=True, exist_ok=True)
    fio.atomic_write(out / PROBE_FILE, pd.DataFrame(rows).to_csv(index=False).encode())
    buf = io.BytesIO()
    np.savez_compressed(buf, keys=np.asarray(cache.keys).astype(str), motion=motion_energy(cache.frames))
    fio.atomic_write(out / MOTION_FILE, buf.getvalue())
    print(pd.DataFrame(rows).groupby("arm")[["r2", "rho"]].mean())


def report() -> None:
    """Every number a closing note quotes about these studies, from the committed results/."""
    from cmnet.report.dose import contrasts_page, dose_contrasts, dose_page, dose_table, learning_page, probe_table
    from cmnet.report.positive import controls_accuracy, controls_page, controls_sentence, wrst_sentence, wrst_where_it_acts
    from cmnet.report.tables import loss_terms
    from cmnet.report.tuning import tuning_choice, tuning_table

    pd.set_option("display.width", 250), pd.set_option("display.max_columns", 20), pd.set_option("display.max_colwidth", 70)
    t = tuning_table("cpu_tuning", "results")
    print("## tuning\n", t.to_string(), "\n", tuning_choice(t))
    c = controls_accuracy()
    print("## positive controls (difficulty 0.5)\n", controls_page(c).to_string(), "\n", controls_sentence(c))
    print("## probe\n", probe_table().to_string())
    print("##", wrst_sentence(wrst_where_it_acts()))
    rows = []
    for v in ("baseline", "cmnet", "cmnet_no_wrst", "cmnet_wrst_outside", "supervised_k", "oracle_k"):
        folder = Path("results") / f"{DOSE_PROFILES[0.5]}-{v}"
        if folder.is_dir():
            rows += [{"row": v, **r} for r in loss_terms(folder)]
    print("## loss terms (difficulty 0.5)\n", pd.DataFrame(rows).round(3).to_string())
    d, k = dose_table(), dose_contrasts()
    print("## dose-response\n", dose_page(d).to_string(), "\n", learning_page(d).to_string(), "\n",
          contrasts_page(k).to_string())
    for f in sorted(Path("results").glob("sensitivity-*.json")):
        print(f.name, f.read_text().split('"minutes":')[1].split(",")[0].strip(), "min")


def main(job: str) -> None:
    t0 = time.perf_counter()
    if job == "probe":
        return probe()
    if job == "report":
        return report()
    studies = plan(job)
    cfgs = [variant_config(p, v) for p, v in studies]
    for p in dict.fromkeys(p for p, _ in studies):  # the plain classifier on each profile's folds
        if job not in ("tuning", "oracle_rate"):
            cfg = variant_config(p, "baseline")
            cache, _ = prepare_cache(cfg, progress=False)
            write_plain(cfg, cache, CLASSES[cfg.data.dataset])
    run_studies(cfgs, publish=True)  # these profiles' tables are committed on purpose (as make repairs)
    if job in ("dose", "all"):
        probe()
    seconds = time.perf_counter() - t0
    print(f"{job}: {len(cfgs)} studies in {seconds:.0f} s", flush=True)
    write_status(job, studies, seconds)


def write_status(job: str, studies, seconds: float) -> None:
    """results/sensitivity-<job>.json: the job's studies, its wall time, the machine and versions
    (the status of a run made apart from the book)."""
    import json
    import os
    import platform
    import subprocess

    import torch

    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    status = {"job": job, "studies": [f"{p}-{v}" for p, v in studies], "seconds": round(seconds, 1),
              "minutes": round(seconds / 60, 1), "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "commit": commit, "cpus": os.cpu_count(), "machine": platform.platform(), "python": platform.python_version(),
              "torch": torch.__version__}
    fio.atomic_write(Path("results") / f"sensitivity-{job}.json", json.dumps(status, indent=1).encode())


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "")
