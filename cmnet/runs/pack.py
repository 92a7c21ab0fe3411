"""Carrying studies between machines: whole study folders into one .tar.gz, with or
without their weights.

    pack([runs/a, runs/b], "studies.tar.gz")   members <name>/…: tar -xzf ARCHIVE -C runs/
    strip_weights(fold_folder)                 a finished fold without its .pt files (still finished)
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

from .. import io as fio
from .layout import DONE, LOCK, SEEDS, STUDY, WEIGHTS, UnfinishedStudy, is_study, refuse_unfinished


def strip_weights(folder: Path) -> int:
    """Remove a finished fold's weight files (final.pt, last.pt) and their records, e.g. to
    carry a study's artifacts from a GPU machine: the fold still reads as finished (its
    tables need no weights), but a damaged file of it can then only be recomputed by
    training again. Returns the bytes freed."""
    freed = 0
    for name in WEIGHTS:
        p = Path(folder) / name
        if p.is_file():
            freed += p.stat().st_size
        fio.forget(p)
    return freed



def pack(studies: list[Path], out: Path, weights: bool = False, overwrite: bool = False, partial: bool = False) -> dict:
    """One .tar.gz of whole study folders (``runs/<name>/``), members named ``<name>/…`` so that
    ``tar -xzf ARCHIVE -C runs/`` puts them back. Without ``weights`` the .pt files are left out
    and each fold's checksums.json in the archive forgets them (as strip_weights does): the
    folds read as finished where they are unpacked. Locks and temporary files stay behind.
    An existing ``out`` is kept unless ``overwrite``; ``out`` inside a packed study, two studies
    of one name, or a folder that is not a study are refused before anything is written; a
    failed pack leaves nothing. A study whose planned folds are not all finished (or that has
    none finished) is refused unless ``partial``. Returns {"path", "bytes", "files", "folds"}."""
    import tarfile

    out, studies = Path(out), [Path(s) for s in studies]
    _refuse(studies, out, overwrite)
    for study in studies:
        refuse_unfinished(study, partial, "pack")
        if not partial and not any(study.glob(f"{SEEDS}/*/{DONE}")):
            raise UnfinishedStudy(f"{study}: no finished fold to pack (--partial packs it as it is)")
    out.parent.mkdir(parents=True, exist_ok=True)
    n_files = n_folds = 0
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        with tarfile.open(tmp, "w:gz") as tar:
            for study in studies:
                for p in sorted(study.rglob("*")):
                    if not p.is_file() or p.name == LOCK or p.name.endswith(".tmp"):
                        continue
                    if p.suffix == ".pt" and not weights:
                        continue
                    name = f"{study.name}/{p.relative_to(study).as_posix()}"
                    if p.name == fio.CHECKSUMS and not weights:
                        rec = {k: v for k, v in fio.read_checksums(p.parent).items() if not k.endswith(".pt")}
                        data = json.dumps(rec, indent=1, sort_keys=True).encode()
                        info = tarfile.TarInfo(name)
                        info.size, info.mtime = len(data), int(p.stat().st_mtime)
                        tar.addfile(info, io.BytesIO(data))
                    else:
                        tar.add(p, arcname=name)
                    n_files += 1
                    n_folds += p.name == DONE
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, out)
    return {"path": out, "bytes": out.stat().st_size, "files": n_files, "folds": n_folds}


def _refuse(studies: list[Path], out: Path, overwrite: bool) -> None:
    if out.is_dir():
        raise ValueError(f"--out {out}: a folder; give the archive's file name (e.g. {out / 'studies.tar.gz'})")
    if not out.name.endswith((".tar.gz", ".tgz")):
        raise ValueError(f"--out {out}: the archive is a gzipped tar; name it ….tar.gz (e.g. "
                         f"{out.with_name(out.name.split('.')[0] + '.tar.gz')})")
    for study in studies:
        if not is_study(study):
            raise FileNotFoundError(f"{study}: not a study folder (no {STUDY}, no {SEEDS}/)")
        if out.resolve().is_relative_to(study.resolve()):
            raise ValueError(f"--out {out} is inside the study {study} it packs: write the archive elsewhere")
    names = [s.name for s in studies]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"two studies named {', '.join(twice)} ({', '.join(str(s) for s in studies if s.name in twice)}): "
                         "their folds would be merged in the archive; pack them into separate archives")
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} exists; choose another --out, or --force to replace it")
