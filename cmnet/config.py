"""The one configuration tree: every parameter's name, type, default and meaning.

Sections are dataclasses; field names are unique across sections, so a params file is
flat (``key: value`` lines, as papermill merges them) and each key finds its section.
An unknown key, or a value of the wrong type, is an error naming the key and the file.

    cfg = load_config("params/smoke.yaml")            # base.yaml beside it is read first
    cfg = Config.from_flat({"epochs": 2}, source="…")
    cfg.train.epochs, cfg.to_flat()
"""

from __future__ import annotations

import copy
import dataclasses
import re
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path

from .params import ConfigError, _coerce, read_params


@dataclass
class DataConfig:
    dataset: str = "synthme"  # synthme, casme2, samm, smic_hs, megc2019
    data_root: str = ""  # the dataset's folder; synthme: where it is generated ("" → <data_dir>/synthme-…)
    data_dir: str = "data"  # where SynthME is generated when data_root is empty
    casme2_root: str = ""  # megc2019 only
    samm_root: str = ""  # megc2019 only
    smic_root: str = ""  # megc2019 only
    layout: str = "auto"  # CASME II frames: auto, raw, cropped
    cache_dir: str = "cache"  # preprocessed clips
    synth_subjects: int = 16  # SynthME: subjects
    synth_clips_per_subject: int = 10  # SynthME: clips per subject
    synth_seed: int = 0  # SynthME: generator seed
    synth_size: int = 128  # SynthME: frame side on disk (px)
    synth_difficulty: float = 1.0  # SynthME: >1 harder
    synth_curves: str = "varied"  # SynthME: intensity curves varied per clip, or "bump" (one shape: the first edition)
    synth_others: str = "varied"  # SynthME: "others" a random set of AUs per clip, or "template" (the first edition)
    synth_proportions: str = "balanced"  # SynthME: class shares: balanced, casme2 or samm (the 5-class protocols')


@dataclass
class PreprocessSettings:
    size: int = 224  # output frame side (px); the paper's 224
    frames: int = 16  # N after temporal normalisation
    detector: str = "haar"  # "haar", "dlib" (68 landmarks, offline), "face_alignment" or "none" (already cropped)
    margin: float = 0.15  # widening of the face box
    level_eyes: bool = False  # turn each clip so its eye line is level (landmark detectors: dlib, face_alignment)
    interpolation: str = "flow"  # short clips: "flow" (optical flow) or "linear"
    device: str = "cpu"  # for face_alignment (not a key of its own: train.device, cpu when auto)
    pairs: bool = False  # also keep onset/apex candidates from the original sequence (set for pair models: MMNet)
    pair_jitter: float = 0.0375  # candidates: onset..onset+j and apex−j..apex, j = ⌊jitter·(apex−onset)⌋


@dataclass
class ModelConfig:
    model: str = "cmnet"  # a name from cmnet.models.list_models()
    pretrained: str = ""  # path to an ImageNet resnet18 state dict you have ("" → from scratch)
    lstm_hidden: int = 256  # LSTM width
    ice_width: int = 32  # ICE encoder base width (CMNet)
    ice_depth: int = 3  # ICE encoder stages (CMNet)
    embed_dim: int = 128  # ICE embedding width (CMNet)
    input: str = "frames"  # what the clip encoders see: frames (as printed) or onset_diff (frame − onset frame)
    diff_gain: float = 4.0  # onset_diff: 0.5 + gain·(x_n − x_onset), clamped to [0, 1]
    ice_bn: str = "mixed"  # ICE BatchNorm: mixed (clean + views in one batch, as built) or clean (running stats of clean frames only)
    k_init: str = "default"  # squeeze init: default (PyTorch) or prototype (k starts at the prototype's mean level)
    k_source: str = "ice"  # CMNet's k: ice (squeeze of the ICE, the paper's), oracle (the clip's true intensity, SynthME only: a positive control) or prototype (the prototype's mean from the annotated apex)


