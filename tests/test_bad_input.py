"""Bad data and bad requests not covered elsewhere: duplicate rows, extra columns, grey / RGBA /
16-bit frames, a subject with one clip, a dataset of one label, `predict` on folders that are
not clips and on files that are not a fold's weights. Rows of the README's table."""

import json
import shutil

import cv2
import numpy as np
import pytest
import torch
from openpyxl import load_workbook

from _fixtures import CASME2_HEADER, casme2, write_xlsx
from cmnet.cli import main
from cmnet.data import DatasetError, read_casme2
from cmnet.data.splits import Fold
from cmnet.predict import load_final, predict_folder
from cmnet.preprocess.prepare import prepare_cache
from cmnet.preprocess.clip import read_frame
from cmnet.fold.run import run_fold

from test_training import tiny


def test_a_duplicate_row_is_excluded_and_the_first_kept(tmp_path):
    casme2(tmp_path)
    rows = [[1, "EP01_01", None, 8, 10, 13, None, "1+2", "surprise"],
            [1, "EP01_02", None, 1, 3, 5, None, "12", "happiness"],
            [1, "EP01_01", None, 8, 11, 13, None, "1+2", "disgust"]]  # the same clip again, other label
    write_xlsx(tmp_path / "CASME2-coding-20140508.xlsx", CASME2_HEADER, rows)
    clips, report = read_casme2(tmp_path)
    assert [(c.clip_id, c.label) for c in clips] == [("EP01_01", "surprise"), ("EP01_02", "happiness")]
    (row,) = report.rows
    assert (row.source, row.clip, row.action, row.reason) == (
        "CASME2-coding-20140508.xlsx row 4", "sub01/EP01_01", "excluded",
        "duplicate: the same clip as CASME2-coding-20140508.xlsx row 2 (the first row is kept)")


def test_extra_columns_in_a_sheet_are_ignored(tmp_path):
    casme2(tmp_path)
    header = ["Notes"] + CASME2_HEADER + ["Coder", "Date"]
    rows = [["a note", 1, "EP01_01", None, 8, 10, 13, None, "1+2", "surprise", "X", "2014"],
            [None, 1, "EP01_02", None, 1, 3, 5, None, "12", "happiness", "Y", "2014"]]
    write_xlsx(tmp_path / "CASME2-coding-20140508.xlsx", header, rows)
    clips, report = read_casme2(tmp_path)
    assert [(c.clip_id, c.onset, c.apex, c.offset, c.label) for c in clips] == [
        ("EP01_01", 8, 10, 13, "surprise"), ("EP01_02", 1, 3, 5, "happiness")]
    assert report.rows == []


def test_grey_rgba_and_16_bit_frames_become_8_bit_colour(tmp_path):
    grey = np.full((20, 30), 90, np.uint8)
    cv2.imwrite(str(tmp_path / "grey.jpg"), grey)
    rgba = np.zeros((20, 30, 4), np.uint8)
    rgba[..., :3], rgba[..., 3] = (10, 20, 30), 0  # fully transparent: the colour is kept, alpha dropped
    cv2.imwrite(str(tmp_path / "rgba.png"), rgba)
    deep = np.full((20, 30, 3), 0x8000, np.uint16)
    cv2.imwrite(str(tmp_path / "deep.png"), deep)
    g, a, d = (read_frame(tmp_path / n) for n in ("grey.jpg", "rgba.png", "deep.png"))
    for img in (g, a, d):
        assert img.shape == (20, 30, 3) and img.dtype == np.uint8
    assert abs(int(g.mean()) - 90) <= 1 and (g[..., 0] == g[..., 2]).all()
    assert tuple(a[0, 0]) == (10, 20, 30) and (d == 128).all()  # 16 bits scaled to 8


