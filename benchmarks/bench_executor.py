"""Executors measured (cmnet.study.executors), as ratios in one run.

CPU (default): the smoke study (``params/smoke.yaml``: 4 folds of CMNet at 32², 2 epochs)
  - one fold after another in this process (the local executor, ``workers: 1``),
  - on Ray with 2 workers of 1 thread each (``executor: ray``, ``cpus_per_fold: 1``),
  each in a fresh runs folder, the data and clip cache prepared beforehand; and Ray's fixed
  cost: starting a local instance, and the round trip of an empty task.

Packing (``--packing``, meant for a GPU machine): folds per hour when 1, 2, 4 and 8 folds share
the device, as concurrent fold processes of the local executor (``workers: k``). This is what
``gpus_per_fold: 1/k`` gives on Ray, measured without Ray (the GPU machine we plan for has none),
with the GPU's utilisation sampled by nvidia-smi where there is one. ``--profile synthme``
takes that profile's clips (224²); ``--device cpu`` runs the same measurement on the CPU.

    python benchmarks/bench_executor.py [--out benchmarks/results/executor-cpu.json]
    python benchmarks/bench_executor.py --packing --profile synthme --epochs 1 [--out …]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import torch

from cmnet.config import load_config
from cmnet.preprocess.prepare import prepare_cache
from cmnet.study.run import run_study
from cmnet.runs.provenance import environment


def timed_study(cfg) -> float:
    t0 = time.perf_counter()
    run_study(cfg, progress=False)
    return time.perf_counter() - t0


def ray_overhead() -> dict:
    import ray

    t0 = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    start = time.perf_counter() - t0

    @ray.remote
    def nothing():
        return None

    ray.get(nothing.remote())  # a worker process started
    t0 = time.perf_counter()
    for _ in range(20):
        ray.get(nothing.remote())
    trip = (time.perf_counter() - t0) / 20
    ray.shutdown()
    return {"ray_start_s": start, "task_round_trip_s": trip}


def cpu(args, base) -> dict:
    prepare_cache(load_config(args.params, base), progress=False)
    rows = {}
    for name, over in (("local, one after another", {"workers": 1}),
                       ("ray, 2 workers × 1 thread", {"executor": "ray", "cpus_per_fold": 1.0})):
        times = []
        for r in range(args.repeats):
            runs = Path(base["runs_dir"]) / f"{len(rows)}-{r}"
            times.append(timed_study(load_config(args.params, base | over | {"runs_dir": str(runs)})))
        rows[name] = min(times)
        print(f"{name:28s} {rows[name]:6.1f} s")
    over = ray_overhead()
    ratio = rows["local, one after another"] / rows["ray, 2 workers × 1 thread"]
    print(f"ray ÷ local speed-up {ratio:.2f}×; Ray's fixed cost: start {over['ray_start_s']:.1f} s, "
          f"a task's round trip {over['task_round_trip_s'] * 1e3:.1f} ms")
    return {"study_seconds": rows, "speedup_ray_over_local": ratio, **over}


class Utilisation(threading.Thread):
    """nvidia-smi's GPU utilisation (%) sampled every 0.5 s while a measurement runs."""

    def __init__(self):
        super().__init__(daemon=True)
        self.samples, self.stop = [], threading.Event()

    def run(self):
        while not self.stop.is_set():
            try:
                out = subprocess.run(["nvidia-smi", "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits"],
                                     capture_output=True, text=True, timeout=5).stdout.split()
                self.samples.append(float(out[0]))
            except (OSError, subprocess.SubprocessError, ValueError, IndexError):
                return
            self.stop.wait(0.5)

    def mean(self):
        return sum(self.samples) / len(self.samples) if self.samples else None


def packing(args, base) -> dict:
    prepare_cache(load_config(args.params, base), progress=False)
    rows = []
    for k in args.packs:
        over = {"workers": k, "folds": [f"sub{i:02d}" for i in range(1, k + 1)], "epochs": args.epochs,
                "device": args.device, "runs_dir": str(Path(base["runs_dir"]) / f"pack{k}")}
        util = Utilisation()
        util.start()
        sec = timed_study(load_config(args.params, base | over))
        util.stop.set()
        util.join()
        rows.append({"concurrent_folds": k, "seconds": sec, "folds_per_hour": k * 3600 / sec,
                     "gpu_utilisation_pct": util.mean()})
        print(f"{k} folds at once: {sec:6.1f} s, {k * 3600 / sec:7.1f} folds/h"
              + (f", GPU busy {util.mean():.0f} %" if util.mean() is not None else ""))
    return {"packing": rows, "epochs": args.epochs, "device": args.device}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="smoke")
    ap.add_argument("--packing", action="store_true", help="folds per hour at 1, 2, 4, 8 folds sharing the device")
    ap.add_argument("--packs", type=int, nargs="+", default=[1, 2, 4, 8])
    ap.add_argument("--epochs", type=int, default=1, help="--packing: epochs per fold")
    ap.add_argument("--device", default="auto", help="--packing: the device the folds share")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    args.params = Path("params") / f"{args.profile}.yaml"
    tmp = Path(tempfile.mkdtemp(prefix="bench-executor-"))
    base = {"runs_dir": str(tmp / "runs"), "results_dir": str(tmp / "results"), "cache_dir": str(tmp / "cache"),
            "data_dir": str(tmp / "data")}
    try:
        res = packing(args, base) if args.packing else cpu(args, base)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    dev = torch.device("cuda" if torch.cuda.is_available() and args.device != "cpu" else "cpu")
    out = {"environment": environment(dev), "profile": args.profile,
           "command": "python benchmarks/bench_executor.py " + ("--packing " if args.packing else "")
           + f"--profile {args.profile}", **res}
    path = args.out or Path("benchmarks/results") / ("executor-packing.json" if args.packing else "executor-cpu.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1))
    print(f"→ {path}")


if __name__ == "__main__":
    main()