@dataclass
class LossConfig:
    lambda_id: float = 0.07  # λ1, intensity distillation (Eq. 10)
    lambda_wrst: float = 0.71  # λ2, Wilcoxon rank-sum
    lambda_ce: float = 0.22  # λ3, cross-entropy
    sampler: str = "probabilistic"  # deterministic, random, probabilistic
    negatives: str = "clean"  # L_ID negatives: clean (other frames un-augmented, as printed) or augmented (their views)
    tau: float = 0.1  # L_ID temperature
    num_negatives: int = 15  # M for the random and probabilistic samplers
    eps: float = 0.2  # prototype minimum mean ε
    alpha: float = 0.05  # significance level α
    xi: float = 0.01  # margin ξ
    rank_temperature: float = 0.05  # soft-rank temperature of L_Wrst
    p_reading: str = "density"  # Eq. 8: density (as printed) or two-sided (p-value)
    tendency: str = "wrst"  # the λ2 term: wrst (L_Wrst, as printed; blind to frame order), spearman (ours: order-aware) or truth (k taught SynthME's true intensity: a control)
    eta_init: float = 0.5  # initial η of the prototype


@dataclass
class TrainConfig:
    epochs: int = 100  # fixed; the last epoch is evaluated
    batch_size: int = 8  # clips per step
    optimizer: str = "sgd"  # sgd (CMNet's) or adamw (MMNet's)
    lr: float = 1e-3  # learning rate
    momentum: float = 0.9  # SGD momentum
    weight_decay: float = 1e-4  # weight decay
    lr_step: int = 50  # sgd: halve (lr_gamma) every lr_step epochs
    lr_gamma: float = 0.5  # decay factor (per lr_step for sgd, per epoch for adamw)
    lr_decay_epochs: int = 0  # adamw: exponential decay only for the first epochs (0: always)
    hflip: bool = True  # random horizontal flip of whole clips
    color_jitter: float = 0.4  # views: brightness/contrast/saturation strength (hue: a quarter)
    grayscale_p: float = 0.2  # views: probability of grayscale
    blur_sigma: float = 1.5  # views: maximum Gaussian blur σ (px)
    blur_p: float = 0.5  # views: probability of blur
    blur_relative: bool = False  # blur_sigma is in px at 224² and scales with the frame side (False: px as given)
    affine_rotate: float = 0.0  # random rotation of whole clips, ± degrees (MMNet: 3)
    affine_translate: float = 0.0  # random shift of whole clips, ± px (MMNet's padded crop: 15)
    device: str = "auto"  # auto (cuda if available), cpu, cuda, cuda:1, …
    precision: str = "auto"  # auto (bf16 on cuda, fp32 on cpu), bf16, fp32
    channels_last: bool = True  # NHWC convolutions
    compile: bool = False  # torch.compile the model (GPU)
    seed: int = 0  # seed of weights, shuffling and augmentation
    eval_every: int = 1  # monitor the test fold every k epochs (never used to pick an epoch)
    tensorboard: bool = True  # per-epoch scalars as TensorBoard event files in each fold folder


@dataclass
class StudyConfig:
    name: str = "study"  # experiment name: runs/<name>/…, results/<name>/…
    seeds: list[int] = field(default_factory=lambda: [0])  # one run of every fold per seed
    one_seed: list[str] = field(default_factory=list)  # the book's variants run with the first seed only (a budget)
    tuned: bool = False  # each variant at the learning rate its arm was given on the tuning data (cmnet.variants.TUNED)
    protocol: str = "loso"  # folds: loso (one per subject, the paper's) or kfold (subject-grouped, kfold_k groups)
    kfold_k: int = 4  # kfold: the number of subject groups (folds k1…kK)
    folds: list[str] = field(default_factory=list)  # folds to run: test subjects (loso) or k1…kK (kfold) ([] → all)
    workers: int = 1  # local executor: folds trained at once in separate processes (CPU: each gets cores/workers threads)
    executor: str = "local"  # where folds run: local (this machine) or ray (a Ray cluster: cores, GPUs, machines)
    address: str = ""  # ray: the cluster to join ("" → a local Ray instance started for the study; "auto"; host:port)
    cpus_per_fold: float = 1.0  # ray: CPU cores each fold asks for (also its torch threads)
    gpus_per_fold: float = 0.0  # ray: GPUs each fold asks for; fractions pack folds on one GPU (0.25 → 4 per GPU)
    runs_dir: str = "runs"  # fold folders, checkpoints
    results_dir: str = "results"  # small committed summaries


