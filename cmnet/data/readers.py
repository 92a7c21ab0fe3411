"""Dataset readers: CASME II, SAMM, SMIC-HS and the MEGC 2019 composite.

Each returns ``(clips, report)``: the validated Clip records and a LoadReport listing,
row by row, every repair and exclusion. Layouts and known defects are described in
../shared/reference/datasets.md; class counts of the paper's protocols are in
``PAPER_COUNTS``.
"""

from __future__ import annotations

from pathlib import Path

from ..config import CHOICES
from ..formats import count
from .clip import Clip, DatasetError, LoadReport
from .validate import build_clip, estimate_apex, read_sheet, scan_frames

CASME2_SHEETS = ("CASME2-coding-20140508.xlsx", "CASME2-coding-20190701.xlsx", "CASME2-coding-updated.xlsx")
CASME2_COLUMNS = ["Subject", "Filename", "OnsetFrame", "ApexFrame", "OffsetFrame", "Action Units", "Estimated Emotion"]
CASME2_EMOTIONS = {"happiness", "disgust", "repression", "surprise", "others", "fear", "sadness"}
CASME2_CLASSES = ("disgust", "happiness", "repression", "surprise", "others")
_CASME2_LAYOUTS = {"raw": ("CASME2_RAW_selected", r"^img(\d+)\.jpg$"), "cropped": ("Cropped", r"^reg_img(\d+)\.jpg$")}

SAMM_SHEET = "SAMM_Micro_FACS_Codes_v2.xlsx"
SAMM_COLUMNS = ["Subject", "Filename", "Onset Frame", "Apex Frame", "Offset Frame", "Action Units", "Estimated Emotion"]
SAMM_EMOTIONS = {"anger", "contempt", "disgust", "fear", "happiness", "sadness", "surprise", "others"}
SAMM_CLASSES = ("anger", "contempt", "happiness", "surprise", "others")

SMIC_CLASSES = ("positive", "negative", "surprise")
MEGC_CLASSES = SMIC_CLASSES
_MEGC_MAP = {
    "casme2": {"happiness": "positive", "disgust": "negative", "repression": "negative", "surprise": "surprise"},
    "samm": {"happiness": "positive", "anger": "negative", "contempt": "negative", "disgust": "negative",
             "fear": "negative", "sadness": "negative", "surprise": "surprise"},
    "smic_hs": {c: c for c in SMIC_CLASSES},
}

# The paper's class counts (CMNet, "Datasets"; MEGC 2019 for the composite).
PAPER_COUNTS = {
    "casme2": {"disgust": 63, "happiness": 32, "repression": 27, "surprise": 25, "others": 99},
    "samm": {"anger": 57, "contempt": 12, "happiness": 26, "surprise": 15, "others": 26},
    "smic_hs": {"positive": 51, "negative": 70, "surprise": 43},
    "megc2019": {"negative": 250, "positive": 109, "surprise": 83},
}


def _find_sheet(root: Path, names, fallback_glob: str | None = None) -> Path:
    for n in names:
        for cand in (root / n, root.parent / n):
            if cand.is_file():
                return cand
    if fallback_glob:
        found = sorted(root.glob(fallback_glob))
        if found:
            return found[0]
    raise DatasetError(f"no annotation sheet in {root} (looked for {list(names)})")


def _duplicate(report: LoadReport, seen: dict, source: str, clip: Clip) -> bool:
    """True (and the row excluded) when another row of the sheet already gave this clip: the
    same frames must not be counted twice (nor land in a fold twice)."""
    name = f"{clip.subject}/{clip.clip_id}"
    if name in seen:
        report.excluded(source, name, f"duplicate: the same clip as {seen[name]} (the first row is kept)")
        return True
    seen[name] = source
    return False


