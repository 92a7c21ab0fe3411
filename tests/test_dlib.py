"""detector: dlib — dlib's HOG (and CNN) face detector with its 68-point shape predictor, the
model files from the pinned face-recognition-models package: offline."""

from __future__ import annotations

import logging
import shutil

import cv2
import numpy as np
import pytest
from skimage import data

from cmnet.config import Config, ConfigError
from cmnet.preprocess import faces
from cmnet.preprocess.clip import crop_box
from cmnet.preprocess.faces import NoFaceError, crop, eye_angle, make_detector, square_box


@pytest.fixture(scope="module")
def dlib_detector():
    return make_detector("dlib")


@pytest.fixture(scope="module")
def astronaut():
    return np.ascontiguousarray(data.astronaut()[:, :, ::-1])  # BGR, as OpenCV reads frames


def iou(a, b):
    x0, y0, x1, y1 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    inter = max(0, x1 - x0) * max(0, y1 - y0)
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def turned(img, deg):
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), deg, 1.0)
    return cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_REPLICATE)


def test_dlib_finds_the_astronauts_face_where_haar_does(dlib_detector, astronaut):
    face = dlib_detector(astronaut)
    haar = make_detector("haar")(astronaut)
    lm = face.landmarks
    assert lm.shape == (68, 2) and face.faces == 1 and dlib_detector.found_by == "hog"
    # the box is the landmarks' extent, and it lies on Haar's face (an independent detector)
    assert face.box == (lm[:, 0].min(), lm[:, 1].min(), lm[:, 0].max(), lm[:, 1].max())
    assert iou(face.box, haar.box) > 0.4
    # iBUG order: eye corners left to right, brows above eyes above nose tip above mouth above chin
    assert lm[36, 0] < lm[39, 0] < lm[42, 0] < lm[45, 0] and lm[48, 0] < lm[54, 0]
    assert lm[17:27, 1].mean() < lm[36:48, 1].mean() < lm[33, 1] < lm[48:68, 1].mean() < lm[8, 1]


def test_the_crop_follows_the_landmark_rule(dlib_detector, astronaut):
    """The same square-box rule as face_alignment's: the landmarks' extent, 15 % more above for
    the forehead, the longer side widened by the margin, centred."""
    face = dlib_detector(astronaut)
    lm = face.landmarks
    x0, x1 = lm[:, 0].min(), lm[:, 0].max()
    y1 = lm[:, 1].max()
    y0 = lm[:, 1].min() - 0.15 * (y1 - lm[:, 1].min())
    side = max(x1 - x0, y1 - y0) * 1.2
    want = (round((x0 + x1) / 2 - side / 2), round((y0 + y1) / 2 - side / 2), round(side))
    assert square_box(face, 0.2) == want


def test_levelling_the_eye_line(dlib_detector, astronaut):
    """A face turned by 15°: without level_eyes the crop keeps the tilt, with it the eye line
    found again in the crop is level (within 1.5°); an upright face's crop is barely turned."""
    upright = eye_angle(dlib_detector(astronaut).landmarks)
    tilted = turned(astronaut, -15)  # clockwise on screen: the eye on the image's right goes down
    face = dlib_detector(tilted)
    assert eye_angle(face.landmarks) == pytest.approx(upright + 15, abs=3)
    plain, level = square_box(face, 0.15), square_box(face, 0.15, level=True)
    assert len(plain) == 3 and len(level) == 4 and level[3] == round(eye_angle(face.landmarks) * 100)
    assert abs(eye_angle(dlib_detector(crop(tilted, plain, 224)).landmarks)) > 10
    assert abs(eye_angle(dlib_detector(crop(tilted, level, 224)).landmarks)) < 1.5
    # the levelled box is the plain rule applied to the turned landmarks: the same side
    assert abs(level[2] - square_box(dlib_detector(crop(tilted, level, level[2])), 0.15)[2]) <= 0.1 * level[2]
    with pytest.raises(ValueError, match="level_eyes needs landmarks"):
        square_box(make_detector("haar")(astronaut), 0.15, level=True)


