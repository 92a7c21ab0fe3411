"""Model registry: a name → builder map, so that the config selects models by name.

    @register_model("cmnet")
    def _build(num_classes, **kw): ...

    create_model("cmnet", num_classes=5)   # -> nn.Module
    list_models()                           # -> ["cmnet", "resnet_lstm", ...]
"""

from __future__ import annotations

from typing import Callable

import torch.nn as nn

_REGISTRY: dict[str, Callable[..., nn.Module]] = {}
_INPUT: dict[str, str] = {}


def register_model(name: str, input_kind: str = "clip"):
    """Decorator registering a builder under ``name`` (an error if the name is taken).
    ``input_kind``: "clip" (B, N, 3, H, W) frames, or "pair" (B, 2, 3, H, W) onset/apex."""

    def deco(fn: Callable[..., nn.Module]):
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} is already registered")
        if input_kind not in ("clip", "pair"):
            raise ValueError(f"input_kind must be 'clip' or 'pair', got {input_kind!r}")
        _REGISTRY[name] = fn
        _INPUT[name] = input_kind
        return fn

    return deco


def model_input(name: str) -> str:
    """What the model ``name`` takes: "clip" or "pair"."""
    if name not in _INPUT:
        raise KeyError(f"unknown model {name!r}; registered models: {', '.join(list_models())}")
    return _INPUT[name]


def list_models() -> list[str]:
    """Names of every registered model, sorted."""
    return sorted(_REGISTRY)


def create_model(name: str, **kwargs) -> nn.Module:
    """Build the registered model ``name`` with ``kwargs`` (e.g. ``num_classes=5``)."""
    if name not in _REGISTRY:
        raise KeyError(f"unknown model {name!r}; registered models: {', '.join(list_models())}")
    return _REGISTRY[name](**kwargs)


from . import cmnet as _cmnet  # noqa: E402,F401  (registers cmnet, resnet_lstm)
from . import mmnet as _mmnet  # noqa: E402,F401  (registers mmnet)
from .output import ModelOutput  # noqa: E402

__all__ = ["ModelOutput", "create_model", "list_models", "model_input", "register_model"]
