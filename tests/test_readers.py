"""Dataset readers on tiny fixtures in each layout, with the known defects."""

import pandas as pd
import pytest

from _fixtures import CASME2_HEADER, casme2, samm, smic, write_xlsx
from cmnet.data import DatasetError, class_counts, read_casme2, read_megc2019, read_samm, read_smic_hs


@pytest.mark.parametrize("layout", ["raw", "cropped"])
def test_casme2_reader_repairs_and_exclusions(tmp_path, layout):
    casme2(tmp_path, layout)
    clips, report = read_casme2(tmp_path)
    by_id = {c.clip_id: c for c in clips}
    assert set(by_id) == {"EP01_01", "EP01_02", "EP02_01", "EP02_02", "EP03_03"}
    # numeric frame order across a digit boundary
    c = by_id["EP01_01"]
    assert c.frame_numbers == [8, 9, 10, 11, 12, 13]
    assert [p.name.split("img")[1] for p in c.frames] == ["8.jpg", "9.jpg", "10.jpg", "11.jpg", "12.jpg", "13.jpg"]
    assert c.apex_index == 2 and c.subject == "sub01" and c.label == "surprise"
    # missing apex: repaired by the estimate (the frame most unlike the onset)
    assert by_id["EP02_02"].apex == 33 and by_id["EP02_02"].notes
    # wrong offset: repaired to the last frame on disk
    assert by_id["EP03_03"].offset == 45
    reasons = {r.clip: (r.action, r.reason) for r in report.rows}
    assert reasons["sub02/EP02_02"][0] == "repaired" and "apex" in reasons["sub02/EP02_02"][1]
    assert reasons["sub03/EP03_03"][0] == "repaired" and "offset" in reasons["sub03/EP03_03"][1]
    assert reasons["sub03/EP03_01"][0] == "excluded" and "missing" in reasons["sub03/EP03_01"][1]
    assert reasons["sub03/EP03_02"][0] == "excluded" and "4.jpg" in reasons["sub03/EP03_02"][1]
    assert reasons["sub03/EP03_04"][0] == "excluded" and "unknown label 'confusion'" in reasons["sub03/EP03_04"][1]
    assert reasons["sub04/EP04_01"][0] == "excluded" and "not in the protocol" in reasons["sub04/EP04_01"][1]
    # every row is accounted for: read or reported
    assert len(clips) + len(report.exclusions) == 9
    assert all("row" in r.source for r in report.rows)
    assert "2 repaired, 4 excluded" in str(report)


def test_casme2_wrong_header_row_names_file_and_row(tmp_path):
    casme2(tmp_path)
    sheet = tmp_path / "CASME2-coding-20140508.xlsx"
    write_xlsx(sheet, CASME2_HEADER, [[1, "EP01_01", None, 8, 10, 13, None, "1", "surprise"]], notes_rows=1)
    with pytest.raises(DatasetError) as e:
        read_casme2(tmp_path)
    msg = str(e.value)
    assert "CASME2-coding-20140508.xlsx" in msg and "Excel row 2" in msg and "OnsetFrame" in msg


def test_casme2_missing_column_is_an_error(tmp_path):
    casme2(tmp_path)
    sheet = tmp_path / "CASME2-coding-20140508.xlsx"
    header = [h for h in CASME2_HEADER if h != "ApexFrame"]
    write_xlsx(sheet, header, [[1, "EP01_01", None, 8, 13, None, "1", "surprise"]])
    with pytest.raises(DatasetError, match=r"missing column \['ApexFrame'\]"):
        read_casme2(tmp_path)


def test_casme2_no_frames_folder(tmp_path):
    with pytest.raises(DatasetError, match="CASME2_RAW_selected"):
        read_casme2(tmp_path)


def test_samm_reader(tmp_path):
    samm(tmp_path)
    clips, report = read_samm(tmp_path)
    by_id = {c.clip_id: c for c in clips}
    assert set(by_id) == {"006_1_2", "006_1_3", "007_3_1"}
    assert by_id["006_1_2"].subject == "006" and by_id["006_1_2"].label == "happiness"
    assert by_id["006_1_3"].apex == 102  # -1 repaired by the estimate
    assert by_id["007_3_1"].label == "others"
    assert [r.action for r in report.rows] == ["repaired"]
    assert "row 16" in report.rows[0].source  # Excel row of the second data row


