"""A chapter runs where Jupyter runs it. JupyterLab, ``jupyter nbconvert --execute`` and
``jupyter execute`` start a notebook's kernel in the notebook's own folder (``notebooks/``);
papermill, as ``cmnet book`` calls it, in the repository's root. The chapters name their
files as the command line does, relative to the root (``params/<profile>.yaml``, ``runs/``,
``results/``, ``cache/``, ``data/``), so a kernel started inside a cmnet checkout but below
its root moves to the root when cmnet is first imported, and says so in one line.

In a kernel, cmnet's own errors about the user's input (a parameter of the wrong type, an
unknown profile, a file that is not there) are shown as the command line shows them: one
line, ``error: …``, as the cell's error (the cell still fails, so nbconvert and papermill
stop there); any other exception keeps its traceback.

Nothing here runs outside an IPython kernel.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# a folder is a cmnet checkout's root when it holds these (the command line's relative names)
ROOT_MARKERS = ("params/base.yaml", "notebooks")


def project_root(start: str | Path | None = None) -> Path | None:
    """The nearest folder at or above ``start`` (default: the working folder) that holds
    ``params/base.yaml`` and ``notebooks/``; None outside a checkout."""
    here = Path(start if start is not None else os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if all((folder / m).exists() for m in ROOT_MARKERS):
            return folder
    return None


def enter_project_root(start: str | Path | None = None) -> Path | None:
    """Move the working folder to the checkout's root when it is below it (e.g.
    ``notebooks/``); return the root moved to, or None when nothing changed."""
    here = Path(start if start is not None else os.getcwd()).resolve()
    root = project_root(here)
    if root is None or root == here:
        return None
    os.chdir(root)
    return root


def user_errors() -> tuple[type[BaseException], ...]:
    """The exceptions cmnet raises about its input, each shown as one line."""
    from .io import ArtifactError, WriteError
    from .params import ConfigError

    return ConfigError, WriteError, ArtifactError, FileNotFoundError, FileExistsError


def one_line(etype, value) -> str:
    """The command line's line for an error (cmnet.cli.main prints ``error: <message>``)."""
    text = str(value).encode("utf-8", "backslashreplace").decode("utf-8")
    return f"error: {text}"


def _show_one_line(shell, etype, value, tb, tb_offset=None):
    stb = [one_line(etype, value)]
    shell._showtraceback(etype, value, stb)  # IPython leaves the showing to a custom handler: the cell's error
    return stb


def setup_kernel(shell=None) -> Path | None:
    """In an IPython kernel: move to the checkout's root (see the module's note) and show
    cmnet's input errors as one line. Returns the root moved to, if any."""
    if shell is None:
        ipython = sys.modules.get("IPython")
        shell = ipython.get_ipython() if ipython is not None else None
    if shell is None or not hasattr(shell, "set_custom_exc"):
        return None
    shell.set_custom_exc(user_errors(), _show_one_line)
    root = enter_project_root()
    if root is not None:
        print(f"cmnet: working folder {root} (the repository's root: params/, runs/, results/, cache/ and data/ "
              f"are read and written there, as by the command line)")
    return root
