"""What do a trained ICE's features know of the intensity? A linear probe, and a control that
reads the image and learns nothing.

    r = probe_study(study, cache)               per fold: a ridge read-out of the ICE's per-frame
                                                features to SynthME's true intensity, fitted on the
                                                fold's training clips, scored on its test subjects
    r = probe_study(study, cache, trained=False)  the same ICE at its initialisation (the seed's
                                                weights before any step): what a probe finds in
                                                features nobody trained
    m = motion_energy(frames)                   per frame the mean absolute grey difference from
                                                the onset frame (K, N)

F frames, H_ice the ICE's feature width, K clips, N frames a clip.

The probe's score on the test subjects: R² of the frames' predicted intensity (pooled over the
fold's test frames) and the mean over test clips of Spearman's ρ between the predicted and the
true curve — the same ρ(·, truth) as k's in cmnet.statistics.controls.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from ..data.splits import make_folds
from ..runs import layout as L
from .augment import normalize
from .batches import batches
from .device import resolve_device


def motion_energy(frames: np.ndarray) -> np.ndarray:
    """(K, N, S, S, 3) uint8 clips (frame 0 the onset) → (K, N): per frame the mean over pixels of
    |grey(x_n) − grey(x_0)|, in grey levels. Reads the image, learns nothing."""
    f = np.asarray(frames)
    if f.ndim != 5:
        raise ValueError(f"frames must be (K, N, S, S, 3), got shape {f.shape}")
    grey = f.astype(np.float32).mean(-1)  # (K,N,S,S)
    return np.abs(grey - grey[:, :1]).mean((-2, -1))


def _features(kit, cache, idx) -> np.ndarray:
    """The ICE's features (len(idx)·N, H_ice) of clips ``idx``, as the model sees them at evaluation."""
    out = []
    kit.model.eval()
    with torch.no_grad():
        for b in batches(idx, kit.batch_size):
            x = kit.transform.encoder_input(kit.transform.load(cache, b, kit.device))
            out.append(kit.model.ice_features(normalize(x)).flatten(0, 1).float().cpu().numpy())
    return np.concatenate(out)


def _rho_rows(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    from scipy.stats import spearmanr

    return np.array([spearmanr(p, t).statistic if np.ptp(p) > 0 and np.ptp(t) > 0 else np.nan
                     for p, t in zip(pred, truth)])


def ridge_probe(train_x, train_y, test_x, test_y, n_frames: int, alpha: float = 1.0) -> dict:
    """Standardised ridge regression from features to intensity: R² on the test frames and the
    mean per-clip Spearman ρ of the predicted curves (rows of ``n_frames`` frames)."""
    from sklearn.linear_model import Ridge
    from sklearn.metrics import r2_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), Ridge(alpha=alpha)).fit(train_x, train_y)
    pred = model.predict(test_x)
    rho = _rho_rows(pred.reshape(-1, n_frames), np.asarray(test_y).reshape(-1, n_frames))
    return {"r2": float(r2_score(test_y, pred)), "rho": float(np.nanmean(rho)), "clips": len(rho)}


def probe_fold(cfg, cache, fold, weights: Path | None, alpha: float = 1.0) -> dict:
    """The probe on one fold: the ICE of ``weights`` (a fold's final.pt), or the seed's
    initialisation when None."""
    from .loop import build

    device = resolve_device(cfg.train.device)
    torch.manual_seed(cfg.train.seed)  # as training starts: the untrained ICE is the trained one's start
    kit = build(cfg, _n_classes(cfg), device)
    if not hasattr(kit.model, "ice_features"):
        raise ValueError(f"model {cfg.model.model!r} has no ICE to probe")
    if weights is not None:
        state = torch.load(weights, map_location=device, weights_only=True)
        kit.model.load_state_dict(state["model"])
    tr, te = np.asarray(fold.train), np.asarray(fold.test)
    truth = np.asarray(cache.intensity, dtype=np.float64)
    if not np.isfinite(truth[np.concatenate([tr, te])]).all():
        raise ValueError("the probe needs every clip's true intensity: SynthME's ground truth")
    n = truth.shape[1]
    return ridge_probe(_features(kit, cache, tr), truth[tr].ravel(), _features(kit, cache, te), truth[te].ravel(), n,
                       alpha) | {"fold": fold.subject}


def _n_classes(cfg) -> int:
    from ..preprocess.prepare import CLASSES

    return len(CLASSES[cfg.data.dataset])


def probe_study(study: str | Path, cache, trained: bool = True, seed: int | None = None) -> list[dict]:
    """:func:`probe_fold` on every finished fold of one seed of a study (runs/<study>/: the folds'
    final.pt and config.json), the trained ICE or (``trained=False``) its initialisation."""
    from ..config import Config

    study = Path(study)
    rows = []
    for s, done in L.finished(study, L.DONE):
        if seed is not None and s != seed:
            continue
        folder = done.parent
        cfg = Config.from_flat(json.loads((folder / L.CONFIG).read_text()), str(folder / L.CONFIG))
        folds = {f.subject: f for f in make_folds(cfg.study.protocol, cache.subjects, cache.labels, cfg.study.kfold_k)}
        if folder.name not in folds:
            raise ValueError(f"{folder}: fold {folder.name} is not a fold of this cache's split")
        weights = folder / L.FINAL if trained else None
        if trained and not weights.is_file():
            raise FileNotFoundError(f"{weights}: the fold's weights are needed to probe its ICE")
        rows.append(probe_fold(cfg, cache, folds[folder.name], weights) | {"seed": s, "trained": trained})
    if not rows:
        raise FileNotFoundError(f"{study}: no finished folds to probe")
    return rows
