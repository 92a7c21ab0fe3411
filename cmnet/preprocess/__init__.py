"""From a dataset's frames to the clip cache the models read, one room per job:

    faces      face detectors (Haar, dlib, face_alignment, none), square crop boxes
    temporal   N frames from any clip length (optical-flow or linear interpolation), apex mapping
    clip       one clip's frames → (N, S, S, 3) uint8 RGB (the cache and ``cmnet predict`` alike)
    cache      every clip of a dataset, kept once per settings (memory-mapped; content-hashed)
    prepare    from a configuration to its cached clips (SynthME generated when missing)
"""

from .cache import ClipCache, load_cache, preprocess
from .clip import PreprocessError
from .faces import Face, NoFaceError, make_detector
from .temporal import normalize_length

__all__ = ["ClipCache", "Face", "NoFaceError", "PreprocessError", "load_cache", "make_detector", "normalize_length",
           "preprocess"]
