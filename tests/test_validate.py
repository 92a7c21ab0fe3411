"""cmnet.data.validate and cmnet.data.splits on hand-made folders: every exclusion and
repair of one annotation row, reported by sheet row and clip with its exact reason; the
frame-number parser, the image checks, the annotation sheet's errors; LOSO folds."""

import cv2
import numpy as np
import pandas as pd
import pytest

from cmnet.data import DatasetError
from cmnet.data.clip import LoadReport
from cmnet.data.splits import Fold, loso_folds
from cmnet.data.validate import _number, build_clip, image_problem, read_sheet, scan_frames

PATTERN = r"^img(\d+)\.png$"


def _frames(folder, numbers, extra=()):
    folder.mkdir(parents=True, exist_ok=True)
    for n in numbers:
        cv2.imwrite(str(folder / f"img{n}.png"), np.full((8, 8, 3), 10 * n % 250, np.uint8))
    for name in extra:
        (folder / name).write_text("not a frame")
    return folder


def _build(tmp_path, report, folder=None, **kw):
    args = dict(dataset="casme2", subject="sub01", clip_id="EP01", folder=folder or tmp_path / "sub01" / "EP01",
                pattern=PATTERN, onset=3, apex=5, offset=7, label="happiness", known_labels={"happiness", "fear"},
                classes=("happiness", "others"))
    args.update(kw)
    return build_clip(report, "sheet.xlsx row 4", **args)


def _only_row(report):
    (row,) = report.rows
    assert (row.source, row.clip) == ("sheet.xlsx row 4", "sub01/EP01")
    return row.action, row.reason


def test_a_good_row_gives_its_clip(tmp_path):
    folder = _frames(tmp_path / "sub01" / "EP01", range(1, 10), extra=["notes.txt"])  # a stray file is ignored
    np.savez(folder / "truth.npz", frame_numbers=np.arange(1, 10), intensity=np.linspace(0, 0.8, 9))
    report = LoadReport("casme2")
    clip = _build(tmp_path, report, action_units="AU12")
    assert report.rows == []
    assert (clip.onset, clip.apex, clip.offset, clip.frame_numbers) == (3, 5, 7, [3, 4, 5, 6, 7])
    assert [p.name for p in clip.frames] == [f"img{n}.png" for n in range(3, 8)]
    assert (clip.dataset, clip.subject, clip.clip_id, clip.label, clip.action_units) == (
        "casme2", "sub01", "EP01", "happiness", "AU12")
    assert clip.intensity == pytest.approx(list(np.linspace(0, 0.8, 9)[2:7]))
    assert clip.notes == []
    plain = _build(tmp_path, LoadReport("casme2"))
    assert plain.action_units == "" and plain.apex == 5


@pytest.mark.parametrize("kw, reason", [
    (dict(label="contempt"), "unknown label 'contempt' (known: ['fear', 'happiness'])"),
    (dict(label="fear"), "label 'fear' is not in the protocol's classes ['happiness', 'others']"),
    (dict(onset="/"), "onset '/' is not a frame number"),
    (dict(onset=2), "onset frame 2 has no file in {folder}"),
    (dict(apex=8), "apex 8 outside onset–offset [3, 7]"),
    (dict(apex=2), "apex 2 outside onset–offset [3, 7]"),
])
def test_each_exclusion_names_row_clip_and_reason(tmp_path, kw, reason):
    folder = _frames(tmp_path / "sub01" / "EP01", [3, 4, 5, 6, 7, 9])
    report = LoadReport("casme2")
    assert _build(tmp_path, report, **kw) is None
    assert _only_row(report) == ("excluded", reason.format(folder=folder))


def test_exclusions_for_the_frames_on_disk(tmp_path):
    report = LoadReport("casme2")
    missing = tmp_path / "sub01" / "EP01"
    assert _build(tmp_path, report) is None
    assert _only_row(report) == ("excluded", f"frame folder {missing} not found")
    report = LoadReport("casme2")
    empty = _frames(missing, [], extra=["readme.txt"])
    assert _build(tmp_path, report) is None
    assert _only_row(report) == ("excluded", f"no frame files matching {PATTERN!r} in {empty}")
    # a gap between onset and offset
    report = LoadReport("casme2")
    gap = _frames(tmp_path / "sub01" / "GAP", [3, 4, 6, 7])
    assert _build(tmp_path, report, folder=gap) is None
    assert report.rows[0].reason == f"1 frame file missing between onset and offset, first: number 5 in {gap}"
    # a damaged frame
    report = LoadReport("casme2")
    bad = _frames(tmp_path / "sub01" / "BAD", [3, 4, 5, 6, 7])
    (bad / "img5.png").write_bytes(b"")
    assert _build(tmp_path, report, folder=bad) is None
    assert report.rows[0].reason == f"{bad / 'img5.png'}: empty file"


