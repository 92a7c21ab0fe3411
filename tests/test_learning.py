"""Learning guards: on a tiny SynthME each model the book trains fits its training clips
within a fixed small budget, and its loss falls. Deterministic (fixed seeds, CPU), seconds
each. A change that stops a model from learning fails here before it reaches the book."""

import numpy as np
import pytest
import torch

from cmnet.config import Config
from cmnet.data.splits import loso_folds
from cmnet.variants import BASELINE, REPAIRS
from cmnet.preprocess.prepare import prepare_cache
from cmnet.fold.evaluate import evaluate
from cmnet.fold.loop import build, epoch_seed, train_step

GUARDS = {  # name → (overrides, full-batch steps)
    "cmnet (repaired)": (REPAIRS | {"lr": 0.05}, 40),
    "baseline": (REPAIRS | BASELINE | {"lr": 0.05}, 40),
    "mmnet": ({"model": "mmnet", "lambda_id": 0.0, "lambda_wrst": 0.0, "lambda_ce": 1.0, "optimizer": "adamw",
               "lr": 8e-4, "weight_decay": 0.6, "lr_gamma": 1.0}, 100),  # MMNet's own settings; cheap steps
}


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    d = tmp_path_factory.mktemp("learn")
    flat = dict(synth_subjects=3, synth_clips_per_subject=4, synth_size=64, synth_difficulty=0.5, size=32,
                data_root=str(d / "synth"), cache_dir=str(d / "cache"), device="cpu")
    cfg = Config.from_flat(flat | {"model": "mmnet"}, "test")  # a cache with onset/apex pairs serves all
    cache, classes = prepare_cache(cfg, progress=False)
    return flat, cache, classes


@pytest.mark.parametrize("name", list(GUARDS))
def test_model_fits_its_training_clips(tiny_data, name):
    flat, cache, classes = tiny_data
    over, steps = GUARDS[name]
    cfg = Config.from_flat(flat | dict(batch_size=8, ice_width=8, embed_dim=16, lstm_hidden=32, num_negatives=5,
                                       epochs=steps) | over, "guard")
    fold = loso_folds(list(cache.subjects))[0]
    train_idx = np.asarray(fold.train)  # 8 clips of two subjects
    torch.manual_seed(0)
    dev = torch.device("cpu")
    kit = build(cfg, len(classes), dev)
    y = torch.tensor([classes.index(lab) for lab in cache.labels[train_idx]])
    apex = torch.as_tensor(cache.apex[train_idx])
    losses = []
    for epoch in range(steps):
        gen = torch.Generator().manual_seed(epoch_seed(0, epoch))
        x = kit.transform.load(cache, train_idx, dev, gen)
        loss, parts, _ = train_step(kit, kit.model, x, y, apex, gen)
        losses.append(float(parts["ce"].detach()))
    ev = evaluate(kit, cache, train_idx, classes, 0)
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5]), f"{name}: cross-entropy {losses[:3]} → {losses[-3:]}"
    assert ev["metrics"]["accuracy"] >= 0.9, f"{name} fits only {ev['metrics']['accuracy']:.2f} of its training clips"


def test_the_plain_classifier_is_committed_like_a_study(tiny_data, tmp_path):
    """results/<profile>-plain/: every clip's prediction under each of the study's seeds (the
    same: it is deterministic), its metrics equal to cmnet.metrics on those predictions, and its
    fit to the training clips."""
    import json

    import pandas as pd

    from cmnet.metrics import all_metrics
    from cmnet.report.plain import plain_classifier, write_plain

    flat, cache, classes = tiny_data
    cfg = Config.from_flat(flat | {"name": "tiny-cmnet", "results_dir": str(tmp_path), "seeds": [0, 2]}, "test")
    s = write_plain(cfg, cache, classes)
    p = pd.read_csv(tmp_path / "tiny-plain" / "predictions.csv")
    assert list(p.columns) == ["seed", "key", "subject", "label", "pred"] and sorted(set(p.seed)) == [0, 2]
    one = p[p.seed == 0].reset_index(drop=True)
    assert one.equals(p[p.seed == 2].reset_index(drop=True).assign(seed=0)) and len(one) == len(cache.keys)
    assert s["accuracy"] == all_metrics(one.label, one.pred, labels=list(classes))["accuracy"]
    assert s == json.loads((tmp_path / "tiny-plain" / "summary.json").read_text())
    assert 0 <= s["train_accuracy"] <= 1 and s["train_accuracy"] == plain_classifier(cache, classes)["train_accuracy"]