def test_samm_header_must_be_on_row_14(tmp_path):
    samm(tmp_path)
    from _fixtures import SAMM_HEADER

    write_xlsx(tmp_path / "SAMM_Micro_FACS_Codes_v2.xlsx", SAMM_HEADER, [[6, "006_1_2", 1, 5562, 5564, 5567, 6, "M", "12", "", "Happiness"]])
    with pytest.raises(DatasetError, match="Excel row 1, not row 14"):
        read_samm(tmp_path)


def test_smic_reader_estimates_apex(tmp_path):
    smic(tmp_path)
    clips, report = read_smic_hs(tmp_path)
    by_id = {c.clip_id: c for c in clips}
    assert by_id["s1_po_01"].apex == 103 and by_id["s1_ne_01"].apex == 105 and by_id["s2_sur_01"].apex == 102
    c = by_id["s1_po_01"]
    assert (c.onset, c.offset) == (100, 107) and c.label == "positive" and c.subject == "s1"
    assert any("apex estimated" in n for n in c.notes)


def test_megc_composite_relabels_and_keeps_subjects_apart(tmp_path):
    casme2(tmp_path / "c")
    samm(tmp_path / "s")
    smic(tmp_path / "m")
    clips, report = read_megc2019(tmp_path / "c", tmp_path / "s", tmp_path / "m")
    labels = {c.subject + "/" + c.clip_id: c.label for c in clips}
    assert labels["casme2/sub01/EP01_01"] == "surprise"
    assert labels["casme2/sub01/EP01_02"] == "positive"
    assert labels["casme2/sub02/EP02_02"] == "negative"  # repression
    assert labels["samm/006/006_1_3"] == "negative"  # anger
    assert "samm/007/007_3_1" not in labels  # "Other" has no MEGC class
    assert "casme2/sub04/EP04_01" not in labels  # CASME II fear has no MEGC class (datasets.md)
    assert {c.label for c in clips} <= {"positive", "negative", "surprise"}
    assert all(c.dataset == "megc2019" for c in clips)


def test_class_counts_beside_paper(tmp_path):
    casme2(tmp_path)
    clips, _ = read_casme2(tmp_path)
    df = class_counts(clips)
    assert list(df["class"])[:5] == ["disgust", "happiness", "repression", "surprise", "others"]
    row = df.set_index("class").loc["happiness"]
    assert row["ours"] == 2 and row["paper"] == 32
    assert df.set_index("class").loc["total", "paper"] == 246
    assert isinstance(df, pd.DataFrame)


def test_casme2_apex_outside_its_clip_is_excluded_and_reported(tmp_path):
    casme2(tmp_path)
    write_xlsx(tmp_path / "CASME2-coding-20140508.xlsx", CASME2_HEADER,
               [[1, "EP01_01", None, 8, 10, 13, None, "1", "surprise"],
                [1, "EP01_02", None, 1, 4, 3, None, "12", "happiness"]])  # apex 4 after the offset 3
    clips, report = read_casme2(tmp_path)
    assert [c.clip_id for c in clips] == ["EP01_01"]
    (row,) = [r for r in report.rows if r.clip == "sub01/EP01_02"]
    assert row.action == "excluded" and "apex 4 outside onset–offset [1, 3]" in row.reason


def test_read_gray_small_reads_quarter_size_grey(tmp_path):
    import cv2
    import numpy as np

    from cmnet.data.validate import read_gray_small

    img = np.zeros((40, 24, 3), np.uint8)
    img[..., 2] = 200  # pure red: grey = 0.299 · 200
    cv2.imwrite(str(tmp_path / "a.png"), img)
    g = read_gray_small(tmp_path / "a.png")
    assert g.shape == (10, 6) and g.dtype == np.float32
    assert g.mean() == pytest.approx(0.299 * 200, abs=1)
    (tmp_path / "bad.jpg").write_bytes(b"not an image")
    with pytest.raises(DatasetError, match=f"^cannot decode image {tmp_path / 'bad.jpg'}$"):
        read_gray_small(tmp_path / "bad.jpg")


def test_estimate_apex_is_the_frame_farthest_from_the_onset(tmp_path):
    """Grey levels 200 (onset), 150, 100, 180: the differences from the onset are 0, 50, 100,
    20, so the apex is frame 2 (a sum, or a reference other than the onset, would differ)."""
    import cv2
    import numpy as np

    from cmnet.data.validate import estimate_apex

    paths = []
    for i, v in enumerate((200, 150, 100, 180)):
        paths.append(tmp_path / f"{i}.png")
        cv2.imwrite(str(paths[-1]), np.full((16, 16), v, np.uint8))
    assert estimate_apex(paths) == 2
