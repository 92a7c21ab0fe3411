"""What a run ran on: package versions, the git commit, the device and the processor.

    environment(device)   → env.json of a fold and the book's status page
    git_commit()          the checkout's commit (asked once per process)
"""

from __future__ import annotations

import functools
import platform
from pathlib import Path


@functools.lru_cache(maxsize=1)
def git_commit() -> str:
    import subprocess

    import cmnet

    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=Path(cmnet.__file__).parent).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        out = ""
    return out or "unknown"


def environment(device) -> dict:
    """Versions, commit and device of this process (``device``: a torch.device)."""
    import cv2
    import numpy as np
    import sklearn
    import torch

    import cmnet

    dev = torch.cuda.get_device_name(device) if device.type == "cuda" else (platform.processor() or platform.machine())
    return {
        "python": platform.python_version(), "cmnet": cmnet.__version__, "torch": torch.__version__,
        "numpy": np.__version__, "opencv": cv2.__version__, "scikit-learn": sklearn.__version__,
        "git_commit": git_commit(), "device": str(device), "device_name": dev, "cpu_threads": torch.get_num_threads(),
        "platform": platform.platform(), "cpu_model": cpu_model(), "cpu_capability": torch.backends.cpu.get_cpu_capability(),
    }


def cpu_model() -> str:
    """The processor's model name (Linux: /proc/cpuinfo). Recorded because the same seed gives
    other numbers on another CPU: its vector kernels round differently, and training amplifies it."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"
