"""Face crop, temporal normalisation and the clip cache."""

from .cache import ClipCache, PreprocessError, PreprocessSettings, load_cache, preprocess
from .faces import Face, NoFaceError, make_detector
from .temporal import normalize_length

__all__ = ["ClipCache", "Face", "NoFaceError", "PreprocessError", "PreprocessSettings", "load_cache",
           "make_detector", "normalize_length", "preprocess"]