def test_offset_repairs_and_the_shortest_clips(tmp_path):
    folder = _frames(tmp_path / "sub01" / "EP01", [3, 4, 5, 6, 7])
    for offset in (None, "/", 3, 2, 12):  # missing, not a number, not after the onset, beyond the last frame
        report = LoadReport("casme2")
        clip = _build(tmp_path, report, offset=offset)
        msg = f"offset {offset!r} invalid (onset 3, last frame on disk 7); set to the last frame 7"
        assert _only_row(report) == ("repaired", msg) and clip.offset == 7 and clip.notes == [msg]
    # two frames are a clip; one is not
    report = LoadReport("casme2")
    two = _build(tmp_path, report, onset=6, apex=6, offset=7)
    assert report.rows == [] and two.frame_numbers == [6, 7]
    assert _build(tmp_path, report, onset=7, apex=7, offset=7) is None  # offset repaired to 7 = onset: one frame
    last = report.rows[-1]
    assert (last.source, last.clip, last.action, last.reason) == (
        "sheet.xlsx row 4", "sub01/EP01", "excluded", "clip too short: 1 frame between onset and offset")
    assert two.intensity is None  # no truth.npz: no ground truth
    # the apex may be the offset frame itself
    assert _build(tmp_path, LoadReport("casme2"), apex=7).apex == 7


def test_missing_apex_is_estimated_and_noted(tmp_path):
    folder = tmp_path / "sub01" / "EP01"
    folder.mkdir(parents=True)
    for n, v in zip(range(3, 8), (100, 110, 180, 120, 105)):
        cv2.imwrite(str(folder / f"img{n}.png"), np.full((16, 16, 3), v, np.uint8))
    report = LoadReport("casme2")
    clip = _build(tmp_path, report, apex="-")
    msg = "apex '-' missing; estimated as frame 5 (largest difference from the onset frame)"
    assert clip.apex == 5 and _only_row(report) == ("repaired", msg) and clip.notes == [msg]


@pytest.mark.parametrize("cell, want", [
    ("12", 12), (" 7 ", 7), ("12.0", 12), (5.0, 5), (0, 0), ("0", 0), (np.int64(3), 3),
    ("/", None), ("-1", None), (-1, None), ("abc", None), ("", None), (None, None), (float("nan"), None),
])
def test_number_cells(cell, want):
    assert _number(cell) == want


def test_image_problems_are_named(tmp_path):
    def f(name, data):
        p = tmp_path / name
        p.write_bytes(data)
        return image_problem(p)

    jpeg = b"\xff\xd8\xff" + b"\x00" * 100 + b"\xff\xd9"
    assert f("ok.jpg", jpeg) is None and f("OK.JPG", jpeg) is None and f("ok.jpeg", jpeg) is None
    assert f("empty.png", b"") == "empty file"
    assert f("one.png", b"\x89") == "not an image of its extension (bad header)"
    assert f("bad.JPG", b"GIF89a" + b"\x00" * 80) == "not an image of its extension (bad header)"
    assert f("cut.jpeg", b"\xff\xd8\xff" + b"\x00" * 100) == "truncated JPEG (no end marker)"
    assert f("cut.jpg", b"\xff\xd8\xff" + b"\x00" * 100) == "truncated JPEG (no end marker)"
    # the end marker counts only within the last 64 bytes: here it ends 63 bytes before the end
    assert f("early.jpg", b"\xff\xd8\xff" + b"\x00" * 10 + b"\xff\xd9" + b"\x00" * 63) == "truncated JPEG (no end marker)"
    assert f("late.jpg", b"\xff\xd8\xff" + b"\x00" * 10 + b"\xff\xd9" + b"\x00" * 62) is None
    assert f("x.bmp", b"BM" + b"\x00" * 10) is None and f("x.tif", b"II*\x00") is None  # no magic known: accepted


def test_scan_frames_skips_non_matching_names(tmp_path):
    folder = _frames(tmp_path / "f", [10, 9, 11], extra=["img.png.txt", "thumbs.db"])
    (folder / "img12.png").mkdir()  # a folder with a frame's name is not a frame
    assert {n: p.name for n, p in scan_frames(folder, PATTERN).items()} == {9: "img9.png", 10: "img10.png",
                                                                             11: "img11.png"}
    assert list(scan_frames(folder, PATTERN)) == [9, 10, 11]


