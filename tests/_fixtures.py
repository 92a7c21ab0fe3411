"""Tiny datasets in each layout, written by the tests themselves."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from openpyxl import Workbook


def frame(value: int, size: int = 24, ext: str = ".jpg") -> bytes:
    img = np.full((size, size, 3), value, np.uint8)
    img[4:8, 4:8] = 255 - value
    ok, buf = cv2.imencode(ext, img)
    return buf.tobytes()


def write_frames(folder: Path, names_values: dict[str, int], ext: str = ".jpg") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, v in names_values.items():
        (folder / name).write_bytes(frame(v, ext=ext))


def write_xlsx(path: Path, header: list, rows: list[list], notes_rows: int = 0) -> None:
    wb = Workbook()
    ws = wb.active
    for i in range(notes_rows):
        ws.append([f"note {i}: this sheet lists the SAMM coding"] + [None] * (len(header) - 1))
    ws.append(header)
    for r in rows:
        ws.append(r)
    wb.save(path)


CASME2_HEADER = ["Subject", "Filename", None, "OnsetFrame", "ApexFrame", "OffsetFrame", None,
                 "Action Units", "Estimated Emotion"]


def casme2(root: Path, layout: str = "raw") -> Path:
    """Eight rows: four good, and each defect the reader must handle."""
    sub, prefix = ("CASME2_RAW_selected", "img") if layout == "raw" else ("Cropped", "reg_img")
    base = root / sub

    def clip(subject, name, numbers, bright=None):
        vals = {f"{prefix}{n}.jpg": (100 if bright is None or n != bright else 200) for n in numbers}
        write_frames(base / f"sub{subject:02d}" / name, vals)

    clip(1, "EP01_01", range(8, 14))  # 8..13: numeric order crosses a digit boundary
    clip(1, "EP01_02", range(1, 6))
    clip(2, "EP02_01", range(20, 26))
    clip(2, "EP02_02", range(30, 36), bright=33)  # apex missing: estimated at 33
    clip(3, "EP03_01", range(1, 6))
    (base / "sub03" / "EP03_01" / f"{prefix}3.jpg").unlink()  # a missing frame
    clip(3, "EP03_02", range(1, 6))
    (base / "sub03" / "EP03_02" / f"{prefix}4.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")  # corrupt
    clip(3, "EP03_03", range(40, 46))  # offset beyond the last frame: repaired
    clip(3, "EP03_04", range(1, 6))  # unknown label
    clip(4, "EP04_01", range(1, 6))  # fear: not in the 5-class protocol
    rows = [
        [1, "EP01_01", None, 8, 10, 13, None, "1+2", "surprise"],
        [1, "EP01_02", None, 1, 3, 5, None, "12", "happiness"],
        [2, "EP02_01", None, 20, 22, 25, None, "4", "disgust"],
        [2, "EP02_02", None, 30, "/", 35, None, "14", "repression"],
        [3, "EP03_01", None, 1, 2, 5, None, "4", "others"],
        [3, "EP03_02", None, 1, 2, 5, None, "4", "others"],
        [3, "EP03_03", None, 40, 42, 99, None, "R12", "happiness"],
        [3, "EP03_04", None, 1, 2, 5, None, "12", "confusion"],
        [4, "EP04_01", None, 1, 2, 5, None, "20", "fear"],
    ]
    sheet = root / "CASME2-coding-20140508.xlsx"
    write_xlsx(sheet, CASME2_HEADER, rows)
    return sheet


SAMM_HEADER = ["Subject", "Filename", "Inducement Code", "Onset Frame", "Apex Frame", "Offset Frame",
               "Duration", "Type", "Action Units", "Notes", "Estimated Emotion"]


def samm(root: Path) -> Path:
    base = root / "SAMM"
    write_frames(base / "006" / "006_1_2", {f"006_{n:05d}.jpg": 90 for n in range(5562, 5568)})
    write_frames(base / "006" / "006_1_3", {f"006_{n:05d}.jpg": (90 if n != 102 else 220) for n in range(100, 106)})
    write_frames(base / "007" / "007_3_1", {f"007_{n:05d}.jpg": 80 for n in range(10, 16)})
    rows = [
        [6, "006_1_2", 1, 5562, 5564, 5567, 6, "Micro - 1/2", "12", "", "Happiness"],
        [6, "006_1_3", 1, 100, -1, 105, 6, "Micro - 1/2", "4", "", "Anger"],
        [7, "007_3_1", 3, 10, 12, 15, 6, "Micro - 1/2", "14", "", "Other"],
    ]
    sheet = root / "SAMM_Micro_FACS_Codes_v2.xlsx"
    write_xlsx(sheet, SAMM_HEADER, rows, notes_rows=13)
    return sheet


def smic(root: Path) -> None:
    hs = root / "HS"
    for s, cls, name, peak in [(1, "positive", "s1_po_01", 3), (1, "negative", "s1_ne_01", 5), (2, "surprise", "s2_sur_01", 2)]:
        vals = {f"image{n:06d}.bmp": (60 if n - 100 != peak else 200) for n in range(100, 108)}
        write_frames(hs / f"s{s}" / "micro" / cls / name, vals, ext=".bmp")
