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

The two augmented views of every frame (for L_ID) are encoded by the ICE in the same pass
as the clean frames; the negatives of L_ID are the clean frames' embeddings (never one
encoder pass per negative).
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import register_model
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
    ):
        super().__init__(num_classes, lstm_hidden, pretrained)
        self.ice = SmallCNN(ice_width, ice_depth)
        h = self.ice.out_dim
        self.head = nn.Sequential(nn.Linear(h, h), nn.ReLU(inplace=True), nn.Linear(h, embed_dim))
        self.squeeze = nn.Linear(h, 1)
        self.extend = nn.Linear(1, self.ffe.out_dim)

    def forward(self, clips: torch.Tensor, views: tuple[torch.Tensor, torch.Tensor] | None = None) -> ModelOutput:
        """``clips`` (B,N,3,H,W); ``views`` an optional pair of augmented copies of the same
        shape (training with L_ID). Returns logits (B,C), k (B,N), z (B,N,E) and, with
        views, z1 and z2 (B,N,E); embeddings are L2-normalised."""
        _check_clip(clips, "clips")
        b, n = clips.shape[:2]
        frames = clips.flatten(0, 1)  # (F,3,H,W)
        ice_in = frames
        if views is not None:
            for i, v in enumerate(views):
                _check_clip(v, f"views[{i}]")
                if v.shape != clips.shape:
                    raise ValueError(f"views[{i}] has shape {tuple(v.shape)}, clips {tuple(clips.shape)}")
            ice_in = torch.cat([frames, views[0].flatten(0, 1), views[1].flatten(0, 1)])  # (3F,3,H,W)
        h_all = self.ice(ice_in)  # (F or 3F, H_ice)
        z_all = F.normalize(self.head(h_all), dim=-1).view(-1, b, n, self.head[-1].out_features)
        h = h_all[: b * n]  # clean frames only feed the classifier
        k = self.squeeze(h)  # (F,1)
        enhanced = self.texture(clips) * self.extend(k).view(b, n, -1)  # (B,N,D)
        out = ModelOutput(logits=self.classify(enhanced), k=k.view(b, n), z=z_all[0])
        if views is not None:
            out.z1, out.z2 = z_all[1], z_all[2]
        return out


@register_model("resnet_lstm")
def resnet_lstm(num_classes: int, **kwargs) -> ResNetLSTM:
    return ResNetLSTM(num_classes, **kwargs)


@register_model("cmnet")
def cmnet(num_classes: int, **kwargs) -> CMNet:
    return CMNet(num_classes, **kwargs)