@dataclass
class Config:
    data: DataConfig = field(default_factory=DataConfig)
    preprocess: PreprocessSettings = field(default_factory=PreprocessSettings)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    study: StudyConfig = field(default_factory=StudyConfig)

    @classmethod
    def sections(cls) -> dict[str, type]:
        return {f.name: f.default_factory().__class__ for f in fields(cls)}

    @classmethod
    def key_index(cls) -> dict[str, tuple[str, dataclasses.Field, type]]:
        """flat key → (section, field, its type); ``device`` of the preprocessing is train.device."""
        idx = {}
        for sec, typ in cls.sections().items():
            hints = typing.get_type_hints(typ)
            for f in fields(typ):
                if sec == "preprocess" and f.name == "device":
                    continue
                if f.name in idx:
                    raise RuntimeError(f"config key {f.name!r} is defined twice")
                idx[f.name] = (sec, f, hints[f.name])
        return idx

    @classmethod
    def from_flat(cls, params: dict, source: str = "<params>", base: "Config | None" = None) -> "Config":
        cfg = copy.deepcopy(base) if base else cls()
        idx = cls.key_index()
        for key, value in (params or {}).items():
            if key not in idx:
                close = [k for k in idx if k.startswith(str(key)[:4])]
                raise ConfigError(f"{source}: unknown parameter {key!r}" + (f" (did you mean {close}?)" if close else ""))
            sec, f, typ = idx[key]
            value = _coerce(value, typ, key, source)
            if key in CHOICES and value not in CHOICES[key]:
                raise ConfigError(f"{source}: parameter {key!r} must be one of {', '.join(CHOICES[key])}, got {value!r}")
            if key in RANGES and not RANGES[key][0](value):
                raise ConfigError(f"{source}: parameter {key!r} must be {RANGES[key][1]}, got {value!r}")
            setattr(getattr(cfg, sec), key, value)
        cfg.preprocess.device = "cpu" if cfg.train.device == "auto" else cfg.train.device
        cfg.derive_pairs()
        return cfg

    def derive_pairs(self) -> None:
        """A pair model (MMNet) is trained on onset/apex candidates the cache keeps: ``pairs``
        is set for it, so a fold's config.json records the cache it used."""
        from .models import input_kind, list_models

        if self.model.model in list_models():  # an unknown model is named by validate
            self.preprocess.pairs = self.preprocess.pairs or input_kind(self.model.model) == "pair"

    def validate(self, source: str = "<config>") -> "Config":
        """The rules that tie keys together (each key's own range is checked as it is set);
        one ConfigError line naming the keys; derives ``pairs``. Returns self."""
        from .models import list_models

        m, lo, pre = self.model, self.loss, self.preprocess
        if m.model not in list_models():
            raise ConfigError(f"{source}: parameter 'model' must be one of {', '.join(list_models())}, got {m.model!r}")
        if lo.lambda_id == lo.lambda_wrst == lo.lambda_ce == 0:
            raise ConfigError(f"{source}: lambda_id, lambda_wrst and lambda_ce are all 0: nothing would be trained")
        if m.model != "cmnet" and (lo.lambda_id or lo.lambda_wrst):
            raise ConfigError(f"{source}: model {m.model!r} has no intensity branch: lambda_id and lambda_wrst must be 0 "
                              f"(got {lo.lambda_id}, {lo.lambda_wrst})")
        if m.k_source != "ice" and (m.model != "cmnet" or lo.lambda_id or lo.lambda_wrst):
            raise ConfigError(f"{source}: k_source {m.k_source!r} gives CMNet its k from outside (the ICE is not used): "
                              f"it needs model 'cmnet' and lambda_id = lambda_wrst = 0 (got {m.model!r}, "
                              f"{lo.lambda_id}, {lo.lambda_wrst})")
        if m.model == "mmnet" and pre.size % 16:
            raise ConfigError(f"{source}: model 'mmnet' needs 'size' divisible by 16 (its ViT patches), got {pre.size}")
        if m.model == "cmnet" and pre.size < 2 ** m.ice_depth:
            raise ConfigError(f"{source}: 'size' {pre.size} is too small for ice_depth {m.ice_depth}")
        sigma = blur_sigma_px(self.train.blur_sigma, self.train.blur_relative, pre.size)
        if 3 * sigma >= pre.size:
            raise ConfigError(f"{source}: 'blur_sigma' {self.train.blur_sigma:g} is {sigma:g} px at size {pre.size}: its "
                              f"kernel (3σ each side) must stay inside the frame, so below {pre.size / 3:g} px")
        if 2 * self.train.affine_translate >= pre.size:
            raise ConfigError(f"{source}: 'affine_translate' {self.train.affine_translate:g} px shifts the face out of a "
                              f"{pre.size}-px frame: keep it below {pre.size / 2:g}")
        if pre.level_eyes and pre.detector not in ("dlib", "face_alignment"):
            raise ConfigError(f"{source}: 'level_eyes' needs a landmark detector (dlib or face_alignment), "
                              f"not detector {pre.detector!r}")
        flat = self.to_flat()
        for key in FOLDER_KEYS:  # a blank folder would be the working folder itself
            v = flat[key]
            if not v.strip() or "\x00" in v:
                raise ConfigError(f"{source}: parameter {key!r} must name a folder (default {FOLDER_KEYS[key]!r}), "
                                  f"got {v[:80]!r}")
        if len(set(self.study.seeds)) != len(self.study.seeds):
            raise ConfigError(f"{source}: 'seeds' repeats a seed: {self.study.seeds}")
        self.derive_pairs()
        return self

    def to_flat(self) -> dict:
        return {k: getattr(getattr(self, sec), k) for k, (sec, _, _) in self.key_index().items()}



