"""Where a fold runs and in which precision: the device named by the configuration (no device
is ever chosen behind its back) and its autocast."""

from __future__ import annotations

from contextlib import nullcontext

import torch

from . import FoldError


def resolve_device(name: str) -> torch.device:
    """``auto``: cuda when available, else cpu; a named CUDA device must exist (FoldError)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise FoldError(f"device {name!r} asked for, but CUDA is not available here")
    return dev


def autocast_for(precision: str, device: torch.device):
    """A context factory: bf16 autocast (``auto`` on cuda) or nothing (fp32; ``auto`` on cpu)."""
    if precision == "auto":
        precision = "bf16" if device.type == "cuda" else "fp32"
    if precision == "bf16":
        return lambda: torch.autocast(device.type, dtype=torch.bfloat16)
    if precision == "fp32":
        return nullcontext
    raise ValueError(f"precision must be auto, bf16 or fp32, got {precision!r}")
