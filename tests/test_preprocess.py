"""Temporal normalisation, the Haar path, crops and the clip cache."""

import json
import os

import cv2
import numpy as np
import pytest

from cmnet.data import read_casme2
from cmnet.config import PreprocessSettings
from cmnet.preprocess import make_detector, normalize_length, preprocess
from cmnet.preprocess.faces import Face, crop, square_box
from cmnet.preprocess.temporal import interpolate, needed_indices, positions


@pytest.mark.parametrize("length", [2, 3, 5, 9, 15, 16, 17, 31, 60, 100, 200])
def test_any_length_becomes_16_and_apex_follows(length):
    frames = np.stack([np.full((8, 8, 3), i % 256, np.uint8) for i in range(length)])
    for apex in sorted({0, length // 3, length - 1}):
        out, new_apex, pos = normalize_length(frames, apex, 16, "linear")
        assert out.shape == (16, 8, 8, 3)
        assert abs(pos[new_apex] - apex) == np.abs(pos - apex).min()  # the nearest position
        assert pos[0] == 0 and pos[-1] == length - 1  # onset and offset kept
    if length >= 16:  # regular-interval sampling: real frames, ascending, no repeats
        assert np.all(np.diff(pos) >= 1) and np.all(pos == np.round(pos))
        np.testing.assert_array_equal(out[:, 0, 0, 0], pos.astype(int) % 256)


def test_interpolated_frames_lie_between_their_neighbours():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    b = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    out, _, pos = normalize_length([a, b], 0, 16, "linear")
    lo, hi = np.minimum(a, b).astype(int), np.maximum(a, b).astype(int)
    for f, t in zip(out, pos):
        assert np.all(f >= lo - 1) and np.all(f <= hi + 1)
    # halfway is the mean, to rounding
    mid = interpolate(a, b, 0.5, "linear").astype(int)
    assert np.abs(mid - (a.astype(int) + b) / 2).max() <= 1


def _square(x):
    img = np.zeros((48, 48, 3), np.uint8)
    img[16:28, x : x + 12] = 255
    return cv2.GaussianBlur(img, (5, 5), 1.5)


def test_flow_interpolation_moves_content_between_neighbours():
    a, b = _square(10), _square(20)  # a bright square moving right by 10 px
    mid = interpolate(a, b, 0.5, "flow")
    cols = mid[..., 0].astype(float).sum(0)
    centre = (cols * np.arange(48)).sum() / cols.sum()
    assert 12 < centre < 30  # between the two positions (15.5 and 25.5 plus blur)
    assert abs(centre - 20.5) < 2.5  # near halfway: moved, not cross-faded in place
    # linear blending instead leaves two half-bright squares
    lin = interpolate(a, b, 0.5, "linear")[..., 0]
    assert lin[22, 14] < 200 and mid[22, 20, 0] > 150


def test_needed_indices_decodes_only_what_is_used():
    assert needed_indices(200, 16) == sorted(set(np.round(np.linspace(0, 199, 16)).astype(int)))
    assert needed_indices(5, 16) == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="too short"):
        positions(1, 16)


def test_haar_finds_the_astronauts_face():
    from skimage import data

    img = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    face = make_detector("haar")(img)
    assert face is not None
    x0, y0, x1, y1 = face.box
    # her face lies around x 170-250, y 60-160 in the 512² image
    assert 150 < (x0 + x1) / 2 < 260 and 60 < (y0 + y1) / 2 < 160
    assert 50 < x1 - x0 < 160
    assert make_detector("haar")(np.full((200, 200, 3), 128, np.uint8)) is None


def test_crop_is_square_and_pads_at_the_border():
    img = np.arange(100 * 100 * 3, dtype=np.uint8).reshape(100, 100, 3)
    box = square_box(Face((80.0, 80.0, 110.0, 100.0)), 0.0)
    assert box[2] == 30
    out = crop(img, box, 32)
    assert out.shape == (32, 32, 3)
    lm = np.array([[10, 20], [50, 20], [30, 60]], float)
    x0, y0, side = square_box(Face((10, 20, 50, 60), lm), 0.0)
    assert y0 < 20  # landmarks: extended upwards for the forehead


def test_face_alignment_without_weights_is_a_clear_error(tmp_path, monkeypatch):
    import torch

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    with pytest.raises(FileNotFoundError, match="face-alignment's weights"):
        make_detector("face_alignment")


def test_cache_build_reuse_rebuild_and_failures(tmp_path, monkeypatch, caplog):
    from cmnet.data.synthme import SynthConfig, generate
    import cmnet.preprocess.cache as cache_mod

    generate(tmp_path / "d", SynthConfig(subjects=2, clips_per_subject=2, seed=3, min_len=5, max_len=24), progress=False)
    clips, _ = read_casme2(tmp_path / "d", dataset="synthme")
    # one clip whose faces are blanked: reported by name, the others kept
    bad = clips[1]
    for p in bad.frames:
        cv2.imwrite(str(p), np.full((128, 128, 3), 127, np.uint8))
    settings = PreprocessSettings(size=48)
    c1 = preprocess(clips, settings, tmp_path / "cache", progress=False)
    assert len(c1) == 3 and c1.frames.shape == (3, 16, 48, 48, 3) and c1.frames.dtype == np.uint8
    assert [f["clip"] for f in c1.failures] == [bad.key] and "no face found" in c1.failures[0]["reason"]
    line = next(r.getMessage() for r in caplog.records if "failed preprocessing" in r.getMessage())
    assert line.count(bad.key) == 1, line  # the clip named once, not "key: key: no face found"
    manifest = json.loads(c1.path.with_suffix(".json").read_text())
    assert manifest["failures"] and manifest["settings"]["size"] == 48 and "opencv" in manifest["versions"]
    good = [c for c in clips if c is not bad]
    np.testing.assert_array_equal(c1.apex, [normalize_length(np.zeros((len(c), 1, 1, 3), np.uint8), c.apex_index)[1] for c in good])
    assert np.all(np.nanmax(c1.intensity, 1) > 0.8)  # ground truth carried over
    # unchanged: reused, nothing recomputed
    monkeypatch.setattr(cache_mod, "preprocess_clip", lambda *a: (_ for _ in ()).throw(AssertionError("recomputed")))
    c2 = preprocess(clips, settings, tmp_path / "cache", progress=False)
    np.testing.assert_array_equal(c2.frames, c1.frames)
    for k in ("apex", "labels", "subjects", "keys", "intensity", "boxes"):
        np.testing.assert_array_equal(getattr(c2, k), getattr(c1, k))
    assert c2.failures == c1.failures
    # a source frame changed: rebuilt
    p = clips[0].frames[0]
    os.utime(p, ns=(p.stat().st_atime_ns, p.stat().st_mtime_ns + 10**9))
    with pytest.raises(AssertionError, match="recomputed"):
        preprocess(clips, settings, tmp_path / "cache", progress=False)
    monkeypatch.undo()
    # other settings: another file
    c3 = preprocess(clips, PreprocessSettings(size=40), tmp_path / "cache", progress=False)
    assert c3.path != c1.path and c3.frames.shape[2] == 40
    # on_error="raise" names the clip
    with pytest.raises(Exception, match=bad.key):
        preprocess(clips, PreprocessSettings(size=36), tmp_path / "cache", progress=False, on_error="raise")


def test_unreadable_frame_is_reported_by_file(tmp_path):
    from cmnet.data.synthme import SynthConfig, generate

    generate(tmp_path / "d", SynthConfig(subjects=1, clips_per_subject=2, seed=4, min_len=20, max_len=20), progress=False)
    clips, _ = read_casme2(tmp_path / "d", dataset="synthme")
    victim = clips[0].frames[0]
    victim.write_bytes(b"\xff\xd8\xff garbage \xff\xd9")  # passes the header check, fails to decode
    cache = preprocess(clips, PreprocessSettings(size=32), tmp_path / "cache", progress=False)
    assert len(cache) == 1 and victim.name in cache.failures[0]["reason"]


def _blob(cx, cy, grey=False):
    img = np.zeros((64, 64, 3), np.uint8)
    cv2.circle(img, (int(cx), int(cy)), 7, (255, 255, 255), -1)
    img = cv2.GaussianBlur(img, (7, 7), 2.0)
    return img[..., 0].copy() if grey else img


def _centroid(img):
    g = (img if img.ndim == 2 else img[..., 0]).astype(float)
    ys, xs = np.mgrid[: g.shape[0], : g.shape[1]]
    return (g * xs).sum() / g.sum(), (g * ys).sum() / g.sum()


@pytest.mark.parametrize("grey", [False, True])
@pytest.mark.parametrize("w", [0.25, 0.75])
def test_flow_interpolation_follows_a_diagonal_motion(w, grey):
    """A blob moving 6 px right and 4 px down: the flow-interpolated frame at fraction w
    has its centroid at (1 − w)·start + w·end (both axes, either side of halfway), keeps
    the blob's full brightness (not a cross-fade), and grey frames work as RGB ones."""
    a, b = _blob(26, 28, grey), _blob(32, 32, grey)
    out = interpolate(a, b, w)  # flow is the default method
    assert out.shape == a.shape and out.dtype == np.uint8
    cx, cy = _centroid(out)
    assert cx == pytest.approx(26 + 6 * w, abs=0.6) and cy == pytest.approx(28 + 4 * w, abs=0.6)
    assert out.max() >= 0.9 * a.max()
    np.testing.assert_array_equal(interpolate(a, b, w, "flow"), out)


def test_flow_interpolation_keeps_brightness_and_follows_a_horizontal_motion():
    """A blob moving 8 px right: the centroid at w follows it along x (the flow's x part, not
    its y part, moves x) and the blend of the two warps keeps the frame's total brightness."""
    a, b = _blob(24, 32), _blob(32, 32)
    for w in (0.25, 0.5, 0.75):
        out = interpolate(a, b, w)
        cx, cy = _centroid(out)
        assert cx == pytest.approx(24 + 8 * w, abs=0.6) and cy == pytest.approx(32, abs=0.3)
        assert float(out.astype(float).mean()) == pytest.approx(float(a.astype(float).mean()), abs=0.3)


def test_short_clips_blend_the_right_neighbours():
    """Three constant frames 0, 100, 200 stretched to 5 (linear): positions 0, 0.5, 1, 1.5, 2
    give 0, 50, 100, 150, 200; the positions of a short clip stay fractional."""
    frames = [np.full((4, 4, 3), v, np.uint8) for v in (0, 100, 200)]
    out, apex, pos = normalize_length(frames, 1, 5, "linear")
    np.testing.assert_array_equal(pos, [0, 0.5, 1, 1.5, 2])
    assert [int(f[0, 0, 0]) for f in out] == [0, 50, 100, 150, 200] and apex == 2
    assert not np.all(positions(5, 16) == np.round(positions(5, 16)))
    with pytest.raises(ValueError, match=r"^apex index 3 outside the clip's 3 frames$"):
        normalize_length(frames, 3, 5, "linear")
    with pytest.raises(ValueError, match=r"^unknown interpolation 'cubic'; choose 'flow' or 'linear'$"):
        interpolate(frames[0], frames[1], 0.5, "cubic")
    np.testing.assert_array_equal(interpolate(frames[0], frames[1], 1.5, "linear"), frames[1])  # w ≥ 1: b
