"""The models: CMNet and its ResNet + LSTM baseline (cmnet.models.cmnet), MMNet
(cmnet.models.mmnet), their backbones, and the registry that builds them by name, each
builder owning its arguments (cmnet.models.registry).

    create_model("cmnet", num_classes=5, ice_width=8)   # -> nn.Module
    model_from_config(cfg, num_classes=5)              # the configured model, its arguments from cfg
    list_models()                                       # -> ["cmnet", "mmnet", "resnet_lstm"]
"""

from . import cmnet as _cmnet  # noqa: F401  (registers cmnet, resnet_lstm)
from . import mmnet as _mmnet  # noqa: F401  (registers mmnet)
from .output import ModelOutput
from .registry import create_model, input_kind, list_models, model_from_config, register_model

__all__ = ["ModelOutput", "create_model", "input_kind", "list_models", "model_from_config", "register_model"]
