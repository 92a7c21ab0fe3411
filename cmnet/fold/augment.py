"""Batched augmentation of frames on their own device, with independent random parameters
for every frame (and every view, by calling it once per view).

The anchor views of L_ID get CMNet's three augmentations (paper, "Parameter Settings"):
ColorJitter (brightness, contrast, saturation, hue), RandomGrayscale and GaussianBlur.
Written here as tensor operations so that a whole (F, 3, H, W) batch is augmented in a few
kernels rather than frame by frame on the CPU.

F frames (B·N), 3 channels in [0, 1], H×W pixels.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
_LUMA = (0.299, 0.587, 0.114)


def _u(n, lo, hi, gen, dev):  # (n,1,1,1) uniform draws
    return lo + (hi - lo) * torch.rand(n, 1, 1, 1, generator=gen, device=dev)


def gray(x: torch.Tensor) -> torch.Tensor:  # (F,3,H,W) -> (F,1,H,W)
    w = torch.tensor(_LUMA, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    return (x * w).sum(1, keepdim=True)


def _hue_rotate(x: torch.Tensor, angle: torch.Tensor) -> torch.Tensor:
    """Rotate hue by ``angle`` radians (F,1,1,1) in the YIQ plane."""
    to_yiq = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]],
                          device=x.device, dtype=x.dtype)
    from_yiq = torch.linalg.inv(to_yiq)
    yiq = torch.einsum("ij,fjhw->fihw", to_yiq, x)
    c, s = torch.cos(angle[:, 0]), torch.sin(angle[:, 0])  # (F,1,1)
    i, q = yiq[:, 1:2], yiq[:, 2:3]
    yiq = torch.cat([yiq[:, :1], c[:, None] * i - s[:, None] * q, s[:, None] * i + c[:, None] * q], 1)
    return torch.einsum("ij,fjhw->fihw", from_yiq, yiq)


def color_jitter(x, strength: float, gen=None):
    """Brightness, contrast and saturation factors in [1−s, 1+s]; hue shift in ±s/4 turns."""
    if strength <= 0:
        return x
    n, dev = x.shape[0], x.device
    x = x * _u(n, 1 - strength, 1 + strength, gen, dev)
    m = gray(x).mean((2, 3), keepdim=True)
    x = (x - m) * _u(n, 1 - strength, 1 + strength, gen, dev) + m
    g = gray(x)
    x = (x - g) * _u(n, 1 - strength, 1 + strength, gen, dev) + g
    x = _hue_rotate(x, 2 * math.pi * _u(n, -strength / 4, strength / 4, gen, dev))
    return x.clamp(0, 1)


def random_grayscale(x, p: float, gen=None):
    if p <= 0:
        return x
    pick = torch.rand(x.shape[0], 1, 1, 1, generator=gen, device=x.device) < p
    return torch.where(pick, gray(x).expand_as(x), x)


def gaussian_blur(x, max_sigma: float, p: float, gen=None):
    """Each picked frame blurred with its own σ ~ U(0.1, max_sigma) (separable kernels,
    one grouped convolution); the others pass unchanged (σ → 0 kernel is a delta)."""
    if max_sigma <= 0 or p <= 0:
        return x
    n, c, h, w = x.shape
    dev = x.device
    sigma = _u(n, 0.1, max_sigma, gen, dev).view(n)
    pick = torch.rand(n, generator=gen, device=dev) < p
    radius = max(1, math.ceil(3 * max_sigma))
    t = torch.arange(-radius, radius + 1, device=dev, dtype=x.dtype)
    k = torch.exp(-0.5 * (t[None] / sigma[:, None]) ** 2)
    k = k / k.sum(1, keepdim=True)
    delta = (t == 0).to(x.dtype).expand_as(k)
    k = torch.where(pick[:, None], k, delta).repeat_interleave(c, 0)  # (n·c, K)
    y = F.pad(x.reshape(1, n * c, h, w), (radius, radius, radius, radius), mode="reflect")
    y = F.conv2d(y, k.view(n * c, 1, 1, -1), groups=n * c)
    y = F.conv2d(y, k.view(n * c, 1, -1, 1), groups=n * c)
    return y.view(n, c, h, w)


def augment_views(x, color: float, grayscale_p: float, blur_sigma: float, blur_p: float, gen=None):
    """One augmented view of frames ``x`` (F,3,H,W) in [0, 1]: colour jitter of strength
    ``color``, grayscale with probability ``grayscale_p``, a Gaussian blur of σ up to
    ``blur_sigma`` px with probability ``blur_p``."""
    x = color_jitter(x, color, gen)
    x = random_grayscale(x, grayscale_p, gen)
    return gaussian_blur(x, blur_sigma, blur_p, gen)


def random_affine(x, max_deg: float, max_px: float, gen=None):
    """Rotate each clip of x (B, T, 3, H, W) by U(±max_deg) degrees and shift it by U(±max_px)
    pixels, the same for all T frames of a clip; zero (black) where the frame leaves."""
    if max_deg <= 0 and max_px <= 0:
        return x
    b, t, c, h, w = x.shape
    dev = x.device
    ang = (torch.rand(b, generator=gen, device=dev) * 2 - 1) * math.radians(max_deg)
    shift = (torch.rand(b, 2, generator=gen, device=dev) * 2 - 1) * max_px
    cos, sin = torch.cos(ang), torch.sin(ang)
    theta = torch.stack([torch.stack([cos, -sin * h / w, shift[:, 0] * 2 / w], 1),
                         torch.stack([sin * w / h, cos, shift[:, 1] * 2 / h], 1)], 1)  # (B,2,3)
    theta = theta.to(x.dtype).repeat_interleave(t, 0)
    flat = x.reshape(b * t, c, h, w)
    grid = F.affine_grid(theta, list(flat.shape), align_corners=False)
    return F.grid_sample(flat, grid, mode="bilinear", padding_mode="zeros", align_corners=False).view_as(x)


def normalize(x):
    """ImageNet mean/std, per channel; any leading dims, channel third from last."""
    mean = torch.tensor(IMAGENET_MEAN, device=x.device, dtype=x.dtype).view(3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=x.device, dtype=x.dtype).view(3, 1, 1)
    return (x - mean) / std