def test_grey_and_16_bit_frames(dlib_detector, astronaut):
    box = np.array(dlib_detector(astronaut).box)
    grey = cv2.cvtColor(astronaut, cv2.COLOR_BGR2GRAY)
    deep = astronaut.astype(np.uint16) * 16  # a 12-bit camera's values in a 16-bit frame
    for img in (grey, grey[:, :, None], deep, cv2.cvtColor(astronaut, cv2.COLOR_BGR2BGRA)):
        assert np.abs(np.array(dlib_detector(img).box) - box).max() <= 3
        assert make_detector("haar")(img) is not None
    with pytest.raises(ValueError, match=r"shape \(4, 4, 2\)"):
        dlib_detector(np.zeros((4, 4, 2), np.uint8))


def test_two_faces_the_largest_said(dlib_detector, astronaut, tmp_path, caplog):
    small = cv2.resize(astronaut, (256, 256), interpolation=cv2.INTER_AREA)
    frame = np.concatenate([astronaut, np.pad(small, ((0, 256), (0, 0), (0, 0)), mode="edge")], 1)
    face = dlib_detector(frame)
    assert face.faces == 2
    assert np.abs(np.array(face.box) - np.array(dlib_detector(astronaut).box)).max() <= 3  # the larger one
    cv2.imwrite(str(tmp_path / "img1.png"), frame)
    with caplog.at_level(logging.WARNING, "cmnet.preprocess"):
        box = crop_box([tmp_path / "img1.png"], [0], dlib_detector, 0.15, "sub01/EP01_01")
    assert box == square_box(face, 0.15)
    assert "sub01/EP01_01: 2 faces in img1.png (detector dlib); the largest is cropped" in caplog.text


def test_no_face_names_the_clip_and_frames(dlib_detector, tmp_path):
    for i in (1, 2):
        cv2.imwrite(str(tmp_path / f"img{i}.jpg"), np.full((120, 160, 3), 128, np.uint8))
    assert dlib_detector(np.full((120, 160, 3), 128, np.uint8)) is None and dlib_detector.found_by is None
    with pytest.raises(NoFaceError, match=r"^sub02/EP01_03: no face found \(detector dlib, tried img1.jpg, img2.jpg\)$"):
        crop_box([tmp_path / "img1.jpg", tmp_path / "img2.jpg"], [0, 1], dlib_detector, 0.15, "sub02/EP01_03")


def test_the_cnn_detector_finds_what_hog_misses(astronaut, monkeypatch):
    det = make_detector("dlib")
    small = cv2.resize(astronaut, (384, 384), interpolation=cv2.INTER_AREA)  # the CNN's least cost that finds it
    hog = det(small)
    monkeypatch.setattr(det, "hog", lambda img, upsample: [])
    cnn = det(small)
    assert det.found_by == "cnn" and cnn.landmarks.shape == (68, 2)
    assert iou(cnn.box, hog.box) > 0.8  # the shape predictor lands on the same face
    # a larger frame is searched scaled down to CNN_SIDE, the face mapped back to its pixels
    monkeypatch.setattr(det, "CNN_SIDE", 384)
    big = cv2.resize(small, (768, 768), interpolation=cv2.INTER_CUBIC)
    face = det(big)
    assert det.found_by == "cnn" and iou(face.box, tuple(2 * v for v in hog.box)) > 0.8


def test_a_corrupt_or_missing_model_file_is_one_line(tmp_path, monkeypatch):
    real = faces.dlib_model(faces.SHAPE_PREDICTOR)
    bad = tmp_path / "models" / faces.SHAPE_PREDICTOR
    bad.parent.mkdir()
    with open(real, "rb") as f:
        bad.write_bytes(f.read(4096))  # truncated
    shutil.copy(faces.dlib_model(faces.CNN_DETECTOR), bad.parent)
    monkeypatch.setattr(faces, "dlib_model", lambda name: tmp_path / "models" / name)
    with pytest.raises(RuntimeError) as e:
        make_detector("dlib")
    msg = str(e.value)
    assert "\n" not in msg and str(bad) in msg and "corrupt or truncated" in msg
    assert "pip install --force-reinstall face-recognition-models==0.3.0" in msg
    bad.unlink()
    with pytest.raises(FileNotFoundError, match=rf"^dlib model file {bad} is missing; reinstall .*face-recognition"):
        make_detector("dlib")


