"""Import torchvision safely on a CPU-only torch.

The registry's torchvision 0.28.0 wheel is built against CUDA torch; with the CPU build
of torch 2.13.0 its ``import`` fails with ``operator torchvision::nms does not exist``
because registering the fake kernels of ``nms``/``qnms`` needs their schemas, which the
(missing) compiled extension would have defined. We define those two schemas before the
first import, only when they are missing, so that where torchvision's own operators load
this does nothing. Only the model builders and transforms are used by cmnet;
``torchvision.ops`` and ``torchvision.io`` stay unusable on such an install (read images
with OpenCV). See ../shared/reference/toolchain.md.
"""

from __future__ import annotations

import torch

_SCHEMAS = {
    "nms": "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms": "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
}
_LIB = None  # keeps the fragment alive for the life of the process


def _has_op(name: str) -> bool:
    try:
        torch._C._dispatch_find_schema_or_throw(f"torchvision::{name}", "")
        return True
    except RuntimeError:
        return False


def import_torchvision():
    """Return the ``torchvision`` module, defining missing operator schemas first."""
    global _LIB
    import sys

    if "torchvision" in sys.modules:
        return sys.modules["torchvision"]
    missing = [n for n in _SCHEMAS if not _has_op(n)]
    if missing and _LIB is None:
        try:
            import torchvision  # noqa: F401  (works where the C++ extension loads)

            return torchvision
        except RuntimeError:
            for mod in [m for m in sys.modules if m.startswith("torchvision")]:
                del sys.modules[mod]
        _LIB = torch.library.Library("torchvision", "FRAGMENT")
        for name in missing:
            if not _has_op(name):
                _LIB.define(_SCHEMAS[name])
    import torchvision

    return torchvision
