"""Library-core benchmark (CPU): what CMNet's intensity branch costs, and what encoding
L_ID's negatives once (ours) saves over re-encoding every negative (naive).

Prints, for one training step (forward, backward, SGD step) on the same clip batch:
  1. CMNet step time ÷ baseline (ResNet + LSTM) step time, beside the FLOP ratio of the
     two steps (torch.utils.flop_counter); bar: time ratio within 1.25× of the FLOP ratio.
  2. naive L_ID step time ÷ ours at N = 16 (ICE forward + L_ID + backward); bar: ≥ 3×.
Ratios are taken within one run, the candidates interleaved, medians of --repeats.

    python benchmarks/bench_core.py [--size 112] [--batch 2] [--frames 16] [--repeats 5]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from cmnet.losses import CMNetLoss, intensity_distillation_loss, sample_negatives
from cmnet.models import create_model


def make_step(name: str, clips, labels, apex, n_frames: int, channels_last: bool):
    torch.manual_seed(0)
    model = create_model(name, num_classes=5)
    if channels_last:  # the convolutions then read (and the inputs come) in NHWC order
        model = model.to(memory_format=torch.channels_last)
    lam = (0.07, 0.71, 0.22) if name == "cmnet" else (0.0, 0.0, 1.0)
    crit = CMNetLoss(n_frames=n_frames, lambdas=lam, sampler="deterministic")
    opt = torch.optim.SGD(list(model.parameters()) + list(crit.parameters()), lr=1e-3, momentum=0.9)
    # the views are fixed copies: augmentation is the trainer's business, not this comparison's
    views = (clips * 0.9, clips.flip(-1)) if crit.needs_views else None

    def step():
        opt.zero_grad(set_to_none=True)
        loss, _ = crit(model(clips, views=views), labels, apex)
        loss.backward()
        opt.step()

    return step


def lid_steps(clips, n_frames: int):
    """Our L_ID (one ICE pass over frames and views, negatives gathered) and a naive one
    (each anchor's M negatives encoded anew), both ICE forward + loss + backward."""
    torch.manual_seed(0)
    model = create_model("cmnet", num_classes=5)
    ice, head = model.ice, model.head
    b, n = clips.shape[:2]
    v1, v2 = clips * 0.9, clips.flip(-1)

    def embed(x):  # (F,3,H,W) -> (F,E)
        return F.normalize(head(ice(x)), dim=-1)

    def ours():
        z = embed(torch.cat([clips.flatten(0, 1), v1.flatten(0, 1), v2.flatten(0, 1)])).view(3, b, n, -1)
        loss = intensity_distillation_loss(z[1], z[2], z[0], "deterministic", 0.1)
        loss.backward()

    def naive():
        z12 = embed(torch.cat([v1.flatten(0, 1), v2.flatten(0, 1)])).view(2, b, n, -1)
        idx = sample_negatives(z12[0], "deterministic", 0.1)  # (B,N,M) frame indices
        m = idx.shape[-1]
        neg_frames = clips[torch.arange(b)[:, None, None], idx]  # (B,N,M,3,H,W): one copy per use
        zneg = embed(neg_frames.flatten(0, 2)).view(b, n, m, -1)  # re-encoded, B·N·M passes
        pos = (z12[0] * z12[1]).sum(-1, keepdim=True) / 0.1
        terms = []
        for za in z12:
            neg = torch.einsum("bne,bnme->bnm", za, zneg) / 0.1
            terms.append(pos.squeeze(-1) - torch.logsumexp(torch.cat([pos, neg], -1), -1))
        loss = -(terms[0] + terms[1]).mean()
        loss.backward()

    return ours, naive


def flops_of(step) -> int:
    with FlopCounterMode(display=False) as fc:
        step()
    return fc.get_total_flops()


def timed(fns: dict, repeats: int) -> dict:
    for f in fns.values():  # warm-up
        f()
    times = {k: [] for k in fns}
    for _ in range(repeats):
        for k, f in fns.items():  # interleaved, so drift hits both
            t0 = time.perf_counter()
            f()
            times[k].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=112, help="frame side in pixels")
    ap.add_argument("--batch", type=int, default=2, help="clips per batch")
    ap.add_argument("--frames", type=int, default=16, help="frames per clip (N)")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    torch.manual_seed(0)
    b, n, s = args.batch, args.frames, args.size
    clips = torch.randn(b, n, 3, s, s)
    labels = torch.arange(b) % 5
    apex = torch.full((b,), n // 2)
    print(f"# cmnet core benchmark: torch {torch.__version__}, {platform.processor() or platform.machine()}, "
          f"{torch.get_num_threads()} threads; batch {b} clips × {n} frames × {s}²")

    for cl in (False, True):
        fmt = "channels-last" if cl else "contiguous"
        # (B,N,3,H,W) stored as (B,N,H,W,3): each frame channels-last, flatten(0, 1) stays a view
        x = clips.permute(0, 1, 3, 4, 2).contiguous().permute(0, 1, 4, 2, 3) if cl else clips
        steps = {name: make_step(name, x, labels, apex, n, cl) for name in ("resnet_lstm", "cmnet")}
        flops = {k: flops_of(f) for k, f in steps.items()}
        t = timed(steps, args.repeats)
        tr, fr = t["cmnet"] / t["resnet_lstm"], flops["cmnet"] / flops["resnet_lstm"]
        for k in steps:
            print(f"[{fmt}] {k:12s} step {t[k] * 1e3:8.1f} ms   {flops[k] / 1e9:8.2f} GFLOP/step   "
                  f"{flops[k] / t[k] / 1e9:6.1f} GFLOP/s")
        ok1 = 1 / 1.25 <= tr / fr <= 1.25
        print(f"[{fmt}] CMNet ÷ baseline: time {tr:.3f}×, FLOPs {fr:.3f}×, time ratio ÷ FLOP ratio "
              f"{tr / fr:.3f} (bar: within 1.25×) {'PASS' if ok1 else 'FAIL'}")

    ours, naive = lid_steps(clips, n)
    tl = timed({"ours": ours, "naive": naive}, args.repeats)
    r = tl["naive"] / tl["ours"]
    print(f"L_ID step: ours {tl['ours'] * 1e3:.1f} ms, naive (re-encode every negative) {tl['naive'] * 1e3:.1f} ms")
    print(f"naive ÷ ours at N = {n}: {r:.2f}× (bar: >= 3×) {'PASS' if r >= 3 else 'FAIL'}")


if __name__ == "__main__":
    main()
