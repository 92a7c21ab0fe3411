"""What the trust machinery costs (cmnet.io, cmnet.runs): measured, as ratios in one run.

1. A checkpoint write as the trainer does it now (temporary file, fsync, rename, SHA-256 and
   size recorded in checksums.json) ÷ the plain write it replaced (temporary file, rename),
   for the state of a CMNet at the paper's 224² (model, loss, SGD momentum).
2. Checking that checkpoint before a resume (size + SHA-256) ÷ loading it with torch.load.
3. Opening the clip cache with its content check (SHA-1 of every frame and record) ÷ opening
   it memory-mapped without, for a cache of ``--clips`` clips × 16 frames at ``--size``²; and
   the check ÷ one pass over the frames (what one training epoch reads at least).

    python benchmarks/bench_artifacts.py [--clips 160] [--size 224] [--repeats 3] [--out benchmarks/results/artifacts.json]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from cmnet import io as fio
from cmnet.config import Config
from cmnet.preprocess.cache import ClipCache, content_hash, load_cache
from cmnet.fold.loop import build
from cmnet.runs.provenance import environment


def best(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def plain_write(path: Path, data: bytes) -> None:  # the write before this change
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clips", type=int, default=160)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/artifacts.json"))
    args = ap.parse_args()
    torch.manual_seed(0)
    cfg = Config.from_flat({"size": args.size}, "bench")
    kit = build(cfg, 5, torch.device("cpu"))
    model, crit, opt, sched = kit.model, kit.crit, kit.opt, kit.sched
    for p in model.parameters():  # momentum buffers exist after a step
        opt.state[p]["momentum_buffer"] = torch.zeros_like(p)
    buf = io.BytesIO()
    torch.save({"model": model.state_dict(), "loss": crit.state_dict(), "optimizer": opt.state_dict(),
                "scheduler": sched.state_dict(), "epoch": 1, "history": "[]"}, buf)
    data = buf.getvalue()
    rows = {}
    with tempfile.TemporaryDirectory(dir=".") as tmp:  # on the project's disk, where runs/ lives
        tmp = Path(tmp)
        ck = tmp / "last.pt"
        t_plain = best(lambda: plain_write(ck, data), args.repeats)
        t_ours = best(lambda: fio.write_bytes(ck, data), args.repeats)
        t_check = best(lambda: fio.check(ck), args.repeats)
        t_load = best(lambda: torch.load(ck, weights_only=True), args.repeats)
        rows["checkpoint"] = {"mib": len(data) / 2**20, "plain_write_s": t_plain, "checked_write_s": t_ours,
                              "write_ratio": t_ours / t_plain, "check_s": t_check, "torch_load_s": t_load,
                              "check_over_load": t_check / t_load}
        print(f"checkpoint {len(data) / 2**20:.1f} MiB: checked write {t_ours * 1e3:.0f} ms ÷ plain write "
              f"{t_plain * 1e3:.0f} ms = {t_ours / t_plain:.2f}×; check before resume {t_check * 1e3:.0f} ms ÷ "
              f"torch.load {t_load * 1e3:.0f} ms = {t_check / t_load:.2f}×")
        k, n, s = args.clips, 16, args.size
        rng = np.random.default_rng(0)
        frames = rng.integers(0, 256, (k, n, s, s, 3), dtype=np.uint8)
        cache = ClipCache(frames=frames, apex=np.full(k, 8), labels=np.array(["a", "b"] * (k // 2) + ["a"] * (k % 2)),
                          subjects=np.array([f"s{i % 16}" for i in range(k)]), keys=np.array([f"c{i}" for i in range(k)]),
                          intensity=np.full((k, n), np.nan), boxes=np.zeros((k, 3), np.int64))
        path = tmp / "bench.npy"
        np.save(path, frames)
        from cmnet.preprocess.cache import _records

        manifest = {"records": _records(cache), "clips": k, "content": content_hash(cache)}
        path.with_suffix(".json").write_text(json.dumps(manifest))
        t_open = best(lambda: np.load(path, mmap_mode="r"), args.repeats)
        t_checked = best(lambda: load_cache(path), args.repeats)
        mm = np.load(path, mmap_mode="r")
        t_pass = best(lambda: int(mm.sum(dtype=np.uint64) % 7), args.repeats)
        rows["cache"] = {"clips": k, "size": s, "mib": frames.nbytes / 2**20, "mmap_open_s": t_open,
                         "checked_open_s": t_checked, "check_over_one_pass": t_checked / t_pass, "one_pass_s": t_pass}
        print(f"clip cache {frames.nbytes / 2**20:.0f} MiB ({k} clips × {n} × {s}²): checked open {t_checked:.2f} s "
              f"(memory-mapped open alone {t_open * 1e3:.1f} ms); one pass over the frames {t_pass:.2f} s; "
              f"check ÷ one pass = {t_checked / t_pass:.2f}×")
    out = {"environment": environment(torch.device("cpu")), "rows": rows,
           "command": f"python benchmarks/bench_artifacts.py --clips {k} --size {s} --repeats {args.repeats}"}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1))
    print(f"→ {args.out}")


if __name__ == "__main__":
    main()