def _xlsx(path, rows):
    pd.DataFrame(rows).to_excel(path, header=False, index=False)
    return path


def test_sheet_errors_name_file_row_and_columns(tmp_path):
    with pytest.raises(DatasetError, match=f"^annotation sheet {tmp_path / 'none.xlsx'} not found$"):
        read_sheet(tmp_path / "none.xlsx", ["Subject"])
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(DatasetError, match=f"^cannot read annotation sheet {broken}: "):
        read_sheet(broken, ["Subject"])
    p = _xlsx(tmp_path / "s.xlsx", [["title", ""], ["Subject", "Emotion"], ["1", "fear"]])
    df = read_sheet(p, ["Subject", "Emotion"], header=1)
    assert list(df.columns) == ["Subject", "Emotion"] and df.iloc[0].tolist() == ["1", "fear"]
    with pytest.raises(DatasetError) as e:
        read_sheet(p, ["Subject", "Emotion"], header=0)
    assert str(e.value) == (f"{p}: missing columns ['Subject', 'Emotion'] in the header on Excel row 1; "
                            "expected columns ['Subject', 'Emotion']; the header seems to be on Excel row 2, not row 1")
    with pytest.raises(DatasetError) as e:
        read_sheet(p, ["Subject", "OnsetFrame"], header=1)
    assert str(e.value) == (f"{p}: missing column ['OnsetFrame'] in the header on Excel row 2; "
                            "expected columns ['Subject', 'OnsetFrame']")
    with pytest.raises(DatasetError, match=r"missing column \['Subject'\] in the header on Excel row 4;"):
        read_sheet(p, ["Subject"], header=3)  # past the last row: no header at all
    # the hint looks at the first 40 rows only
    far = _xlsx(tmp_path / "far.xlsx", [["x"]] * 40 + [["Subject"]])
    with pytest.raises(DatasetError) as e:
        read_sheet(far, ["Subject"])
    assert "seems to be" not in str(e.value)


def test_loso_folds():
    folds = loso_folds(["s2", "s1", "s2", "s3"])
    assert folds == [Fold(0, "s1", (0, 2, 3), (1,)), Fold(1, "s2", (1, 3), (0, 2)), Fold(2, "s3", (0, 1, 2), (3,))]
    assert [f.subject for f in loso_folds(["b", "a"])] == ["a", "b"]  # two subjects are enough
    with pytest.raises(ValueError, match="^no clips to split$"):
        loso_folds([])
    with pytest.raises(ValueError, match=r"^LOSO needs at least 2 subjects, got \['s1'\]$"):
        loso_folds(["s1", "s1"])


def test_subject_grouped_kfold_folds():
    """Every subject tested in exactly one fold, never trained on there; the groups' subject
    counts differ by at most one and their class counts stay near an equal share."""
    from cmnet.data.splits import kfold_folds, make_folds

    rng = np.random.default_rng(0)
    subjects = [f"s{i:02d}" for i in range(13) for _ in range(int(rng.integers(3, 9)))]
    labels = [str(x) for x in rng.choice(["a", "b", "c"], size=len(subjects), p=[0.6, 0.3, 0.1])]
    folds = kfold_folds(subjects, labels, 4)
    assert [f.subject for f in folds] == ["k1", "k2", "k3", "k4"]
    tested = [s for f in folds for s in f.test_subjects]
    assert sorted(tested) == sorted(set(subjects))  # each subject in one test part
    for f in folds:
        assert {subjects[j] for j in f.test} == set(f.test_subjects)
        assert not {subjects[j] for j in f.train} & set(f.test_subjects)
        assert sorted(f.train + f.test) == list(range(len(subjects)))
    sizes = [len(f.test_subjects) for f in folds]
    assert max(sizes) - min(sizes) <= 1
    for c in "abc":
        per = [sum(labels[j] == c for j in f.test) for f in folds]
        assert max(per) - min(per) <= max(4, 0.5 * np.mean(per)), (c, per)
    assert kfold_folds(subjects, labels, 4) == folds  # no seed: the same split every time
    with pytest.raises(ValueError, match=r"needs 2 ≤ K ≤ the number of subjects \(13\), got K = 14"):
        kfold_folds(subjects, labels, 14)
    assert [f.subject for f in make_folds("loso", subjects, labels)] == sorted(set(subjects))