def test_a_clip_of_grey_frames_is_preprocessed_like_its_colour_copy(tmp_path):
    cfg = tiny(tmp_path, synth_subjects=2, synth_clips_per_subject=2)
    colour, _ = prepare_cache(cfg, progress=False)
    for p in (tmp_path / "synth" / "CASME2_RAW_selected").rglob("*.jpg"):
        img = cv2.imread(str(p))
        cv2.imwrite(str(p), cv2.cvtColor(img, cv2.COLOR_BGR2GRAY))  # one channel on disk
    grey, _ = prepare_cache(cfg, progress=False)
    assert grey.frames.shape == colour.frames.shape and not grey.failures
    f = np.asarray(grey.frames, dtype=int)
    assert (f[..., 0] == f[..., 1]).all() and (f[..., 1] == f[..., 2]).all()


def test_a_subject_with_one_clip_is_a_fold_of_one_clip(tmp_path):
    cfg = tiny(tmp_path, epochs=1)
    cache, classes = prepare_cache(cfg, progress=False)
    one = Fold(0, "sub01", train=tuple(range(4, 12)), test=(0,))
    r = run_fold(cfg, cache, classes, one, tmp_path / "one", progress=False)
    assert r["n_test"] == 1 and r["accuracy"] in (0.0, 1.0)
    assert all(np.isfinite(r[m]) for m in ("f1_paper", "uf1", "uar"))


def test_a_dataset_of_one_label_is_refused(tmp_path, capsys):
    cfg = tiny(tmp_path)
    prepare_cache(cfg, progress=False)  # generate SynthME
    sheet = next((tmp_path / "synth").glob("*.xlsx"))
    wb = load_workbook(sheet)
    ws = wb.active
    col = [c.value for c in ws[1]].index("Estimated Emotion") + 1
    for r in range(2, ws.max_row + 1):
        ws.cell(r, col).value = "happiness"
    wb.save(sheet)
    with pytest.raises(DatasetError, match=r"^synthme: all 12 usable clips have the label 'happiness'; a classifier "
                                           r"needs clips of at least two of the classes"):
        prepare_cache(cfg, progress=False)


# ------------------------------------------------------------------ predict

