"""Frame encoders: the ResNet-18 trunk (facial feature encoder) and the small CNN of the
intensity clue encoder (ICE).

Shapes: F frames (B·N flattened), 3×H×W pixels in, (F, D) features out.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn as nn

from .._torchvision import import_torchvision


class ResNetTrunk(nn.Module):
    """torchvision's ResNet-18 without its classifier: (F, 3, H, W) → (F, 512).

    ``weights``: optional path to an ImageNet state-dict file (e.g. torchvision's
    ``resnet18-f37072fd.pth``) that the user already has. Never downloaded.
    """

    out_dim = 512

    def __init__(self, weights: str | Path | None = None):
        super().__init__()
        tv = import_torchvision()
        net = tv.models.resnet18(weights=None)
        if weights is not None:
            path = Path(weights)
            if not path.is_file():
                raise FileNotFoundError(
                    f"ResNet-18 weight file {path} not found; point `pretrained` to a "
                    "torchvision resnet18 state dict you have, or leave it empty to train from scratch"
                )
            state = torch.load(path, map_location="cpu", weights_only=True)
            state = {k: v for k, v in state.items() if not k.startswith("fc.")}
            missing, unexpected = net.load_state_dict(state, strict=False)
            missing = [m for m in missing if not m.startswith("fc.")]
            if missing or unexpected:
                raise ValueError(
                    f"{path} is not a ResNet-18 state dict: missing {missing[:5]}, unexpected {unexpected[:5]}"
                )
        net.fc = nn.Identity()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (F,3,H,W) -> (F,512)
        return self.net(x)


def _conv_bn_relu(cin: int, cout: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class SmallCNN(nn.Module):
    """The ICE's frame encoder: a stride-2 stem then ``depth`` stride-2 stages whose width
    doubles, global average pooling. (F, 3, H, W) → (F, width·2**depth).

    At width 32, depth 3 it costs about 0.3× ResNet-18's FLOPs per frame (measured with
    torch.utils.flop_counter in benchmarks/bench_core.py); CMNet runs it on 3 copies of
    every frame in training (clean, view 1, view 2).
    """

    def __init__(self, width: int = 32, depth: int = 3):
        super().__init__()
        if width < 1 or depth < 1:
            raise ValueError(f"SmallCNN needs width >= 1 and depth >= 1, got {width}, {depth}")
        layers = [_conv_bn_relu(3, width, 2)]
        c = width
        for _ in range(depth):
            layers += [_conv_bn_relu(c, 2 * c, 2), _conv_bn_relu(2 * c, 2 * c, 1)]
            c *= 2
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.out_dim = c

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (F,3,H,W) -> (F,out_dim)
        return self.pool(self.features(x)).flatten(1)