# the folders a study writes or reads under (a chapter's parameters, the command line's flags) and their defaults
FOLDER_KEYS: dict[str, str] = {"runs_dir": "runs", "results_dir": "results", "cache_dir": "cache", "data_dir": "data"}

# keys whose value is one of a few names (checked for profiles and overrides alike)
CHOICES: dict[str, tuple[str, ...]] = {
    "input": ("frames", "onset_diff"),
    "ice_bn": ("mixed", "clean"),
    "k_init": ("default", "prototype"),
    "k_source": ("ice", "oracle", "prototype"),
    "negatives": ("clean", "augmented"),
    "sampler": ("deterministic", "random", "probabilistic"),
    "p_reading": ("density", "two-sided"),
    "tendency": ("wrst", "spearman", "truth"),
    "optimizer": ("sgd", "adamw"),
    "dataset": ("synthme", "casme2", "samm", "smic_hs", "megc2019"),
    "layout": ("auto", "raw", "cropped"),
    "detector": ("haar", "dlib", "face_alignment", "none"),  # cmnet.preprocess.faces.DETECTORS
    "interpolation": ("flow", "linear"),
    "precision": ("auto", "bf16", "fp32"),
    "executor": ("local", "ray"),
    "protocol": ("loso", "kfold"),
    "synth_curves": ("varied", "bump"),  # cmnet.data.synthme.CURVES
    "synth_others": ("varied", "template"),  # cmnet.data.synthme.OTHERS
    "synth_proportions": ("balanced", "casme2", "samm"),  # cmnet.data.synthme.PROPORTIONS
}
# the datasets as the book names them in its text (a key of CHOICES["dataset"] → its name)
DATASET_NAMES: dict[str, str] = {"synthme": "SynthME", "casme2": "CASME II", "samm": "SAMM", "smic_hs": "SMIC-HS",
                                 "megc2019": "MEGC 2019"}


def blur_sigma_px(sigma: float, relative: bool, side: int) -> float:
    """The maximum blur σ in pixels for frames of ``side`` px: ``sigma`` as given, or, when
    ``relative``, read at 224 px and scaled to ``side`` (the same blur relative to the face at
    every frame size)."""
    return sigma * side / 224 if relative else sigma


def _between(lo, hi, lo_open=False, hi_open=False):
    def ok(v):
        return (v > lo if lo_open else v >= lo) and (v < hi if hi_open else v <= hi)

    return ok, f"in {'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"


def _at_least(lo, strict=False):
    return (lambda v: v > lo) if strict else (lambda v: v >= lo), f"{'>' if strict else '≥'} {lo:g}"


_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_DEVICE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")

