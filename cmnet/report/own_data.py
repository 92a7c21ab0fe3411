"""Chapter 11, "Run it on your data": where each licensed dataset is expected (the trees the
readers of cmnet.data.readers look for), a real demonstration of ``cmnet synth`` and ``cmnet
preprocess`` on a small SynthME in CASME II's layout and on a damaged copy of it (the GPU
study's cost in FLOPs, which builds models and losses, is cmnet.fold.cost's).

    layout_tree(dataset)        the expected folder tree of casme2, samm, smic_hs, megc2019
    folder_tree(root)           a folder as a tree, a few entries per level
    run_cli(args)               ``cmnet ARGS`` in a subprocess: its output, and the command shown
    damage_copy(src, dst)       a copy with CASME II's documented defects planted (a missing apex,
                                a missing frame); returns what was planted
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path




def _tree(lines) -> str:
    """(depth, name, note) rows in order → a tree drawn with box characters (depth 0: a root)."""
    lines = list(lines)
    last = []
    for i, (d, _, _) in enumerate(lines):
        nxt = next((e[0] for e in lines[i + 1:] if e[0] <= d), None)
        last.append(nxt is None or nxt < d)
    out = []
    for i, (d, name, note) in enumerate(lines):
        prefix = ""
        if d:
            for a in range(1, d):  # an open ancestor at depth a draws its vertical line
                anc = max(j for j in range(i) if lines[j][0] == a)
                prefix += "    " if last[anc] else "│   "
            prefix += "└── " if last[i] else "├── "
        out.append(prefix + name + (f"    ← {note}" if note else ""))
    return "\n".join(out)


def layout_tree(dataset: str) -> str:
    """The folder tree the reader of ``dataset`` expects under its data_root (for megc2019: the
    three roots), from the readers' own file names."""
    from ..data.readers import _CASME2_LAYOUTS, CASME2_SHEETS, SAMM_SHEET

    if dataset == "casme2":
        raw, cropped = _CASME2_LAYOUTS["raw"][0], _CASME2_LAYOUTS["cropped"][0]
        return _tree([(0, "data_root/", ""), (1, CASME2_SHEETS[0], "or " + ", ".join(CASME2_SHEETS[1:])),
                      (1, f"{raw}/", f"or {cropped}/ with reg_img46.jpg …"), (2, "sub01/", "Subject 1"),
                      (3, "EP02_01f/", "Filename"), (4, "img46.jpg …", "absolute frame numbers")])
    if dataset == "samm":
        return _tree([(0, "data_root/", ""), (1, SAMM_SHEET, "header on Excel row 14"), (1, "SAMM/", ""),
                      (2, "006/", "Subject"), (3, "006_1_2/", "Filename"), (4, "006_05562.jpg …", "subject_frame")])
    if dataset == "smic_hs":
        return _tree([(0, "data_root/", "no sheet: onset, offset = first, last frame"), (1, "HS/", ""),
                      (2, "s1/", "subject"), (3, "micro/", ""), (4, "positive/ negative/ surprise/", "the class"),
                      (5, "s1_po_01/", "a clip"), (6, "*.bmp", "absolute frame numbers")])
    if dataset == "megc2019":
        return _tree([(0, "casme2_root/", "the CASME II tree"), (0, "samm_root/", "the SAMM tree"),
                      (0, "smic_root/", "the SMIC-HS tree (holding HS/)")])
    raise ValueError(f"no layout for {dataset!r}: casme2, samm, smic_hs or megc2019")


def folder_tree(root: str | Path, depth: int = 4, per_dir: int = 2) -> str:
    """``root`` drawn as a tree down to ``depth`` levels, the first ``per_dir`` entries of each
    folder in natural order (img9 before img10) and how many more there are."""
    import re

    def key(p):
        return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", p.name)]

    root = Path(root)
    lines = [(0, root.name + "/", "")]

    def walk(folder: Path, d: int):
        entries = sorted(folder.iterdir(), key=key)
        for p in entries[:per_dir]:
            lines.append((d, p.name + ("/" if p.is_dir() else ""), ""))
            if p.is_dir() and d < depth:
                walk(p, d + 1)
        if len(entries) > per_dir:
            lines.append((d, f"… {len(entries) - per_dir} more", ""))

    walk(root, 1)
    return _tree(lines)


def run_cli(args, shown: dict | None = None) -> tuple[str, str]:
    """Run ``cmnet ARGS`` (this interpreter's cmnet) and return the command as a reader would type
    it (``shown`` maps real paths to their short names) and its output; a failure raises with it."""
    args = [str(a) for a in args]
    done = subprocess.run([sys.executable, "-m", "cmnet.cli", *args], capture_output=True, text=True)
    command = "cmnet " + shlex.join(args)
    output = done.stdout + done.stderr
    for real, short in sorted((shown or {}).items(), key=lambda kv: -len(str(kv[0]))):
        command, output = command.replace(str(real), short), output.replace(str(real), short)
    if done.returncode:
        raise RuntimeError(f"{command} exited {done.returncode}:\n{output}")
    return command, output


def damage_copy(src: str | Path, dst: str | Path) -> list[str]:
    """Copy a CASME II-layout folder to ``dst`` and plant two of CASME II's documented defects:
    the first row's apex written as "/" (the reader estimates it: repaired), the second row's
    middle frame file deleted (a hole between onset and offset: the clip is excluded). Returns
    one sentence per defect planted."""
    from openpyxl import load_workbook

    src, dst = Path(src), Path(dst)
    shutil.copytree(src, dst)
    sheet = next(dst.glob("CASME2-coding-*.xlsx"))
    wb = load_workbook(sheet)
    ws = wb.active
    head = [c.value for c in ws[1]]
    col = {name: head.index(name) + 1 for name in ("Subject", "Filename", "OnsetFrame", "ApexFrame", "OffsetFrame")}
    planted = []
    ws.cell(2, col["ApexFrame"]).value = "/"
    first = f"sub{int(ws.cell(2, col['Subject']).value):02d}/{ws.cell(2, col['Filename']).value}"
    planted.append(f"{first}: apex written as '/'")
    on, off = int(ws.cell(3, col["OnsetFrame"]).value), int(ws.cell(3, col["OffsetFrame"]).value)
    second = f"sub{int(ws.cell(3, col['Subject']).value):02d}/{ws.cell(3, col['Filename']).value}"
    frame = dst / "CASME2_RAW_selected" / second / f"img{(on + off) // 2}.jpg"
    frame.unlink()
    planted.append(f"{second}: frame file {frame.name} deleted")
    wb.save(sheet)
    return planted


def outcome_sentence(clean, damaged, report, shown: dict | None = None) -> str:
    """What the reader made of a damaged copy (``damage_copy``), from its report: the rows it
    repaired and excluded, with their reasons, and the clips left (``shown``: real paths → short names)."""
    def rows(kind):
        found = report.repairs if kind == "repaired" else report.exclusions
        return "; ".join(f"`{r.clip}`: {r.reason}" for r in found) or "none"

    n_rep, n_exc = len(report.repairs), len(report.exclusions)
    lost = len(clean) - len(damaged)
    text = (f"the reader repaired {n_rep} row{'s' * (n_rep != 1)} ({rows('repaired')}) and excluded {n_exc} "
            f"({rows('excluded')}); {len(damaged)} of {len(clean)} clips remain, and "
            + ("every clip lost is named in the report." if lost == n_exc else
               f"{lost} clips are missing but {n_exc} exclusions are reported: read the report."))
    for real, short in (shown or {}).items():
        text = text.replace(str(real), short)
    return text
