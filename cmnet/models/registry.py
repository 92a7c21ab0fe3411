"""The model registry: a name → builder map, so that the config selects models by name. Each
builder owns its arguments: beside it, the function that reads them from the configuration.

    @register_model("cmnet", config_args=lambda cfg: {"ice_width": cfg.model.ice_width, …})
    def _build(num_classes, ice_width=32, …): ...

    create_model("cmnet", num_classes=5, ice_width=8)   # -> nn.Module
    model_from_config(cfg, num_classes=5)              # the configured model, its arguments from cfg
    list_models()                                       # -> ["cmnet", "mmnet", "resnet_lstm"]
"""

from __future__ import annotations

from typing import Callable

import torch.nn as nn

_REGISTRY: dict[str, Callable[..., nn.Module]] = {}
_INPUT: dict[str, str] = {}
_CONFIG_ARGS: dict[str, Callable[[object], dict]] = {}


def register_model(name: str, input_kind: str = "clip", config_args: Callable[[object], dict] = lambda cfg: {}):
    """Decorator registering a builder under ``name`` (an error if the name is taken).
    ``input_kind``: "clip" (B, N, 3, H, W) frames, or "pair" (B, 2, 3, H, W) onset/apex.
    ``config_args(cfg)``: the builder's keyword arguments from a cmnet.config.Config."""

    def deco(fn: Callable[..., nn.Module]):
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} is already registered")
        if input_kind not in ("clip", "pair"):
            raise ValueError(f"input_kind must be 'clip' or 'pair', got {input_kind!r}")
        _REGISTRY[name] = fn
        _INPUT[name] = input_kind
        _CONFIG_ARGS[name] = config_args
        return fn

    return deco


def input_kind(name: str) -> str:
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


def model_from_config(cfg, num_classes: int) -> nn.Module:
    """The model ``cfg.model.model`` with the arguments its builder reads from ``cfg``."""
    name = cfg.model.model
    if name not in _REGISTRY:
        raise KeyError(f"unknown model {name!r}; registered models: {', '.join(list_models())}")
    return _REGISTRY[name](num_classes=num_classes, **_CONFIG_ARGS[name](cfg))
