"""MMNet (Li et al., IJCAI 2022), reimplemented from the description in
../shared/reference/mmnet.md (the authors' code has no licence; nothing is copied).

Input: an (onset, apex) pair, ``clips`` of shape (B, 2, 3, H, W) (H = W = 224 in the paper;
any size whose /16 grid the PC branch can match: the PC output is resized to the CA
output's grid). Motion = apex − onset.

Main branch, continuous attention (CA), on the motion:
    stem   conv3×3 s2 3→180, BN, ReLU                      (B,180,H/2,W/2)
    conv3×3 180→128, BN, ReLU
    4 blocks: 128 s1 → 128 s2 → 256 s2 → 512 s2           (B,512,H/16,W/16)
    block: conv3×3(stride) BN ReLU conv1×1 BN; spatial attention
           a = sigmoid(BN(conv1×1([mean_c, max_c]))) · maxpool3×3s2(a_prev); features · a;
           + shortcut (1×1 conv + BN when the shape changes); ReLU
Position calibration (PC), on the onset frame resized to the grid (14×14 at 224):
    1×1 conv 3→512 (bias) → tokens + learnable position embedding → ViT encoder
    (width 512, 4 heads, qkv bias, LayerNorm eps 1e-6, final norm) → (B,512,14,14)
Fusion: CA + PC, flatten, linear → logits.

5 classes: depth 2, MLP ratio 4, no drop-path (9,438,841 parameters, all used);
3 classes: depth 3, MLP ratio 2, drop-path 0.3.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .registry import register_model
from .output import ModelOutput


def _cbr(cin, cout, k, s):
    return nn.Sequential(nn.Conv2d(cin, cout, k, s, k // 2, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class CABlock(nn.Module):
    """Residual block with continuous spatial attention; returns (features, attention map)."""

    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
            nn.Conv2d(cout, cout, 1, bias=False), nn.BatchNorm2d(cout),
        )
        self.att = nn.Sequential(nn.Conv2d(2, 1, 1, bias=False), nn.BatchNorm2d(1))
        self.short = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                      if stride != 1 or cin != cout else nn.Identity())
        self.stride = stride

    def forward(self, x, prev=None):  # x (B,cin,h,w), prev (B,1,h,w) or None
        u = self.body(x)  # (B,cout,h',w')
        a = torch.sigmoid(self.att(torch.cat([u.mean(1, keepdim=True), u.amax(1, keepdim=True)], 1)))
        if prev is not None:
            if prev.shape[-2:] != a.shape[-2:]:
                prev = F.max_pool2d(prev, 3, 2, 1)  # to the new size
            a = a * prev
        return F.relu(u * a + self.short(x)), a


def _drop_path(x, p: float, training: bool):
    if p == 0.0 or not training:
        return x
    keep = torch.rand(x.shape[0], *([1] * (x.dim() - 1)), device=x.device, dtype=x.dtype) >= p
    return x * keep / (1 - p)


class ViTBlock(nn.Module):
    def __init__(self, dim: int, heads: int, mlp_ratio: float, drop_path: float):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = nn.MultiheadAttention(dim, heads, bias=True, batch_first=True)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))
        self.drop_path = drop_path

    def forward(self, x):  # (B,T,dim)
        h = self.norm1(x)
        x = x + _drop_path(self.attn(h, h, h, need_weights=False)[0], self.drop_path, self.training)
        return x + _drop_path(self.mlp(self.norm2(x)), self.drop_path, self.training)


class PositionCalibration(nn.Module):
    def __init__(self, dim=512, grid=14, depth=2, heads=4, mlp_ratio=4.0, drop_path=0.0):
        super().__init__()
        self.grid = grid
        self.embed = nn.Conv2d(3, dim, 1)
        self.pos = nn.Parameter(torch.zeros(1, grid * grid, dim))
        nn.init.trunc_normal_(self.pos, std=0.02)
        rates = torch.linspace(0, drop_path, depth).tolist()
        self.blocks = nn.ModuleList(ViTBlock(dim, heads, mlp_ratio, r) for r in rates)
        self.norm = nn.LayerNorm(dim, eps=1e-6)

    def forward(self, onset):  # (B,3,H,W) -> (B,dim,grid,grid)
        x = F.interpolate(onset, size=(self.grid, self.grid), mode="bilinear", align_corners=False)
        t = self.embed(x).flatten(2).transpose(1, 2) + self.pos  # (B,T,dim)
        for blk in self.blocks:
            t = blk(t)
        t = self.norm(t)
        return t.transpose(1, 2).reshape(onset.shape[0], -1, self.grid, self.grid)


class MMNet(nn.Module):
    def __init__(self, num_classes: int, depth: int | None = None, mlp_ratio: float | None = None,
                 drop_path: float | None = None, image_size: int = 224):
        super().__init__()
        five = num_classes >= 5
        depth = depth if depth is not None else (2 if five else 3)
        mlp_ratio = mlp_ratio if mlp_ratio is not None else (4.0 if five else 2.0)
        drop_path = drop_path if drop_path is not None else (0.0 if five else 0.3)
        if image_size % 16:
            raise ValueError(f"MMNet needs a frame size divisible by 16, got {image_size}")
        self.stem = _cbr(3, 180, 3, 2)
        self.reduce = _cbr(180, 128, 3, 1)
        self.blocks = nn.ModuleList([CABlock(128, 128, 1), CABlock(128, 128, 2), CABlock(128, 256, 2),
                                     CABlock(256, 512, 2)])
        self.grid = image_size // 16
        self.pc = PositionCalibration(512, self.grid, depth, 4, mlp_ratio, drop_path)
        self.head = nn.Linear(512 * self.grid * self.grid, num_classes)
        self.num_classes = num_classes

    def attention_maps(self, motion):
        """The CA branch: features (B,512,g,g) and the list of the four attention maps."""
        x = self.reduce(self.stem(motion))
        maps, a = [], None
        for blk in self.blocks:
            x, a = blk(x, a)
            maps.append(a)
        return x, maps

    def forward(self, clips: torch.Tensor, views=None) -> ModelOutput:
        if clips.dim() != 5 or clips.shape[1] != 2 or clips.shape[2] != 3:
            raise ValueError(f"MMNet takes (B, 2, 3, H, W) onset/apex pairs, got shape {tuple(clips.shape)}")
        if clips.shape[-1] != self.grid * 16 or clips.shape[-2] != self.grid * 16:
            raise ValueError(f"this MMNet was built for {self.grid * 16}² frames, got {tuple(clips.shape[-2:])}")
        onset, apex = clips[:, 0], clips[:, 1]
        ca, _ = self.attention_maps(apex - onset)
        fused = ca + self.pc(onset)  # (B,512,g,g)
        return ModelOutput(logits=self.head(fused.flatten(1)))


@register_model("mmnet", input_kind="pair", config_args=lambda cfg: {"image_size": cfg.preprocess.size})
def mmnet(num_classes: int, **kwargs) -> MMNet:
    return MMNet(num_classes, **kwargs)