@pytest.fixture(scope="module")
def final_pt(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("predict")
    cfg = tiny(tmp, epochs=1)
    cache, classes = prepare_cache(cfg, progress=False)
    from cmnet.data.splits import loso_folds

    run_fold(cfg, cache, classes, loso_folds(list(cache.subjects))[0], tmp / "fold", progress=False)
    clip = next((tmp / "synth" / "CASME2_RAW_selected" / "sub01").iterdir())
    return tmp / "fold" / "final.pt", clip


def test_predict_reads_the_model_in_eval_mode_and_changes_nothing(final_pt):
    """predict's probabilities are those of the fold's model in evaluation mode (batch norm on its
    running statistics) on the clip predict prepared: the same input through the weights here, in
    eval mode, gives them, in training mode (the clip's own statistics) it does not; a second call
    gives the same numbers and the checkpoint is not touched."""
    from cmnet.fold.augment import normalize
    from cmnet.fold.batches import ClipTransform
    from cmnet.models import model_from_config

    ckpt, clip = final_pt
    before = ckpt.read_bytes()
    a, b = predict_folder(ckpt, clip), predict_folder(ckpt, clip)
    assert a["probs"] == b["probs"] and ckpt.read_bytes() == before
    state, cfg, classes = load_final(ckpt)
    cfg.train.device, cfg.train.channels_last = "cpu", False
    model = model_from_config(cfg, len(classes))
    model.load_state_dict(state["model"])
    x = torch.from_numpy(np.ascontiguousarray(a["frames"])).permute(0, 3, 1, 2).float().div(255)[None]
    x = normalize(ClipTransform.from_config(cfg).encoder_input(x))

    def probs(train: bool) -> list[float]:
        model.train(train)
        with torch.no_grad():
            return model(x).logits.softmax(-1)[0].tolist()

    got = [a["probs"][c] for c in classes]
    assert got == pytest.approx(probs(False), abs=1e-6)
    assert max(abs(u - v) for u, v in zip(got, probs(True))) > 1e-4  # the check can tell the two modes apart


def test_predict_on_a_folder_of_non_images(final_pt, tmp_path, capsys):
    ckpt, _ = final_pt
    (tmp_path / "notes").mkdir()
    for i in range(3):
        (tmp_path / "notes" / f"page{i}.txt").write_text("not a frame")
    assert main(["predict", str(ckpt), str(tmp_path / "notes"), "--no-figure"]) == 1
    assert capsys.readouterr().err == (f"error: {tmp_path / 'notes'}: need at least 2 numbered frames "
                                       "(.jpg/.png/.bmp), found 0\n")
    (tmp_path / "fake").mkdir()
    for i in range(3):
        (tmp_path / "fake" / f"img{i}.jpg").write_text("text with an image's name")
    with pytest.raises(ValueError, match=r"img0.jpg: not an image of its extension \(bad header\)$"):
        predict_folder(ckpt, tmp_path / "fake")


def test_predict_on_frames_of_mixed_sizes(final_pt, tmp_path):
    ckpt, clip = final_pt
    shutil.copytree(clip, tmp_path / "clip")
    frames = sorted((tmp_path / "clip").glob("*.jpg"), key=lambda p: int(p.stem[3:]))
    img = cv2.imread(str(frames[-1]))
    cv2.imwrite(str(frames[-1]), cv2.resize(img, (80, 80)))
    with pytest.raises(ValueError, match=rf"{frames[-1].name}: 80×80 px, but the first frame {frames[0].name} is "
                                         r"64×64: a clip's frames must all have one size"):
        predict_folder(ckpt, tmp_path / "clip")


def test_predict_with_a_file_that_is_not_a_folds_weights(final_pt, tmp_path):
    ckpt, clip = final_pt
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint at all")
    with pytest.raises(ValueError, match=rf"^{junk}: not a checkpoint cmnet can read \("):
        predict_folder(junk, clip)
    bare = tmp_path / "bare.pt"
    torch.save({"model": {}, "epoch": 3}, bare)  # e.g. a last.pt
    with pytest.raises(ValueError, match=r"not a fold's final.pt \(it holds \['epoch', 'model'\]"):
        predict_folder(bare, clip)
    with pytest.raises(FileNotFoundError, match="checkpoint .*missing.pt not found"):
        load_final(tmp_path / "missing.pt")


def test_predict_with_weights_of_another_class_count_or_model(final_pt, tmp_path):
    ckpt, clip = final_pt
    state = torch.load(ckpt, weights_only=True)
    three = dict(state, classes=state["classes"][:3])
    torch.save(three, tmp_path / "three.pt")
    with pytest.raises(ValueError, match=r"three.pt: its weights do not fit the model its config describes \(cmnet, "
                                         r"3 classes\): .*size mismatch"):
        predict_folder(tmp_path / "three.pt", clip)
    cfg = json.loads(state["config"])
    other = dict(state, config=json.dumps(cfg | {"model": "resnet_lstm", "lambda_id": 0.0, "lambda_wrst": 0.0}))
    torch.save(other, tmp_path / "other.pt")
    with pytest.raises(ValueError, match=r"other.pt: its weights do not fit the model its config describes "
                                         r"\(resnet_lstm, 5 classes\)"):
        predict_folder(tmp_path / "other.pt", clip)


def test_predict_refuses_a_damaged_final_pt(final_pt, tmp_path):
    ckpt, clip = final_pt
    shutil.copytree(ckpt.parent, tmp_path / "fold")
    p = tmp_path / "fold" / "final.pt"
    p.write_bytes(p.read_bytes()[:-100])
    with pytest.raises(ValueError, match=rf"^{p}: damaged \(\d+ bytes, \d+ written"):
        predict_folder(p, clip)


# ------------------------------------------------------------------ the README's table

def test_every_row_of_the_bad_input_table_names_tests_that_exist():
    import ast
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    text = (root / "README.md").read_text()
    section = text.split("## Bad input → what you get", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| bad input")
            and not line.startswith("| ---")]
    assert len(rows) >= 25
    defined = {}
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split(" | ")]
        assert len(cells) == 3 and cells[0] and cells[1], row
        refs = re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", cells[2])
        assert refs, f"no test named in: {row}"
        for path, name in refs:
            if path not in defined:
                tree = ast.parse((root / path).read_text())
                defined[path] = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
            assert name in defined[path], f"{path}::{name} (README table) does not exist"
            assert name.startswith("test_")
