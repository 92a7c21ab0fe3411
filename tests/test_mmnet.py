"""MMNet: shapes, parameter count against the reference, continuous attention, its input
path (onset/apex candidates from the original sequence) and a tiny fold that learns."""

import json

import numpy as np
import pytest
import torch

from cmnet.config import Config
from cmnet.data.splits import loso_folds
from cmnet.models import create_model
from cmnet.preprocess.prepare import prepare_cache
from cmnet.preprocess.clip import pair_candidates, PAIR_MAX
from cmnet.fold.batches import load_batch
from cmnet.fold.run import run_fold


@pytest.mark.parametrize("classes", [3, 5])
def test_shapes(classes):
    m = create_model("mmnet", num_classes=classes, image_size=64)
    out = m(torch.randn(2, 2, 3, 64, 64))
    assert out.logits.shape == (2, classes) and out.k is None
    with pytest.raises(ValueError, match="pairs"):
        m(torch.randn(2, 4, 3, 64, 64))
    with pytest.raises(ValueError, match="built for 64"):
        m(torch.randn(2, 2, 3, 96, 96))


def test_parameter_count_matches_reference():
    m = create_model("mmnet", num_classes=5)
    n = sum(p.numel() for p in m.parameters())
    assert abs(n - 9.44e6) / 9.44e6 < 0.02  # reference: 9.44 M used parameters
    assert n == 9_438_841  # stem 5,220 + CA trunk 2,523,664 + head 501,765 + PC 6,408,192
    parts = {k: sum(p.numel() for name, p in m.named_parameters() if name.startswith(k))
             for k in ("stem", "reduce", "blocks", "pc", "head")}
    assert parts["stem"] == 5220 and parts["head"] == 501_765 and parts["pc"] == 6_408_192
    assert parts["reduce"] + parts["blocks"] == 2_523_664
    three = create_model("mmnet", num_classes=3)
    assert len(three.pc.blocks) == 3 and three.pc.blocks[0].mlp[0].out_features == 1024
    assert three.pc.blocks[-1].drop_path == pytest.approx(0.3)


def test_continuous_attention_accumulates():
    torch.manual_seed(0)
    m = create_model("mmnet", num_classes=5, image_size=64).eval()
    with torch.no_grad():
        _, maps = m.attention_maps(torch.randn(3, 3, 64, 64))
    assert [tuple(a.shape[-2:]) for a in maps] == [(32, 32), (16, 16), (8, 8), (4, 4)]
    for prev, a in zip(maps, maps[1:]):
        assert a.min() > 0 and a.max() < 1
        pooled = torch.nn.functional.max_pool2d(prev, 3, 2, 1)
        assert torch.all(a <= pooled + 1e-7)  # never exceeds the previous block's pooled map
    assert maps[-1].mean() < maps[0].mean()  # products of values in (0, 1) shrink


def _tiny(tmp_path, **kw):
    flat = dict(synth_subjects=3, synth_clips_per_subject=4, synth_size=64, size=32, model="mmnet", lambda_id=0.0,
                lambda_wrst=0.0, lambda_ce=1.0, optimizer="adamw", lr=8e-4, weight_decay=0.6, lr_gamma=0.987,
                lr_decay_epochs=50, epochs=8, batch_size=4, affine_rotate=3.0, affine_translate=2.0, name="mm",
                pair_jitter=0.2, data_root=str(tmp_path / "synth"), cache_dir=str(tmp_path / "cache"),
                runs_dir=str(tmp_path / "runs"), results_dir=str(tmp_path / "results"))
    return Config.from_flat(flat | kw, "test")


def test_pair_input_comes_from_the_original_sequence(tmp_path):
    cfg = _tiny(tmp_path)
    cache, classes = prepare_cache(cfg, progress=False)
    assert cache.pairs.shape[:3] == (12, 2, PAIR_MAX + 1) and cache.pair_counts.min() >= 1
    from cmnet.data import read_casme2

    clips, _ = read_casme2(tmp_path / "synth", dataset="synthme")
    c = clips[0]
    on, ap = pair_candidates(c, 0.2)
    assert on[0] == 0 and ap[0] == c.apex_index  # the annotated frames come first
    assert len(on) == len(ap) == min(PAIR_MAX, int(0.2 * c.apex_index)) + 1
    assert tuple(cache.pair_counts[0]) == (len(on), len(ap))
    # the apex candidate is the original apex frame, the normalised clip's frame 0 the onset
    np.testing.assert_array_equal(cache.pairs[0, 0, 0], cache.frames[0, 0])
    # test time: the annotated pair; training: draws among the candidates
    idx = np.arange(12)
    x = load_batch(cache, idx, torch.device("cpu"), False, pair=True)
    assert x.shape == (12, 2, 3, 32, 32)
    ref = torch.from_numpy(np.asarray(cache.pairs[:, 1, 0])).permute(0, 3, 1, 2).float() / 255
    torch.testing.assert_close(x[:, 1], ref)
    g = torch.Generator().manual_seed(0)
    seen = {tuple(load_batch(cache, idx, torch.device("cpu"), False, True, g)[:, 1].flatten(1).sum(1).round().tolist())
            for _ in range(5)}
    assert len(seen) > 1  # jitter changes the apex frame between draws


def test_tiny_fold_learns(tmp_path):
    cfg = _tiny(tmp_path)
    cache, classes = prepare_cache(cfg, progress=False)
    fold = loso_folds(list(cache.subjects))[0]
    r = run_fold(cfg, cache, classes, fold, tmp_path / "f", progress=False)
    lines = [json.loads(x) for x in (tmp_path / "f" / "metrics.jsonl").read_text().splitlines()]
    assert len(lines) == 8 and np.isfinite(r["accuracy"])
    first, last = lines[0]["train_loss"], lines[-1]["train_loss"]
    assert last < 0.8 * first
    assert lines[1]["lr"] == pytest.approx(8e-4 * 0.987**2)
    from cmnet.predict import predict_folder

    clip_dir = next((tmp_path / "synth" / "CASME2_RAW_selected" / "sub02").iterdir())
    p = predict_folder(tmp_path / "f" / "final.pt", clip_dir)
    assert p["k"] is None and sum(p["probs"].values()) == pytest.approx(1.0, abs=1e-5)
