"""What a user leaves beside the project's files is ignored or named, never parsed as the project's
own (issue 35): macOS's ``._*`` files beside SAMM/SMIC/CASME II frames, two files of one frame
number, a truth.npz that is not the clip's."""

import io

import numpy as np
import pytest

from _fixtures import casme2, frame, samm, smic
from cmnet.data import read_casme2, read_samm, read_smic_hs
from cmnet.data.validate import scan_frames
from cmnet.predict import numbered_frames


def _apple_doubles(root):
    """What a copy made on a Mac leaves: a ._<name> (resource fork) beside every file."""
    for p in [p for p in root.rglob("*") if p.is_file()]:
        (p.parent / f"._{p.name}").write_bytes(b"\x00\x05\x16\x07Mac OS X        resource fork")


@pytest.mark.parametrize("reader, make", [(read_samm, samm), (read_smic_hs, smic), (read_casme2, casme2)],
                         ids=["samm", "smic_hs", "casme2"])
def test_a_copy_made_on_a_mac_reads_as_the_original(tmp_path, reader, make):
    make(tmp_path / "plain")
    want, _ = reader(tmp_path / "plain")
    make(tmp_path / "mac")
    _apple_doubles(tmp_path / "mac")
    got, report = reader(tmp_path / "mac")
    assert [(c.subject, c.clip_id, c.frame_numbers) for c in got] == [(c.subject, c.clip_id, c.frame_numbers)
                                                                      for c in want]
    assert not any("._" in str(p) for c in got for p in c.frames)


def test_two_files_of_one_frame_number_are_named_never_one_dropped(tmp_path):
    clip = tmp_path / "clip"
    clip.mkdir()
    for name in ("img1.jpg", "img01.jpg", "img2.jpg", "img3.jpg"):
        (clip / name).write_bytes(frame(100))
    clashes = []
    assert sorted(scan_frames(clip, r"img(\d+)\.jpg$", clashes)) == [2, 3] and clashes == [["img01.jpg", "img1.jpg"]]
    with pytest.raises(ValueError, match=r"two frame files of one number \(img01.jpg, img1.jpg\); keep one of each$"):
        numbered_frames(clip)
    (clip / "._img4.jpg").write_bytes(b"resource fork")
    (clip / "img01.jpg").unlink()
    assert [p.name for p in numbered_frames(clip)] == ["img1.jpg", "img2.jpg", "img3.jpg"]


def test_a_casme2_clip_with_two_files_of_one_frame_is_excluded_naming_them(tmp_path):
    casme2(tmp_path)
    folder = tmp_path / "CASME2_RAW_selected" / "sub01" / "EP01_02"
    (folder / "img02.jpg").write_bytes(frame(100))
    clips, report = read_casme2(tmp_path)
    assert "sub01/EP01_02" not in {f"{c.subject}/{c.clip_id}" for c in clips}
    assert f"two frame files of one number in {folder}: img02.jpg and img2.jpg; keep one" in str(report)


@pytest.mark.parametrize("content", [b"not a zip", "foreign", "keys"], ids=["garbage", "another clip's", "no keys"])
def test_a_stray_truth_npz_is_named_and_ignored(tmp_path, content):
    casme2(tmp_path)
    folder = tmp_path / "CASME2_RAW_selected" / "sub01" / "EP01_02"
    if content == "foreign":  # another SynthME's clip: other frame numbers
        buf = io.BytesIO()
        np.savez(buf, frame_numbers=np.arange(500, 520), intensity=np.zeros(20))
        content = buf.getvalue()
    elif content == "keys":
        buf = io.BytesIO()
        np.savez(buf, something=np.zeros(3))
        content = buf.getvalue()
    (folder / "truth.npz").write_bytes(content)
    clips, _ = read_casme2(tmp_path)  # was a KeyError (an internal error)
    clip = next(c for c in clips if c.clip_id == "EP01_02")
    assert clip.intensity is None and any(n.startswith("truth.npz ignored: not this clip's ground truth") for n in
                                          clip.notes), clip.notes