def read_casme2(
    root: str | Path,
    sheet: str | Path | None = None,
    layout: str = "auto",
    classes: tuple[str, ...] = CASME2_CLASSES,
    dataset: str = "casme2",
) -> tuple[list[Clip], LoadReport]:
    """CASME II (5-class protocol by default). ``root`` holds the coding sheet and
    ``CASME2_RAW_selected/`` (``layout="raw"``) or ``Cropped/`` (``"cropped"``)."""
    root = Path(root)
    if layout == "auto":
        layout = next((k for k, (d, _) in _CASME2_LAYOUTS.items() if (root / d).is_dir()), None)
        if layout is None:
            raise DatasetError(f"{root}: neither CASME2_RAW_selected/ nor Cropped/ found")
    if layout not in _CASME2_LAYOUTS:
        raise ValueError(f"layout must be 'raw', 'cropped' or 'auto', got {layout!r}")
    sub, pattern = _CASME2_LAYOUTS[layout]
    sheet = Path(sheet) if sheet else _find_sheet(root, CASME2_SHEETS, "CASME2-coding-*.xlsx")
    df = read_sheet(sheet, CASME2_COLUMNS)
    report = LoadReport(dataset, sources=[sheet])
    clips, seen = [], {}
    for i, row in df.iterrows():
        source = f"{sheet.name} row {i + 2}"
        try:
            subject = f"sub{int(row['Subject']):02d}"
        except (TypeError, ValueError):
            report.excluded(source, str(row["Filename"]), f"subject {row['Subject']!r} is not a number")
            continue
        clip_id = str(row["Filename"]).strip()
        clip = build_clip(
            report, source, dataset=dataset, subject=subject, clip_id=clip_id,
            folder=root / sub / subject / clip_id, pattern=pattern,
            onset=row["OnsetFrame"], apex=row["ApexFrame"], offset=row["OffsetFrame"],
            label=str(row["Estimated Emotion"]).strip().lower(), known_labels=CASME2_EMOTIONS,
            classes=classes, action_units=str(row["Action Units"]),
        )
        if clip and not _duplicate(report, seen, source, clip):
            clips.append(clip)
    return clips, report


def read_samm(
    root: str | Path,
    sheet: str | Path | None = None,
    classes: tuple[str, ...] = SAMM_CLASSES,
) -> tuple[list[Clip], LoadReport]:
    """SAMM (5-class protocol by default). ``root`` holds ``SAMM_Micro_FACS_Codes_v2.xlsx``
    (header on Excel row 14) and ``SAMM/<subject>/<clip>/<subject>_<frame>.jpg``."""
    root = Path(root)
    sheet = Path(sheet) if sheet else _find_sheet(root, (SAMM_SHEET,))
    df = read_sheet(sheet, SAMM_COLUMNS, header=13)
    frames_root = root / "SAMM" if (root / "SAMM").is_dir() else root
    report = LoadReport("samm", sources=[sheet])
    clips, seen = [], {}
    for i, row in df.iterrows():
        source = f"{sheet.name} row {i + 15}"
        subj = str(row["Subject"]).strip()
        subject = f"{int(float(subj)):03d}" if subj.replace(".", "").isdigit() else subj
        clip_id = str(row["Filename"]).strip()
        label = str(row["Estimated Emotion"]).strip().lower()
        label = "others" if label == "other" else label
        clip = build_clip(
            report, source, dataset="samm", subject=subject, clip_id=clip_id,
            folder=frames_root / subject / clip_id, pattern=r"_(\d+)\.jpg$",
            onset=row["Onset Frame"], apex=row["Apex Frame"], offset=row["Offset Frame"],
            label=label, known_labels=SAMM_EMOTIONS, classes=classes, action_units=str(row["Action Units"]),
        )
        if clip and not _duplicate(report, seen, source, clip):
            clips.append(clip)
    return clips, report


def read_smic_hs(root: str | Path) -> tuple[list[Clip], LoadReport]:
    """SMIC-HS (3 classes). ``root`` holds ``HS/s<k>/micro/<class>/<clip>/<frame>.bmp``.
    Onset = the first frame, offset = the last; SMIC gives no apex, so the apex is
    estimated as the frame farthest from the onset (``validate.estimate_apex``)."""
    root = Path(root)
    hs = root / "HS" if (root / "HS").is_dir() else root
    subjects = sorted((p for p in hs.glob("s*") if p.is_dir()), key=lambda p: int(p.name[1:]) if p.name[1:].isdigit() else 0)
    if not subjects:
        raise DatasetError(f"{hs}: no subject folders s1, s2, … found (expected HS/s<k>/micro/<class>/<clip>/)")
    report = LoadReport("smic_hs")
    clips = []
    for sdir in subjects:
        micro = sdir / "micro"
        if not micro.is_dir():
            report.excluded(str(sdir), sdir.name, "no micro/ folder")
            continue
        for cdir in sorted(p for p in micro.iterdir() if p.is_dir()):
            for clip_dir in sorted(p for p in cdir.iterdir() if p.is_dir()):
                source = str(clip_dir)
                frames = scan_frames(clip_dir, r"(\d+)\.bmp$")
                if len(frames) < 2:
                    report.excluded(source, f"{sdir.name}/{clip_dir.name}", f"{count(len(frames), '.bmp frame')}: too short")
                    continue
                nums = list(frames)
                clip = build_clip(
                    report, source, dataset="smic_hs", subject=sdir.name, clip_id=clip_dir.name,
                    folder=clip_dir, pattern=r"(\d+)\.bmp$", onset=nums[0], apex=nums[0], offset=nums[-1],
                    label=cdir.name.lower(), known_labels=set(SMIC_CLASSES), classes=SMIC_CLASSES,
                )
                if clip is None:
                    continue
                clip.apex = clip.frame_numbers[estimate_apex(clip.frames)]
                clip.notes.append(f"apex estimated as frame {clip.apex}: largest difference from the onset frame")
                clips.append(clip)
    return clips, report


