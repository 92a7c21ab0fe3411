"""Dataset records, readers, the SynthME generator and LOSO splits."""

from .clip import Clip, DatasetError, LoadReport
from .readers import (
    PAPER_COUNTS,
    DATASETS,
    class_counts,
    read_casme2,
    read_dataset,
    read_megc2019,
    read_samm,
    read_smic_hs,
)
from .splits import Fold, loso_folds

__all__ = ["DATASETS", "PAPER_COUNTS", "read_dataset", "Clip", "DatasetError", "Fold", "LoadReport", "class_counts", "loso_folds",
           "read_casme2", "read_megc2019", "read_samm", "read_smic_hs"]
