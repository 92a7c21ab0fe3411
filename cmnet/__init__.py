"""cmnet: a reproducibility book for CMNet (AAAI 2023) and MMNet (IJCAI 2022)."""

__version__ = "0.1.0"
