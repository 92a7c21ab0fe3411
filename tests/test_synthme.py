"""SynthME: deterministic, read by the CASME II reader, ground truth that holds; LOSO
folds; the `cmnet synth` / `cmnet preprocess` commands."""

import hashlib

import numpy as np
import pytest

from cmnet.cli import main
from cmnet.data import loso_folds, read_casme2
from cmnet.data.synthme import CLASSES, SynthConfig, clip_amplitudes, generate, intensity_curve

SMALL = dict(subjects=3, clips_per_subject=5, min_len=9, max_len=30)


def _digest(root):
    h = hashlib.sha1()
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.suffix in (".jpg", ".npz"):
            h.update(p.relative_to(root).as_posix().encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def test_deterministic_from_seed(tmp_path):
    generate(tmp_path / "a", SynthConfig(seed=5, **SMALL), progress=False)
    generate(tmp_path / "b", SynthConfig(seed=5, **SMALL), progress=False)
    generate(tmp_path / "c", SynthConfig(seed=6, **SMALL), progress=False)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


def test_layout_and_ground_truth(tmp_path):
    generate(tmp_path, SynthConfig(seed=1, **SMALL), progress=False)
    clips, report = read_casme2(tmp_path, dataset="synthme")
    assert len(clips) == 15 and not report.rows
    assert {c.label for c in clips} == set(CLASSES)
    assert sorted({c.subject for c in clips}) == ["sub01", "sub02", "sub03"]
    for c in clips:
        folder = c.frames[0].parent
        t = np.load(folder / "truth.npz")
        numbers = t["frame_numbers"]
        inten = dict(zip(numbers.tolist(), t["intensity"].tolist()))
        outside = [inten[n] for n in numbers if n < c.onset or n > c.offset]
        assert outside and max(outside) == 0.0  # frames before onset and after offset exist, at 0
        assert inten[c.onset] == 0 and inten[c.offset] == 0
        assert inten[c.apex] == 1.0 == max(inten.values())
        assert c.intensity[c.apex_index] == 1.0  # the reader carries the truth
        assert 9 <= len(c) <= 30
        assert t["landmarks"].shape == (len(numbers), 68, 2)
        assert 0.4 <= float(t["amplitude_px"]) <= 1.5
        # images really change with the intensity: apex differs from onset more than onset from the frame before it
        assert (folder / f"img{numbers[0]}.jpg").is_file()
    # each clip's amplitude, by the key the readers give it (the truth curve itself peaks at 1 everywhere)
    amps = clip_amplitudes(tmp_path)
    assert sorted(amps) == sorted(c.key for c in clips)
    for c in clips:
        assert amps[c.key] == float(np.load(c.frames[0].parent / "truth.npz")["amplitude_px"])
    assert len(set(amps.values())) == len(clips)
    with pytest.raises(FileNotFoundError, match="no SynthME ground truth"):
        clip_amplitudes(tmp_path / "CASME2_RAW_selected")


def test_intensity_curve_shape():
    c = intensity_curve(20, 3, 8, 15)
    assert c[:3].max() == 0 and c[16:].max() == 0 and c[3] == 0 and c[15] == 0
    assert c[8] == 1 and np.all(np.diff(c[3:9]) > 0) and np.all(np.diff(c[8:16]) < 0)


def test_motion_is_subtle_but_present(tmp_path):
    import cv2

    generate(tmp_path, SynthConfig(seed=2, subjects=1, clips_per_subject=5, min_len=20, max_len=20), progress=False)
    clips, _ = read_casme2(tmp_path, dataset="synthme")
    for c in clips:
        on = cv2.imread(str(c.frames[0])).astype(float)
        ap = cv2.imread(str(c.frames[c.apex_index])).astype(float)
        d = np.abs(on - ap).mean()
        assert 0.3 < d < 12  # changed, a little (grey levels)


def test_bad_config():
    with pytest.raises(ValueError, match="min_len"):
        SynthConfig(min_len=1)
    with pytest.raises(ValueError, match="difficulty"):
        SynthConfig(difficulty=0)


def test_loso_never_puts_a_subject_on_both_sides(tmp_path):
    generate(tmp_path, SynthConfig(seed=1, **SMALL), progress=False)
    clips, _ = read_casme2(tmp_path, dataset="synthme")
    folds = loso_folds(clips)
    assert [f.subject for f in folds] == ["sub01", "sub02", "sub03"]
    tested = []
    for f in folds:
        train_subj = {clips[i].subject for i in f.train}
        test_subj = {clips[i].subject for i in f.test}
        assert test_subj == {f.subject} and f.subject not in train_subj
        assert set(f.train) | set(f.test) == set(range(len(clips))) and not set(f.train) & set(f.test)
        tested += f.test
    assert sorted(tested) == list(range(len(clips)))  # every clip tested exactly once
    with pytest.raises(ValueError, match="at least 2 subjects"):
        loso_folds(["s1", "s1"])


def test_cli_synth_and_preprocess(tmp_path, capsys):
    assert main(["synth", "--out", str(tmp_path / "d"), "--subjects", "2", "--clips-per-subject", "2", "--quiet"]) == 0
    assert main(["preprocess", "--dataset", "synthme", "--root", str(tmp_path / "d"), "--size", "32",
                 "--cache-dir", str(tmp_path / "cache"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "4 clips × 16 frames × 32²" in out and "0 repaired, 0 excluded" in out
    assert main(["preprocess", "--dataset", "casme2", "--root", str(tmp_path / "nothing"), "--quiet"]) == 1
    assert "CASME2_RAW_selected" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["synth", "--help"])


@pytest.mark.parametrize("argv, message", [
    (["synth", "--size", "0"], r"^error: cmnet synth --size: parameter 'synth_size' must be in \[64, 4096\], got 0$"),
    (["synth", "--difficulty", "nan"], r"^error: cmnet synth --difficulty: parameter 'synth_difficulty' must be a "
                                       r"finite number, got nan$"),
    (["synth", "--subjects", "0"], r"^error: cmnet synth --subjects: parameter 'synth_subjects' must be ≥ 1, got 0$"),
    (["preprocess", "--dataset", "synthme", "--frames", "1"],
     r"^error: cmnet preprocess --frames: parameter 'frames' must be in \[2, 1024\], got 1$"),
    (["preprocess", "--dataset", "synthme", "--margin", "-5"],
     r"^error: cmnet preprocess --margin: parameter 'margin' must be in \[0, 3\], got -5.0$"),
    (["preprocess", "--dataset", "synthme", "--size", "0"],
     r"^error: cmnet preprocess --size: parameter 'size' must be in \[32, 4096\], got 0$"),
])
def test_synth_and_preprocess_flags_are_checked_as_configuration_keys(tmp_path, capsys, argv, message):
    """`cmnet synth` and `cmnet preprocess` read their flags through cmnet.config: a value out of
    its key's range is one line naming the flag and the key, and nothing is written."""
    out = ["--out", str(tmp_path / "d")] if argv[0] == "synth" else ["--root", str(tmp_path / "d"),
                                                                     "--cache-dir", str(tmp_path / "c")]
    assert main(argv + out + ["--quiet"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and __import__("re").match(message, err), err
    assert not (tmp_path / "d").exists() and not (tmp_path / "c").exists()


def test_the_detectors_are_the_configurations_choices():
    from cmnet.config import CHOICES
    from cmnet.preprocess.faces import DETECTORS

    assert tuple(DETECTORS) == CHOICES["detector"]


# ------------------------------------------------------------------ the second edition's SynthME

def test_varied_curves_keep_the_truths_rules():
    """0 outside onset–offset and at both ends, 1 at the apex (inside), finite: over many draws,
    every shape (late start, early end, plateau, second peak) included."""
    from cmnet.data.synthme import varied_curve

    rng = np.random.default_rng(0)
    apexes = []
    for _ in range(3000):
        n, pre, post = int(rng.integers(9, 61)), int(rng.integers(2, 6)), int(rng.integers(2, 6))
        c, a = varied_curve(pre + n + post, pre, pre + n - 1, rng)
        assert np.isfinite(c).all() and c.max() == 1 and c[a] == 1 and pre < a < pre + n - 1
        assert (c[: pre + 1] == 0).all() and (c[pre + n - 1:] == 0).all()
        apexes.append((a - pre) / (n - 1))
    assert min(apexes) < 0.1 and max(apexes) > 0.9  # the apex anywhere in the clip


def test_heterogeneous_others_and_class_shares():
    from cmnet.data.synthme import CLASS_AUS, CLASSES, PROPORTIONS, SynthConfig, class_aus, clip_labels

    rng = np.random.default_rng(1)
    sets = {class_aus("others", "varied", rng) for _ in range(300)}
    assert len(sets) > 30  # a catch-all, not one movement
    assert not any(set(CLASS_AUS[c]) <= set(s) for s in sets for c in CLASSES if c != "others")
    assert class_aus("others", "template", rng) == CLASS_AUS["others"] == class_aus("others", "template", rng)
    labels = [x for s in range(300) for x in clip_labels(SynthConfig(clips_per_subject=10, proportions="casme2"), s, rng)]
    share = {c: labels.count(c) / len(labels) for c in CLASSES}
    want = {c: v / sum(PROPORTIONS["casme2"].values()) for c, v in PROPORTIONS["casme2"].items()}
    assert all(abs(share[c] - want[c]) < 0.03 for c in CLASSES), share  # 99 others against 25 surprise of 246
    with pytest.raises(ValueError, match="proportions must be one of balanced, casme2, samm, got 'even'"):
        SynthConfig(proportions="even")


def test_the_fixed_bump_no_longer_follows_every_clip(tmp_path):
    """The first edition's single shape lets a k that reads no image score ρ ≈ 0.95 against the
    truth; on the default SynthME (varied curves) the same control falls to about 0.72."""
    from cmnet.data import read_casme2
    from cmnet.data.synthme import SynthConfig, generate
    from cmnet.statistics.controls import fixed_bump_rho

    rho = {}
    for curves in ("varied", "bump"):
        generate(tmp_path / curves, SynthConfig(subjects=6, clips_per_subject=10, size=64, curves=curves), progress=False)
        clips, _ = read_casme2(tmp_path / curves, dataset="synthme")
        rho[curves] = fixed_bump_rho(clips).rho_bump.mean()
    assert rho["bump"] > 0.9 and rho["varied"] < 0.8, rho


def test_the_first_editions_synthme_keeps_its_folder_and_stamp():
    from cmnet.config import Config
    from cmnet.data.synthme import SynthConfig
    from cmnet.preprocess.prepare import synth_config, synthme_root

    old = Config.from_flat({"synth_curves": "bump", "synth_others": "template", "synth_subjects": 8})
    assert synthme_root(old).name == "synthme-s0-8x10-128px-d1"
    assert set(synth_config(old).stamp()) == {"subjects", "clips_per_subject", "seed", "size", "min_len", "max_len",
                                              "amplitude_px", "difficulty", "jpeg_quality"}
    new = Config.from_flat({"synth_subjects": 8, "synth_proportions": "casme2"})
    assert synthme_root(new).name == "synthme-s0-8x10-128px-d1-curves-varied-others-varied-classes-casme2"
    assert SynthConfig().stamp()["curves"] == "varied"


def test_an_identity_the_face_check_rejects_is_drawn_again(tmp_path):
    """The second edition's SynthME redraws a subject whose neutral face the default detector
    does not find (seed 0's subject 35 at 48 subjects); the first edition's keeps its identities."""
    import cv2

    from cmnet.data.synthface import draw_face, make_identity
    from cmnet.data.synthme import LEGACY, SynthConfig, generate
    from cmnet.preprocess.prepare import synth_face_check

    assert synth_face_check(SynthConfig(**LEGACY)) is None
    check = synth_face_check(SynthConfig())
    ss = np.random.SeedSequence(0).spawn(48)[34]  # as generate draws subject 35
    idt = make_identity(np.random.default_rng(ss.spawn(1)[0]), 128)
    neutral = cv2.resize(draw_face(idt, 128)[0], (128, 128), interpolation=cv2.INTER_AREA)
    assert not check(np.clip(neutral, 0, 255).round().astype(np.uint8))
    calls = []

    def reject_first(frame):
        calls.append(frame.shape)
        return len(calls) > 1

    cfg = SynthConfig(subjects=1, clips_per_subject=1, size=64)
    generate(tmp_path / "a", cfg, progress=False)
    generate(tmp_path / "b", cfg, progress=False, accept_face=reject_first)
    a = sorted((tmp_path / "a" / "CASME2_RAW_selected").rglob("*.jpg"))
    b = sorted((tmp_path / "b" / "CASME2_RAW_selected").rglob("*.jpg"))
    assert calls == [(64, 64, 3), (64, 64, 3)] and a[0].read_bytes() != b[0].read_bytes()  # another face