def test_without_the_packages_is_one_line(monkeypatch, small_synthme, tmp_path, capsys):
    import importlib.util
    import sys

    from cmnet.cli import main

    with monkeypatch.context() as m:
        m.setitem(sys.modules, "dlib", None)  # `import dlib` fails
        with pytest.raises(RuntimeError, match=r"^detector 'dlib' needs dlib, which is not installed: pip install "
                                               r"dlib-bin==20\.0\.1\.post1$"):
            make_detector("dlib")
        assert main(["preprocess", "--dataset", "synthme", "--root", str(small_synthme), "--detector", "dlib",
                     "--cache-dir", str(tmp_path), "--quiet"]) == 1
        err = capsys.readouterr().err
        assert err == "error: detector 'dlib' needs dlib, which is not installed: pip install dlib-bin==20.0.1.post1\n"
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError, match=r"not installed: pip install face-recognition-models==0\.3\.0$"):
        faces.dlib_model(faces.SHAPE_PREDICTOR)


def test_level_eyes_is_a_key_and_needs_a_landmark_detector():
    cfg = Config.from_flat({"detector": "dlib", "level_eyes": True}, "test").validate("test")
    assert cfg.preprocess.level_eyes and cfg.preprocess.detector == "dlib"
    with pytest.raises(ConfigError, match="'level_eyes' needs a landmark detector .* not detector 'haar'"):
        Config.from_flat({"level_eyes": True}, "test").validate("test")


def test_an_existing_cache_keeps_its_name(tmp_path):
    """level_eyes off (its default) leaves the cache's name and recorded settings as before the key
    existed, so caches built before stay valid; on, it names another cache."""
    import hashlib
    import json
    from dataclasses import asdict

    from cmnet.config import PreprocessSettings
    from cmnet.preprocess.cache import cache_path, settings_record

    s = PreprocessSettings()
    before = {k: v for k, v in asdict(s).items() if k != "level_eyes"}
    key = hashlib.sha1(json.dumps(["synthme", "r", before], sort_keys=True).encode()).hexdigest()[:12]
    assert settings_record(s) == before and cache_path(tmp_path, "synthme", s, "r").name == f"synthme-{key}.npy"
    s.level_eyes = True
    assert settings_record(s)["level_eyes"] is True and cache_path(tmp_path, "synthme", s, "r").name != f"synthme-{key}.npy"


# ------------------------------------------------------------------ landmark error against SynthME

from cmnet.preprocess.landmarks import (apply_mapping, fit_mapping, group_nme, interocular,  # noqa: E402
                                        landmark_report, point_errors)

# measured on this SynthME (seed 0, 2 subjects × 2 clips, 128², every 4th frame: fitted on sub01,
# measured on sub02's 24 frames), normalised by the outer eye corners' distance; a test fails
# when an error grows past these by more than 10 %
MEASURED_RAW = {"jaw": 0.2208, "brows": 0.0510, "nose": 0.0501, "eyes": 0.0231, "mouth": 0.0452}
MEASURED_MAPPED = {"jaw": 0.0416, "brows": 0.0144, "nose": 0.0276, "eyes": 0.0177, "mouth": 0.0200}


def _face(rng):
    pts = rng.uniform(0, 100, (68, 2))
    pts[36], pts[45] = (30.0, 40.0), (70.0, 40.0)  # inter-ocular distance 40
    return pts


def test_normalised_mean_error_by_hand():
    rng = np.random.default_rng(0)
    truth = np.stack([_face(rng), _face(rng) * 0.5])  # inter-ocular 40 and 20
    assert interocular(truth).tolist() == [40.0, 20.0]
    pred = truth.copy()
    pred[0, 0:17] += (12.0, 16.0)  # jaw of face 0 off by 20 px = 0.5 inter-ocular
    pred[1, 48] += (0.0, 3.0)  # one mouth point of face 1 off by 3 px = 0.15
    e = point_errors(pred, truth)
    assert e[0, :17] == pytest.approx(0.5) and e[1, 48] == pytest.approx(0.15) and e.sum() == pytest.approx(8.65)
    nme = group_nme(e)
    assert nme["jaw"] == pytest.approx(0.25) and nme["mouth"] == pytest.approx(0.15 / 40)
    assert nme["brows"] == nme["nose"] == nme["eyes"] == 0 and nme["all"] == pytest.approx(8.65 / 136)
    with pytest.raises(ValueError, match=r"\(F, 68, 2\)"):
        point_errors(pred[:, :60], truth[:, :60])


