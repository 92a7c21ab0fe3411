"""Training speed: clips per second of one training step (augmentation on the device,
forward, Eq. 10, backward, update — `cmnet.fold.loop.train_step`) for CMNet, the baseline and
MMNet (which reads 2 frames of a clip, not 16),
at the paper's size (16 frames of 224², ResNet-18) and at the smoke size, with the FLOPs
per step (torch.utils.flop_counter), so that the fraction of the device's peak reads off.

    python benchmarks/bench_train.py [--device auto] [--batch 8] [--steps 5] [--compile]
                                     [--out benchmarks/results/train-<device>.json]

On CUDA it runs in bf16 autocast with channels-last (the trainer's defaults there).
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from cmnet.config import Config
from cmnet.models import input_kind
from cmnet.fold.device import resolve_device
from cmnet.fold.loop import build, train_step
from cmnet.runs.provenance import environment

SIZES = {"paper": dict(size=224, frames=16), "smoke": dict(size=48, frames=16)}
MODELS = {
    "cmnet": dict(model="cmnet"),
    "resnet_lstm": dict(model="resnet_lstm", lambda_id=0.0, lambda_wrst=0.0, lambda_ce=1.0),
    "mmnet": dict(model="mmnet", lambda_id=0.0, lambda_wrst=0.0, lambda_ce=1.0, optimizer="adamw", lr=8e-4,
                  weight_decay=0.6, affine_rotate=3.0, affine_translate=15.0),
}


def bench(model_name, size_name, args, device):
    flat = dict(SIZES[size_name]) | MODELS[model_name] | dict(batch_size=args.batch, compile=args.compile,
                                                              device=str(device))
    if size_name == "smoke" and model_name != "mmnet":
        flat |= dict(ice_width=16, lstm_hidden=128)
    cfg = Config.from_flat(flat, "bench")
    torch.manual_seed(0)
    kit = build(cfg, 5, device)
    fwd = torch.compile(kit.model) if args.compile else kit.model
    b, s = args.batch, cfg.preprocess.size
    n = 2 if input_kind(model_name) == "pair" else cfg.preprocess.frames  # MMNet: onset + apex
    x = torch.rand(b, n, 3, s, s, device=device)
    if cfg.train.channels_last:
        x = x.permute(0, 1, 3, 4, 2).contiguous().permute(0, 1, 4, 2, 3)
    y = torch.arange(b, device=device) % 5
    apex = torch.full((b,), n // 2, device=device)
    gen = torch.Generator(device=device).manual_seed(0)

    def step():
        train_step(kit, fwd, x, y, apex, gen)

    with FlopCounterMode(display=False) as fc:
        train_step(kit, kit.model, x, y, apex, gen)  # eager, for counting
    flops = fc.get_total_flops()
    for _ in range(args.warmup):
        step()
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    sync()
    t0 = time.perf_counter()
    for _ in range(args.steps):
        step()
    sync()
    dt = (time.perf_counter() - t0) / args.steps
    return {"model": model_name, "size": size_name, "frame_px": s, "frames": n, "batch": b,
            "step_s": dt, "clips_per_s": b / dt, "gflop_per_step": flops / 1e9, "tflops_achieved": flops / dt / 1e12,
            "precision": "bf16" if device.type == "cuda" else "fp32", "compile": args.compile}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--compile", action="store_true")
    ap.add_argument("--sizes", default="smoke,paper")
    ap.add_argument("--out", help="write the rows and the environment as JSON here")
    args = ap.parse_args()
    device = resolve_device(args.device)
    env = environment(device)
    print(f"# training step speed on {env['device_name']} ({device}), torch {torch.__version__}, "
          f"{torch.get_num_threads()} CPU threads, batch {args.batch}")
    rows = []
    for size in args.sizes.split(","):
        for m in MODELS:
            r = bench(m, size, args, device)
            rows.append(r)
            print(f"{size:6s} {r['frame_px']:4d}² × {r['frames']} {m:12s} {r['clips_per_s']:8.2f} clips/s  "
                  f"{r['step_s'] * 1e3:9.1f} ms/step  {r['gflop_per_step']:9.1f} GFLOP/step  "
                  f"{r['tflops_achieved']:7.3f} TFLOP/s achieved")
        base = next(r for r in rows if r["size"] == size and r["model"] == "resnet_lstm")
        for m in ("cmnet", "mmnet"):
            r = next(r for r in rows if r["size"] == size and r["model"] == m)
            print(f"{size:6s} {m} ÷ baseline: time {r['step_s'] / base['step_s']:.2f}×, "
                  f"FLOPs {r['gflop_per_step'] / base['gflop_per_step']:.2f}×")
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"environment": env, "host": platform.node(), "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
