"""Nothing overwritten that cmnet did not write (issue 35): `cmnet synth` into a folder it did
not create, `--csv` / `--figure` over an existing file or an input, `pack --out` over a folder."""

import hashlib
from pathlib import Path

import pytest

from cmnet.cli import main
from cmnet.data.synthme import MARKER


def _md5(p: Path) -> str:
    return hashlib.md5(p.read_bytes()).hexdigest()


def _err(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


SYNTH = ["--subjects", "2", "--clips-per-subject", "1", "--size", "64", "--quiet"]


def test_synth_refuses_a_folder_it_did_not_write(tmp_path, capsys):
    data = tmp_path / "casme2_copy"
    frame = data / "CASME2_RAW_selected" / "sub01" / "EP01_01" / "img1.jpg"
    frame.parent.mkdir(parents=True)
    frame.write_bytes(b"\xff\xd8 a frame of someone's licensed copy")
    before = _md5(frame)
    assert main(["synth", "--out", str(data), *SYNTH]) == 1
    assert _err(capsys) == (f"error: {data} is not empty and cmnet did not write it (no {MARKER} in it): SynthME is "
                            "written only into a new or empty folder, or one it wrote; choose another --out")
    assert _md5(frame) == before and sorted(p.name for p in data.iterdir()) == ["CASME2_RAW_selected"]
    (tmp_path / "a_file").write_text("x")
    assert main(["synth", "--out", str(tmp_path / "a_file"), *SYNTH]) == 1
    assert _err(capsys) == f"error: {tmp_path / 'a_file'}: a file, not a folder to write SynthME into"


def test_synth_writes_a_new_or_empty_folder_and_its_own_again(tmp_path):
    from cmnet.data.synthme import SynthConfig, generate

    sc = SynthConfig(subjects=1, clips_per_subject=1, size=64, max_len=12)
    out = tmp_path / "empty"
    out.mkdir()
    sheet = generate(out, sc, progress=False)
    assert (out / MARKER).is_file() and (out / "synthme.json").is_file()
    frames = sorted(out.rglob("*.jpg"))
    assert generate(out, sc, progress=False) == sheet  # its own folder: written again, the same clips
    assert sorted(out.rglob("*.jpg")) == frames
    (out / MARKER).unlink()  # a SynthME of before the marker (synthme.json written last) is cmnet's too
    assert generate(out, sc, progress=False) == sheet


@pytest.fixture
def clip(tmp_path):
    folder = tmp_path / "clip"
    folder.mkdir()
    for i in (1, 2, 3):
        (folder / f"img{i}.jpg").write_bytes(b"\xff\xd8 frame %d" % i)
    ckpt = tmp_path / "final.pt"
    ckpt.write_bytes(b"not read: the outputs are checked first")
    return folder, ckpt


@pytest.mark.parametrize("flag", ["--csv", "--figure"])
def test_predict_never_writes_over_an_input_even_with_force(clip, capsys, flag):
    folder, ckpt = clip
    frame = folder / "img1.jpg"
    before = _md5(frame), _md5(ckpt)
    for target, what in ((frame, f"inside an input ({folder})"), (ckpt, f"an input ({ckpt})")):
        assert main(["predict", str(ckpt), str(folder), flag, str(target), "--force"]) == 1
        assert _err(capsys) == f"error: {flag} {target}: that is {what}; write it elsewhere"
    assert main(["predict", str(ckpt), str(folder), flag, str(folder / "new.csv")]) == 1  # a new file among the frames
    assert "inside an input" in _err(capsys)
    assert (_md5(frame), _md5(ckpt)) == before and sorted(p.name for p in folder.iterdir()) == [
        "img1.jpg", "img2.jpg", "img3.jpg"]


@pytest.mark.parametrize("flag", ["--csv", "--figure"])
def test_predict_refuses_an_existing_file_or_a_folder_unless_force(clip, tmp_path, capsys, flag):
    folder, ckpt = clip
    old = tmp_path / "old.out"
    old.write_text("someone's file")
    assert main(["predict", str(ckpt), str(folder), flag, str(old)]) == 1
    assert _err(capsys) == f"error: {flag} {old} exists; choose another name, or --force to replace it"
    assert old.read_text() == "someone's file"
    assert main(["predict", str(ckpt), str(folder), flag, str(tmp_path)]) == 1
    assert _err(capsys) == f"error: {flag} {tmp_path}: a folder; give the name of a file to write"
    assert main(["predict", str(ckpt), str(folder), flag, str(old), "--force"]) == 1  # past the check: the model
    assert "not a checkpoint cmnet can read" in _err(capsys)


def test_pack_out_a_folder_or_not_a_tar_gz_is_one_line(tmp_path, capsys):
    study = tmp_path / "runs" / "s"
    (study / "seed0").mkdir(parents=True)
    (study / "study.json").write_text("{}")
    target = tmp_path / "archives"
    target.mkdir()
    assert main(["pack", str(study), "--out", str(target), "--force"]) == 1  # was an internal error (exit 70)
    assert _err(capsys) == f"error: --out {target}: a folder; give the archive's file name (e.g. " \
                           f"{target / 'studies.tar.gz'})"
    assert main(["pack", str(study), "--out", str(tmp_path / "x.zip")]) == 1  # was a tar.gz named .zip
    assert _err(capsys) == f"error: --out {tmp_path / 'x.zip'}: the archive is a gzipped tar; name it ….tar.gz " \
                           f"(e.g. {tmp_path / 'x.tar.gz'})"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["archives", "runs"] and not any(target.iterdir())
