"""cmnet: a reproducibility book for CMNet (AAAI 2023) and MMNet (IJCAI 2022)."""

__version__ = "0.1.0"


def _in_a_kernel() -> None:
    """A chapter opened in Jupyter (its kernel started in notebooks/) reads and writes where the
    command line does, and shows cmnet's input errors as one line (cmnet.notebook)."""
    import sys

    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    if shell is not None and type(shell).__name__ == "ZMQInteractiveShell":
        from .notebook import setup_kernel

        setup_kernel(shell)


_in_a_kernel()