# each key's own range (profiles and --set alike); rules tying keys together: Config.validate
RANGES: dict[str, tuple] = {
    **{k: _at_least(1) for k in ("synth_subjects", "synth_clips_per_subject", "lstm_hidden", "ice_width", "embed_dim",
                                 "num_negatives", "epochs", "batch_size", "lr_step", "workers")},
    "kfold_k": _between(2, 1000),
    **{k: _at_least(0) for k in ("synth_seed", "lr_decay_epochs", "eval_every", "seed", "blur_sigma",
                                 "affine_translate")},  # upper bounds from the frame side: Config.validate
    **{k: _between(0, 1) for k in ("grayscale_p", "blur_p", "pair_jitter", "weight_decay", "color_jitter")},
    # no meaning needs infinity: every float key has a finite upper bound, far above any sensible value
    # (a factor 1 - s below 0, a rotation past a half turn, a box wider than three faces mean nothing)
    **{k: _between(0, 1000) for k in ("lambda_id", "lambda_wrst", "lambda_ce", "xi")},
    "margin": _between(0, 3),
    "affine_rotate": _between(0, 180),
    **{k: _between(0, 1000, lo_open=True) for k in ("diff_gain", "tau", "rank_temperature")},
    "lr": _between(0, 10, lo_open=True),
    "synth_difficulty": _between(0, 100, lo_open=True),
    "momentum": _between(0, 1, hi_open=True),
    "lr_gamma": _between(0, 1, lo_open=True),
    "cpus_per_fold": _between(0, 4096, lo_open=True),
    "gpus_per_fold": _between(0, 1024),
    **{k: _between(0, 1, lo_open=True, hi_open=True) for k in ("eps", "alpha", "eta_init")},
    "ice_depth": _between(1, 5),
    "frames": _between(2, 1024),
    "size": _between(32, 4096),
    "synth_size": _between(64, 4096),
    "name": (lambda v: bool(_NAME.match(v)), "a folder name (letters, digits, . _ -; not starting with . or -)"),
    "device": (lambda v: bool(_DEVICE.match(v)), "auto, cpu, mps, cuda or cuda:N"),
    "seeds": (lambda v: len(v) > 0 and all(s >= 0 for s in v), "a non-empty list of seeds ≥ 0"),
    "folds": (lambda v: all(isinstance(s, str) and s for s in v), "a list of subject names"),
}

# keys that cannot change a fold's numbers: left out of its fingerprint (cmnet.runs), so
# changing them never invalidates finished folds. Paths and names say where things go (the
# cache is fingerprinted by its content instead), the study's plan picks which folds run,
# monitoring does not touch the model.
# keys added after folds were first recorded, with the value that reproduces those folds: a
# fingerprint without the key is read as holding that value (cmnet.runs.fingerprint)
ADDED_KEYS: dict[str, object] = {"synth_curves": "bump", "synth_others": "template", "synth_proportions": "balanced",
                                 "protocol": "loso", "kfold_k": 4, "k_source": "ice", "level_eyes": False}

NOT_IN_FINGERPRINT: frozenset[str] = frozenset({
    "name", "runs_dir", "results_dir", "cache_dir", "data_dir", "data_root", "casme2_root", "samm_root",
    "smic_root", "seeds", "one_seed", "tuned", "folds", "workers", "eval_every", "tensorboard", "executor", "address", "cpus_per_fold",
    "gpus_per_fold",
})


def load_config(path: str | Path, overrides: dict | None = None, overrides_source: str = "overrides",
                more: tuple[dict, str] | list[tuple[dict, str]] | None = None) -> Config:
    """``base.yaml`` beside ``path`` (if any, and not ``path`` itself), then ``path``, then
    ``overrides`` (e.g. a variant's keys; errors in them name ``overrides_source``), then
    ``more`` = (values, their source) or a list of them, in order, e.g. the folders a chapter or
    the command line gives and then the command line's --set; the rules tying keys together are
    checked once, on the result."""
    path = Path(path)
    cfg = Config()
    base = path.parent / "base.yaml"
    if base.is_file() and base.resolve() != path.resolve():
        cfg = Config.from_flat(read_params(base), str(base))
    cfg = Config.from_flat(read_params(path), str(path), base=cfg)
    sources = []
    layers = [more] if isinstance(more, tuple) else list(more or [])
    for values, source in ((overrides, overrides_source), *layers):
        if values:
            cfg = Config.from_flat(values, source, base=cfg)
            sources.append(source)
    return cfg.validate(" with ".join([str(path), *sources]))
