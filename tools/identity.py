"""The before/after identity check of a refactoring: every number a fold writes, digested.

    python tools/identity.py --write REF.json     # in the old tree (run from its root)
    python tools/identity.py --check REF.json     # in the new tree: every digest identical?

Runs, through the ``cmnet`` command of the tree it is started in (``python -m cmnet.cli``
from that tree's root, so an old checkout imports its own code), in a temporary folder:
the smoke profile's variants below (every fold, one worker) and one fold (sub01, seed 0) of
the ``cpu`` profile's repaired CMNet. Then it digests, per fold folder, every prediction and
probability (predictions.csv), every per-frame intensity array (intensity.npz), every
epoch's losses and monitored metrics (metrics.jsonl without the times), the final metrics
(done.json without the time) and the ICE diagnostic (diagnostics.json). Numbers are compared
exactly: the same code on the same CPU gives the same bits. A tree whose SynthME has the newer
settings (varied curves, heterogeneous "others", class shares) is run with the first edition's
(`synth_curves=bump`, `synth_others=template`, `synth_proportions=balanced`): the same clips.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

SMOKE_VARIANTS = ("cmnet", "cmnet_printed", "cmnet_no_id", "cmnet_spearman", "baseline", "mmnet")
TIMES = ("seconds",)


def _run(root: Path, tmp: Path, profile: str, variant: str, extra: list[str]) -> None:
    sets = [f"runs_dir={tmp / 'runs'}", f"cache_dir={tmp / 'cache'}", f"data_dir={tmp / 'data'}",
            f"results_dir={tmp / 'results'}", "workers=1", "tensorboard=false", *extra]
    if "synth_curves" in (root / "cmnet" / "config.py").read_text():  # a tree with the newer SynthME: the first's
        sets += ["synth_curves=bump", "synth_others=template", "synth_proportions=balanced"]
    cmd = [sys.executable, "-m", "cmnet.cli", "study", f"params/{profile}.yaml", "--variant", variant, "--quiet"]
    for s in sets:
        cmd += ["--set", s]
    subprocess.run(cmd, cwd=root, check=True, stdout=subprocess.DEVNULL)


# per-epoch records added after the reference (each loss term's share of active steps and its gradient
# norm): new measurements beside the numbers, which they do not change
ADDED_RECORDS = ("active_", "gradnorm_")


def _drop_times(obj):
    if isinstance(obj, dict):
        return {k: _drop_times(v) for k, v in obj.items() if k not in TIMES and not k.startswith(ADDED_RECORDS)}
    return obj


def fold_digest(fold: Path) -> dict:
    out = {}
    for name in ("predictions.csv",):
        out[name] = hashlib.sha256((fold / name).read_bytes()).hexdigest()
    recs = [_drop_times(json.loads(line)) for line in (fold / "metrics.jsonl").read_text().splitlines()]
    out["metrics.jsonl"] = hashlib.sha256(json.dumps(recs, sort_keys=True).encode()).hexdigest()
    out["done.json"] = _drop_times(json.loads((fold / "done.json").read_text()))
    if (fold / "intensity.npz").is_file():
        with np.load(fold / "intensity.npz") as z:
            for k in sorted(z.files):
                a = np.ascontiguousarray(z[k])
                data = a.tobytes() if a.dtype != object and a.dtype.kind != "U" else "|".join(map(str, a)).encode()
                out[f"intensity.npz:{k}"] = hashlib.sha256(data).hexdigest()
    if (fold / "diagnostics.json").is_file():
        out["diagnostics.json"] = json.loads((fold / "diagnostics.json").read_text())
    return out


def collect(root: Path, variants=SMOKE_VARIANTS, cpu_fold: bool = True) -> dict:
    with tempfile.TemporaryDirectory(prefix="cmnet-identity-") as t:
        tmp = Path(t)
        for v in variants:
            _run(root, tmp, "smoke", v, [])
        if cpu_fold:
            _run(root, tmp, "cpu", "cmnet", ["seeds=[0]", "folds=[sub01]"])
        folds = sorted(p.parent for p in (tmp / "runs").rglob("done.json"))
        digests = {str(f.relative_to(tmp / "runs")): fold_digest(f) for f in folds}
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor()
    import torch

    return {"cpu_model": cpu, "cpu_capability": torch.backends.cpu.get_cpu_capability(), "torch": torch.__version__,
            "folds": digests}


def same_machine(ref: dict, new: dict) -> bool:
    """Bit-identical floats are expected only on the processor and torch the reference had."""
    return all(ref[k] == new[k] for k in ("cpu_model", "cpu_capability", "torch"))


def compare(ref: dict, new: dict) -> list[str]:
    diffs = []
    for fold in sorted(set(ref["folds"]) | set(new["folds"])):
        a, b = ref["folds"].get(fold), new["folds"].get(fold)
        if a is None or b is None:
            diffs.append(f"{fold}: only in {'the reference' if b is None else 'this tree'}")
            continue
        for k in sorted(set(a) | set(b)):
            if a.get(k) != b.get(k):
                diffs.append(f"{fold}/{k}: {a.get(k)} → {b.get(k)}")
    return diffs


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--write", type=Path, help="write the digests of this tree here")
    g.add_argument("--check", type=Path, help="compare this tree's digests with these")
    args = p.parse_args(argv)
    root = Path(__file__).resolve().parents[1]
    new = collect(root)
    n = len(new["folds"])
    if args.write:
        args.write.write_text(json.dumps(new, indent=1, sort_keys=True))
        print(f"{n} folds digested → {args.write}")
        return 0
    ref = json.loads(args.check.read_text())
    if not same_machine(ref, new):
        print(f"note: the reference was made on {ref['cpu_model']} (torch {ref['torch']}), this is "
              f"{new['cpu_model']} (torch {new['torch']}): float results may differ for that reason alone")
    diffs = compare(ref, new)
    keys = sum(len(v) for v in new["folds"].values())
    if diffs:
        print(f"{len(diffs)} of {keys} digests differ:\n  " + "\n  ".join(diffs))
        return 1
    print(f"identical: {n} folds, {keys} digests (predictions, probabilities, per-frame intensity, every epoch's "
          "losses and metrics, final metrics, ICE diagnostics)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