def read_megc2019(casme2_root, samm_root, smic_root) -> tuple[list[Clip], LoadReport]:
    """The MEGC 2019 composite: SMIC-HS + CASME II + SAMM relabelled positive / negative /
    surprise; subjects are prefixed by their dataset so that LOSO keeps them apart."""
    parts = [
        ("casme2", read_casme2(casme2_root, classes=tuple(CASME2_EMOTIONS))),
        ("samm", read_samm(samm_root, classes=tuple(SAMM_EMOTIONS))),
        ("smic_hs", read_smic_hs(smic_root)),
    ]
    report = LoadReport("megc2019")
    clips = []
    for name, (cl, rep) in parts:
        report.rows.extend(rep.rows)
        report.sources.extend(rep.sources)
        for c in cl:
            new = _MEGC_MAP[name].get(c.label)
            if new is None:
                report.excluded(c.key, c.key, f"label {c.label!r} has no MEGC 2019 class")
                continue
            c.notes.append(f"relabelled {c.label} → {new} (MEGC 2019)")
            c.label, c.dataset, c.subject = new, "megc2019", f"{name}/{c.subject}"
            c.notes.append(f"source dataset {name}")
            clips.append(c)
    return clips, report


def class_counts(clips: list[Clip], dataset: str | None = None):
    """A table of class counts after loading beside the paper's (``PAPER_COUNTS``)."""
    import pandas as pd

    dataset = dataset or (clips[0].dataset if clips else None)
    ours = pd.Series([c.label for c in clips], dtype=object).value_counts()
    paper = PAPER_COUNTS.get(dataset, {})
    labels = list(paper) + sorted(set(ours.index) - set(paper))
    df = pd.DataFrame({
        "class": labels,
        "ours": [int(ours.get(lab, 0)) for lab in labels],
        "paper": [paper.get(lab) for lab in labels],
    })
    df.loc[len(df)] = ["total", int(df["ours"].sum()), sum(paper.values()) if paper else None]
    return df


DATASETS = CHOICES["dataset"]


def read_dataset(name: str, root, layout: str = "auto") -> tuple[list[Clip], LoadReport]:
    """Read a dataset by name. ``root``: its folder; for "megc2019" a dict with the keys
    "casme2", "samm", "smic_hs". SynthME is read by the CASME II reader. A clip whose frames
    are another clip's (a copied subject or clip folder) is excluded and reported: a copy
    would otherwise be a subject of its own, and its fold would train on its own test clips."""
    if name == "synthme":
        clips, report = read_casme2(root, layout=layout, dataset="synthme")
    elif name == "casme2":
        clips, report = read_casme2(root, layout=layout)
    elif name == "samm":
        clips, report = read_samm(root)
    elif name == "smic_hs":
        clips, report = read_smic_hs(root)
    elif name == "megc2019":
        if not isinstance(root, dict) or set(root) != {"casme2", "samm", "smic_hs"}:
            raise ValueError("megc2019 needs the roots of casme2, samm and smic_hs")
        clips, report = read_megc2019(root["casme2"], root["samm"], root["smic_hs"])
    else:
        raise ValueError(f"unknown dataset {name!r}; choose one of {DATASETS}")
    return drop_copies(clips, report), report


def drop_copies(clips: list[Clip], report: LoadReport) -> list[Clip]:
    """The clips without those whose every frame file holds the same bytes as another clip's
    (a copied clip or subject folder): of a set of copies the first by name is kept, and each
    other is reported as excluded, naming the clip it copies. Cheap first: only clips whose
    onset, apex and offset frames agree are compared frame by frame."""
    import hashlib

    def digest(c: Clip, frames) -> str:
        h = hashlib.sha1(str(len(c)).encode())
        for p in frames:
            h.update(p.read_bytes())
        return h.hexdigest()

    full: dict[str, str] = {}

    def whole(c: Clip) -> str:
        return full.setdefault(c.key, digest(c, c.frames))

    first: dict[str, list[Clip]] = {}
    copies = set()
    for c in sorted(clips, key=lambda c: c.key):
        same = first.setdefault(digest(c, [c.frames[i] for i in dict.fromkeys([0, c.apex_index, len(c) - 1])]), [])
        original = next((o for o in same if whole(o) == whole(c)), None)
        if original is None:
            same.append(c)
            continue
        copies.add(c.key)
        report.excluded(str(c.frames[0].parent), f"{c.subject}/{c.clip_id}", f"the same frames as {original.subject}/"
                        f"{original.clip_id} ({original.frames[0].parent}): a copy; only the first is kept")
    return [c for c in clips if c.key not in copies]
