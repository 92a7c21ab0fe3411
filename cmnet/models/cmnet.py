"""CMNet (Wei et al., AAAI 2023) and its "ResNet + LSTM" baseline (Table 3, first row).

Dimension letters: B clips, N frames, F = B·N frames flattened, D texture width (512),
H_ice ICE feature width, E ICE embedding width, L LSTM width, C classes.

CMNet, per frame x_n of a clip:
    texture  f_n = FFE(x_n)                      (D,)  ResNet-18 trunk
    clue     h_n = ICE_encoder(x_n)              (H_ice,)
    embed    z_n = normalize(head(h_n))          (E,)  used by L_ID
    squeeze  k_n = w_s · h_n + b_s               scalar intensity, used by L_Wrst
    extend   e_n = w_e k_n + b_e                 (D,)
    enhanced g_n = f_n ⊙ e_n
then LSTM over g_1..g_N, its last output → linear → logits.

The two augmented views of every frame (for L_ID) are encoded by the ICE in the same
training step as the clean frames (never one encoder pass per negative). ``ice_bn``:
    "mixed"  clean frames and views in one batch (as first built): the ICE's BatchNorm
             statistics come from batches two-thirds augmented and are then applied, at
             evaluation, to clean frames only;
    "clean"  the clean frames in one pass (they set the running statistics), the views in
             a second pass normalised by their own batch statistics without updating the
             running ones: evaluation sees the statistics of what it is given.
``k_init``: "default" (PyTorch's init of squeeze: k ≈ 0 ± 0.1, below the prototype's
[ε, 1] range, where L_Wrst's soft ranks saturate) or "prototype" (squeeze's bias at the
prototype's mean level (1 + ε)/2 = 0.6 and its weights ×0.1, so k starts inside q's range;
extend at weights 0, bias 1, so e_n = 1 and CMNet starts as its baseline: PyTorch's init of
a Linear(1, D) draws both in ±1, scaling each texture channel by a random factor that can
flip its sign).
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .registry import register_model
from .backbones import ResNetTrunk, SmallCNN
from .output import ModelOutput


def _check_clip(x: torch.Tensor, name: str) -> None:
    if x.dim() != 5 or x.shape[2] != 3:
        raise ValueError(f"{name} must be (B, N, 3, H, W), got shape {tuple(x.shape)}")
    if min(x.shape[-2:]) < 32:
        raise ValueError(f"{name}: frames must be at least 32×32, got {tuple(x.shape[-2:])}")


class ResNetLSTM(nn.Module):
    """Baseline: ResNet-18 per frame, LSTM over frames, linear classifier (L_C only)."""

    def __init__(self, num_classes: int, lstm_hidden: int = 256, pretrained: str | None = None):
        super().__init__()
        if num_classes < 2:
            raise ValueError(f"num_classes must be >= 2, got {num_classes}")
        self.ffe = ResNetTrunk(pretrained)
        self.lstm = nn.LSTM(self.ffe.out_dim, lstm_hidden, batch_first=True)
        self.classifier = nn.Linear(lstm_hidden, num_classes)
        self.num_classes = num_classes

    def texture(self, clips: torch.Tensor) -> torch.Tensor:  # (B,N,3,H,W) -> (B,N,D)
        b, n = clips.shape[:2]
        return self.ffe(clips.flatten(0, 1)).view(b, n, -1)

    def classify(self, feats: torch.Tensor) -> torch.Tensor:  # (B,N,D) -> (B,C)
        out, _ = self.lstm(feats)  # (B,N,L)
        return self.classifier(out[:, -1])

    def forward(self, clips: torch.Tensor, views=None) -> ModelOutput:
        _check_clip(clips, "clips")
        return ModelOutput(logits=self.classify(self.texture(clips)))


class CMNet(ResNetLSTM):
    """CMNet: the baseline plus the intensity branch (ICE, squeeze, extend)."""

    def __init__(
        self,
        num_classes: int,
        lstm_hidden: int = 256,
        pretrained: str | None = None,
        ice_width: int = 32,
        ice_depth: int = 3,
        embed_dim: int = 128,
        ice_bn: str = "mixed",
        k_init: str = "default",
        eps: float = 0.2,
    ):
        super().__init__(num_classes, lstm_hidden, pretrained)
        if ice_bn not in ("mixed", "clean"):
            raise ValueError(f"ice_bn must be 'mixed' or 'clean', got {ice_bn!r}")
        if k_init not in ("default", "prototype"):
            raise ValueError(f"k_init must be 'default' or 'prototype', got {k_init!r}")
        self.ice_bn = ice_bn
        self.ice = SmallCNN(ice_width, ice_depth)
        h = self.ice.out_dim
        self.head = nn.Sequential(nn.Linear(h, h), nn.ReLU(inplace=True), nn.Linear(h, embed_dim))
        self.squeeze = nn.Linear(h, 1)
        self.extend = nn.Linear(1, self.ffe.out_dim)
        if k_init == "prototype":
            with torch.no_grad():
                self.squeeze.weight.mul_(0.1)
                self.squeeze.bias.fill_((1 + eps) / 2)
                self.extend.weight.zero_()  # e_n = 1 at the start: CMNet begins as the baseline,
                self.extend.bias.fill_(1.0)  # and learns how much k scales the texture

    def forward(self, clips: torch.Tensor, views: tuple[torch.Tensor, torch.Tensor] | None = None,
                k: torch.Tensor | None = None) -> ModelOutput:
        """``clips`` (B,N,3,H,W); ``views`` an optional pair of augmented copies of the same
        shape (training with L_ID). Returns logits (B,C), k (B,N), z (B,N,E) and, with
        views, z1 and z2 (B,N,E); embeddings are L2-normalised.

        ``k`` (B,N): intensities given from outside (the positive controls: the clip's true
        intensity, or the prototype's mean from its annotated apex) in squeeze's place. Without
        views the ICE is then not run at all (z is None): only extend and the texture branch learn."""
        _check_clip(clips, "clips")
        b, n = clips.shape[:2]
        if k is not None:
            if k.shape != (b, n):
                raise ValueError(f"given k must be (B, N) = {(b, n)}, got {tuple(k.shape)}")
            if not torch.isfinite(k).all():
                raise ValueError("given k holds non-finite values (no ground-truth intensity for these clips?)")
            if views is None:
                kk = k.to(self.extend.weight.dtype).reshape(b * n, 1)
                enhanced = self.texture(clips) * self.extend(kk).view(b, n, -1)  # (B,N,D)
                return ModelOutput(logits=self.classify(enhanced), k=k)
        frames = clips.flatten(0, 1)  # (F,3,H,W)
        if views is not None:
            for i, v in enumerate(views):
                _check_clip(v, f"views[{i}]")
                if v.shape != clips.shape:
                    raise ValueError(f"views[{i}] has shape {tuple(v.shape)}, clips {tuple(clips.shape)}")
            view_in = torch.cat([views[0].flatten(0, 1), views[1].flatten(0, 1)])  # (2F,3,H,W)
            if self.ice_bn == "mixed":
                h_all = self.ice(torch.cat([frames, view_in]))  # (3F, H_ice)
            else:
                h_clean = self.ice(frames)  # (F, H_ice): sets the running statistics
                with _frozen_running_stats(self.ice):
                    h_all = torch.cat([h_clean, self.ice(view_in)])  # (3F, H_ice)
        else:
            h_all = self.ice(frames)  # (F, H_ice)
        z_all = F.normalize(self.head(h_all), dim=-1).view(-1, b, n, self.head[-1].out_features)
        h = h_all[: b * n]  # clean frames only feed the classifier
        kk = self.squeeze(h) if k is None else k.to(h.dtype).reshape(b * n, 1)  # (F,1)
        enhanced = self.texture(clips) * self.extend(kk).view(b, n, -1)  # (B,N,D)
        out = ModelOutput(logits=self.classify(enhanced), k=kk.view(b, n), z=z_all[0])
        if views is not None:
            out.z1, out.z2 = z_all[1], z_all[2]
        return out

    def ice_features(self, clips: torch.Tensor) -> torch.Tensor:
        """The ICE's per-frame features h (B,N,H_ice) of clean clips (B,N,3,H,W): what squeeze reads
        (a linear probe of the intensity reads them too, cmnet.report.probe)."""
        _check_clip(clips, "clips")
        b, n = clips.shape[:2]
        return self.ice(clips.flatten(0, 1)).view(b, n, -1)


class _frozen_running_stats:
    """Within the block, BatchNorm layers of ``module`` normalise by their batch statistics
    (in training mode) but leave their running statistics unchanged (momentum 0)."""

    def __init__(self, module: nn.Module):
        self.bns = [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]

    def __enter__(self):
        self.saved = [(m.momentum, m.num_batches_tracked.clone()) for m in self.bns]
        for m in self.bns:
            m.momentum = 0.0
        return self

    def __exit__(self, *exc):
        for m, (mom, nbt) in zip(self.bns, self.saved):
            m.momentum = mom
            m.num_batches_tracked.copy_(nbt)
        return False


def _baseline_args(cfg) -> dict:
    return {"pretrained": cfg.model.pretrained or None, "lstm_hidden": cfg.model.lstm_hidden}


def _cmnet_args(cfg) -> dict:
    m = cfg.model
    return _baseline_args(cfg) | {"ice_width": m.ice_width, "ice_depth": m.ice_depth, "embed_dim": m.embed_dim,
                                  "ice_bn": m.ice_bn, "k_init": m.k_init, "eps": cfg.loss.eps}


@register_model("resnet_lstm", config_args=_baseline_args)
def resnet_lstm(num_classes: int, **kwargs) -> ResNetLSTM:
    return ResNetLSTM(num_classes, **kwargs)


@register_model("cmnet", config_args=_cmnet_args)
def cmnet(num_classes: int, **kwargs) -> CMNet:
    return CMNet(num_classes, **kwargs)