def test_the_convention_mapping_is_found_in_each_faces_own_frame():
    """Offsets given in the face's frame (eye line, inter-ocular units) on faces turned and scaled
    differently are recovered, and moving the truth by them gives the prediction back."""
    rng = np.random.default_rng(1)
    offsets = rng.normal(0, 0.1, (68, 2))
    truth, pred = [], []
    for deg, scale in ((0, 1.0), (20, 0.5), (-35, 2.0)):
        t = np.radians(deg)
        rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
        f = (_face(rng) - 50) @ rot.T * scale + 200
        ex = f[45] - f[36]
        ey = np.array([-ex[1], ex[0]])
        truth.append(f)
        pred.append(f + offsets[:, :1] * ex + offsets[:, 1:] * ey)
    truth, pred = np.array(truth), np.array(pred)
    assert fit_mapping(pred, truth) == pytest.approx(offsets)
    assert apply_mapping(truth, offsets) == pytest.approx(pred)


@pytest.fixture(scope="module")
def small_synthme(tmp_path_factory):
    from cmnet.data.synthme import SynthConfig, generate

    root = tmp_path_factory.mktemp("synthme")
    generate(root, SynthConfig(subjects=2, clips_per_subject=2, size=128, seed=0), progress=False)
    return root


def test_dlib_landmark_error_on_synthme(small_synthme, dlib_detector):
    r = landmark_report(small_synthme, dlib_detector, every=4)
    assert r["missed"] == [] and (r["fitted"], r["measured"]) == (29, 24)
    for g in MEASURED_RAW:
        assert r["raw"][g] <= MEASURED_RAW[g] * 1.1, (g, r["raw"])
        assert r["mapped"][g] <= MEASURED_MAPPED[g] * 1.1, (g, r["mapped"])
    # the jaw is where SynthME's convention differs from iBUG's (it starts below the ears): dlib's
    # jaw ends lie above SynthME's by more than a fifth of the inter-ocular distance
    assert r["mapping"][0, 1] < -0.2 and r["mapping"][16, 1] < -0.2
    # after the mapping every point lies near its own: the stored points are in iBUG's order
    from cmnet.preprocess.landmarks import synthme_landmarks

    pred, truth, subjects, _ = synthme_landmarks(small_synthme, dlib_detector, every=4)
    held = subjects == "sub02"
    assert point_errors(pred[held], apply_mapping(truth[held], r["mapping"])).mean(0).max() < 0.1
    with pytest.raises(FileNotFoundError, match="no SynthME ground truth"):
        landmark_report(small_synthme / "CASME2_RAW_selected", dlib_detector)


# ------------------------------------------------------------------ cmnet preprocess --detector dlib

def _paint_faces(root):
    """Every decodable frame of a layout fixture (flat grey squares) replaced by a SynthME subject's
    neutral face at 128², its brightness shifted as the fixture's frame was (an apex the readers
    estimate stays the brightest frame); corrupt files stay corrupt."""
    from cmnet.data.synthface import draw_face, make_identity

    base, _ = draw_face(make_identity(np.random.default_rng(3), 128), 128)
    face = cv2.resize(base, (128, 128), interpolation=cv2.INTER_AREA)
    n = 0
    for p in sorted(root.rglob("*")):
        if p.suffix not in (".jpg", ".bmp"):
            continue
        img = cv2.imread(str(p))
        if img is None:
            continue
        shifted = np.clip(face + (float(img.mean()) - 100) * 0.5, 0, 255).astype(np.uint8)
        cv2.imwrite(str(p), shifted)
        n += 1
    return n


@pytest.mark.parametrize("dataset", ["casme2", "samm", "smic_hs"])
def test_cli_preprocess_with_dlib_on_the_layout_fixtures(dataset, tmp_path, capsys):
    from _fixtures import casme2, samm, smic

    from cmnet.cli import main
    from cmnet.data import read_dataset

    root = tmp_path / dataset
    root.mkdir()
    {"casme2": casme2, "samm": samm, "smic_hs": smic}[dataset](root)
    assert _paint_faces(root) > 0
    readable, _ = read_dataset(dataset, root)
    assert main(["preprocess", "--dataset", dataset, "--root", str(root), "--detector", "dlib", "--size", "32",
                 "--cache-dir", str(tmp_path / "cache"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert f": {len(readable)} clips × 16 frames × 32²" in out and "FAILED" not in out, out


def test_cli_preprocess_with_dlib_on_synthme(small_synthme, tmp_path, capsys):
    from cmnet.cli import main
    from cmnet.preprocess import load_cache

    for extra in ([], ["--level-eyes"]):
        assert main(["preprocess", "--dataset", "synthme", "--root", str(small_synthme), "--detector", "dlib",
                     "--size", "32", "--cache-dir", str(tmp_path / "cache"), "--quiet", *extra]) == 0
        out = capsys.readouterr().out
        assert "4 clips × 16 frames × 32²" in out and "FAILED" not in out, out
    caches = {p: load_cache(p).boxes.shape for p in sorted((tmp_path / "cache").glob("synthme-*[0-9a-f].npy"))}
    assert sorted(caches.values()) == [(4, 3), (4, 4)]  # level_eyes: a cache of its own, the turn recorded
    assert main(["preprocess", "--dataset", "synthme", "--root", str(small_synthme), "--level-eyes", "--quiet"]) == 1
    assert "'level_eyes' needs a landmark detector" in capsys.readouterr().err


# ------------------------------------------------------------------ chapter 2's figure: Haar against dlib

def test_detector_crops_are_the_caches_crops(small_synthme, tmp_path):
    """The crops returned for the figure are those the cache makes: the same box per clip (the
    cache's record, computed by preprocess on its own) and that box's crop of the apex frame."""
    from cmnet.config import PreprocessSettings
    from cmnet.data import read_casme2
    from cmnet.preprocess import preprocess
    from cmnet.report.crops import detector_crops

    clips, _ = read_casme2(small_synthme, dataset="synthme")
    d = detector_crops(clips, margin=0.2, size=48, n=3)
    assert d["titles"] == [f"{c.subject}/{c.clip_id}" for c in clips[:3]]
    assert d["missing"] == {"haar": [], "dlib": []}
    for name in ("haar", "dlib"):
        cache = preprocess(clips[:3], PreprocessSettings(size=48, frames=4, margin=0.2, detector=name),
                           tmp_path / name, progress=False)
        assert [tuple(b) for b in cache.boxes.tolist()] == d["boxes"][name]
        assert d["crops"][name].shape == (3, 48, 48, 3) and d["crops"][name].dtype == np.uint8
        c, (x0, y0, side) = clips[1], d["boxes"][name][1]
        img = cv2.imread(str(c.frames[c.apex_index]))
        ref = cv2.resize(img[max(y0, 0):y0 + side, max(x0, 0):x0 + side], (48, 48), interpolation=cv2.INTER_AREA)
        assert x0 >= 0 and y0 >= 0 and y0 + side <= img.shape[0] and x0 + side <= img.shape[1]  # no padding here
        assert np.array_equal(d["crops"][name][1], ref[:, :, ::-1])
    assert d["boxes"]["haar"] != d["boxes"]["dlib"]  # two detectors, two crops
    levelled = detector_crops(clips, n=1, level_eyes=True)["boxes"]
    assert len(levelled["haar"][0]) == 3 and len(levelled["dlib"][0]) == 4


def test_detector_crops_name_the_clips_without_a_face(tmp_path):
    from _fixtures import samm

    from cmnet.data import read_dataset
    from cmnet.report.crops import detector_crops

    samm(tmp_path)  # flat grey frames: no face
    clips, _ = read_dataset("samm", tmp_path)
    d = detector_crops(clips, n=2, size=16, frame="onset")
    assert d["missing"]["dlib"] == [c.key for c in clips[:2]] and d["boxes"]["dlib"] == [None, None]
    assert (d["crops"]["dlib"] == 128).all()
    with pytest.raises(ValueError, match="frame must be 'onset' or 'apex'"):
        detector_crops(clips, frame="offset")


# ------------------------------------------------------------------ the Haar-vs-dlib study

def test_the_dlib_profile_is_the_cpu_design_with_dlib_and_one_seed():
    from cmnet.variants import variant_config

    cpu, dl = variant_config("cpu", "baseline").to_flat(), variant_config("cpu_dlib", "baseline").to_flat()
    assert dl["detector"] == "dlib" and dl["seeds"] == [0] and cpu["detector"] == "haar" and cpu["seeds"][0] == 0
    assert {k for k in cpu if cpu[k] != dl[k]} == {"name", "detector", "seeds"}


def test_detector_delta_pairs_the_clips_of_seed_0():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
    import pandas as pd
    from detector_study import detector_delta

    classes = ["a", "b"]
    rows = [{"seed": s, "key": f"sub{j}/c{i}", "subject": f"sub{j}", "label": "a", "pred": "a"}
            for s in (0, 1) for j in range(6) for i in range(4)]
    haar = pd.DataFrame(rows)
    dlib = haar.copy()
    dlib.loc[(dlib.seed == 0) & (dlib.key.str.endswith("/c0")), "pred"] = "b"  # one clip in four wrong on seed 0
    dlib = dlib[dlib.key != "sub5/c3"]  # a clip dlib found no face in
    t = detector_delta(dlib, haar, classes).set_index("metric")
    assert t.loc["accuracy", "delta"] == pytest.approx(-6 / 23)  # pooled over the 23 clips both tested
    assert t.loc["accuracy", "clips"] == 23 and t.loc["accuracy", "only_one"] == 1
    assert t.loc["accuracy", "verdict"].startswith("dlib lower")
    same = detector_delta(haar, haar, classes).set_index("metric")
    assert same.loc["accuracy", "delta"] == 0 and same.loc["accuracy", "verdict"].startswith("not distinguishable")


def test_chapter_twos_detector_sentence_reads_the_record(tmp_path):
    """The record the study writes, read back into chapter 2's sentence: Δ and interval as the
    table has them (points, signed, unit once), the verdict by p, the clips kept by one detector;
    no record or another profile's says so."""
    import json

    import pandas as pd

    from cmnet.report.crops import detector_study_record, detector_study_sentence
    from cmnet.variants import variant_config

    cfg = variant_config("cpu", "baseline")
    t = pd.DataFrame([{"metric": "accuracy", "delta": -0.0312, "ci_low": -0.081, "ci_high": 0.0186, "p": 0.21,
                       "mde": 0.072, "subjects": 48, "clips": 479, "only_one": 1, "verdict": "x"},
                      {"metric": "uf1", "delta": 0.2, "ci_low": 0.1, "ci_high": 0.3, "p": 0.001, "mde": 0.07,
                       "subjects": 48, "clips": 479, "only_one": 1, "verdict": "y"}])
    f = tmp_path / "d.json"
    f.write_text(json.dumps(detector_study_record(t, {"haar": 0.5, "dlib": 0.4688}, cfg, 0)))
    s = detector_study_sentence(f)
    assert "Haar 50.0 %, dlib 46.9 %" in s and "dlib − Haar = −3.1 [−8.1, +1.9] pp on the 479 clips" in s
    assert "1 clip kept by one detector only" in s and "could have detected is 7.2 pp" in s
    assert f"{cfg.data.synth_subjects} subjects in {cfg.study.kfold_k} folds" in s
    t.loc[0, "p"] = 0.01
    f.write_text(json.dumps(detector_study_record(t, {"haar": 0.5, "dlib": 0.4688}, cfg, 0)))
    assert "a test that resamples subjects finds a difference (p = 0.010)" in detector_study_sentence(f)
    assert "within what a retraining alone gives, and the detector's part in it cannot be told apart" \
        in detector_study_sentence(f, seeds=[0.70, 0.74])  # 4 pp > 3.1
    assert "moves by 2.0 pp here, so this difference is larger than" in detector_study_sentence(f, seeds=[0.7, 0.72])
    assert "retraining" not in detector_study_sentence(f, seeds=[0.7])
    from cmnet.report.crops import seed_accuracies

    (tmp_path / "cpu-baseline").mkdir()
    (tmp_path / "cpu-baseline" / "summary.json").write_text(json.dumps(
        {"seeds": [{"seed": 0, "pooled_accuracy": 0.68}, {"seed": 1, "pooled_accuracy": 0.72}]}))
    assert seed_accuracies(tmp_path) == [0.68, 0.72] and seed_accuracies(tmp_path / "none") == []
    assert "has not been run" in detector_study_sentence(tmp_path / "none.json")
    assert "not this chapter's `smoke`" in detector_study_sentence(f, profile="smoke")


def test_a_fold_recorded_before_level_eyes_existed_is_unchanged():
    from cmnet.runs.fingerprint import _fingerprinted, fingerprint_changes

    now = {"config": _fingerprinted(Config().to_flat())}
    old = {"config": {k: v for k, v in now["config"].items() if k != "level_eyes"}}
    assert "level_eyes" in now["config"] and fingerprint_changes(old, now) == []
    on = {"config": _fingerprinted(Config.from_flat({"detector": "dlib", "level_eyes": True}).to_flat())}
    assert fingerprint_changes(old, on) == ["detector: 'haar' → 'dlib'", "level_eyes: False → True"]
