"""What produced a fold folder, and the one verdict on whether it may be reused.

    fp = fold_fingerprint(cfg, cache_content)   the result-relevant configuration, the clip
                                                cache's content hash, the package version, the commit
    fingerprint_changes(old, new)               ["epochs: 2 → 3", …]: what differs in what decides results
    v = reuse(fold_folder, fp)                  v.kind: new · same · cache_only · changed; v.result:
                                                done.json's metrics when the fold is finished and intact

``reuse`` is asked by the fold (cmnet.fold.run: "changed" is refused) and by the study for
all its folds before anything is trained (cmnet.study.plan: a study also refuses folds that
differ only in the clip cache while some other fold of it would be trained).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from .. import io as fio
from .layout import CONFIG, DONE, FINGERPRINT, finished_result
from .provenance import git_commit

log = logging.getLogger("cmnet.runs")

CACHE_CHANGE = "clip cache content: "
NOT_RECORDED = "not recorded"  # a fold without fingerprint.json: its config.json is compared, nothing else


def fold_fingerprint(cfg, cache_content: str, fold: str | None = None) -> dict:
    """What decides a fold's numbers: the configuration without the keys that cannot change
    them (cmnet.config.NOT_IN_FINGERPRINT; the seed is in it), the study's name (recorded,
    not compared) and the test subject ``fold`` (a folder knows whose it is), the clip cache's content hash, the package
    version; the git commit is recorded beside them (see fingerprint_changes)."""
    import cmnet

    fp = {"config": _fingerprinted(cfg.to_flat()), "cache": cache_content, "cmnet": cmnet.__version__,
          "git_commit": git_commit()}
    return fp | {"study": cfg.study.name} | ({"fold": fold} if fold is not None else {})


def _fingerprinted(flat: dict) -> dict:
    from ..config import NOT_IN_FINGERPRINT

    out = {k: v for k, v in flat.items() if k not in NOT_IN_FINGERPRINT}
    if out.get("protocol", "loso") == "loso":  # K decides nothing under LOSO
        out.pop("kfold_k", None)
    return out


def fingerprint_changes(old: dict, new: dict) -> list[str]:
    """What differs between two fingerprints in what decides results, as "key: old → new".
    The git commit is not compared (every commit, documentation ones too, would otherwise
    discard all runs); it is recorded in each fold's fingerprint.json and env.json."""
    from ..config import ADDED_KEYS

    out = []
    nc = new.get("config", {})
    # a key added since the old fold was recorded reads as the value that reproduces that fold
    oc = {k: v for k, v in ADDED_KEYS.items() if k in nc and "config" in old} | old.get("config", {})
    for k in sorted(set(oc) | set(nc)):
        if k in nc and k in oc and oc[k] != nc[k]:
            out.append(f"{k}: {oc[k]!r} → {nc[k]!r}")
        elif k not in oc:
            out.append(f"{k}: (not recorded) → {nc[k]!r}")
        elif k not in nc:
            out.append(f"{k}: {oc[k]!r} → (no such key now)")
    # the study's name is recorded, not compared: a study renamed (or copied under another
    # name) with the same settings holds the same computation
    if "fold" in old and "fold" in new and old["fold"] != new["fold"]:  # older folders did not record it
        out.append(f"fold: {old['fold']} → {new['fold']} (this folder is another fold's)")
    if old.get("cache") != new.get("cache") and old.get("cache") != NOT_RECORDED:
        out.append(f"{CACHE_CHANGE}{str(old.get('cache'))[:12]} → {str(new.get('cache'))[:12]}")
    if old.get("cmnet") != new.get("cmnet") and old.get("cmnet") != NOT_RECORDED:
        out.append(f"cmnet version: {old.get('cmnet')} → {new.get('cmnet')}")
    return out




def only_cache_changed(changes: list[str]) -> bool:
    """The only difference is the clip cache's content (e.g. the same SynthME generated and
    preprocessed on another machine, whose JPEG encoder rounds differently)."""
    return len(changes) == 1 and changes[0].startswith(CACHE_CHANGE)


def recorded_fingerprint(folder: Path) -> dict | None:
    """The fingerprint a fold folder was made with; None for a folder nothing was written to.
    A folder without fingerprint.json (an older cmnet's, or one whose file was deleted) gives its
    config.json's keys that decide results; its cache and version are then not compared."""
    folder = Path(folder)
    seen = []
    for p, wrap in ((folder / FINGERPRINT, False), (folder / CONFIG, True)):
        if p.is_file():
            why = fio.problem(p)
            if why and not why.startswith("no size"):  # damaged: try the other record
                seen.append(f"{p.name} damaged")
                continue
            try:
                data = json.loads(p.read_text())
            except (OSError, ValueError):
                seen.append(f"{p.name} unreadable")
                continue
            if wrap:
                return {"config": _fingerprinted(data), "cache": NOT_RECORDED, "cmnet": NOT_RECORDED}
            return data
    if seen:
        return {"config": {}, "cache": "unknown", "cmnet": "unknown (" + ", ".join(seen) + ")"}
    return None


@dataclass
class Reuse:
    """May a fold folder be reused for a fingerprint? ``kind``: ``new`` (nothing recorded),
    ``same`` (recorded with these settings), ``cache_only`` (finished, and only the clip
    cache's content differs: e.g. trained on another machine's cache), ``changed``."""

    kind: str
    changes: list[str] = field(default_factory=list)
    result: dict | None = None  # done.json's metrics of a finished, intact fold

    @property
    def refused(self) -> bool:
        return self.kind == "changed"


def reuse(folder: Path, fp: dict) -> Reuse:
    """The verdict on ``folder`` for a fold to be made with fingerprint ``fp``: a finished fold
    whose done.json names another fold than ``fp``'s is refused too."""
    old = recorded_fingerprint(folder)
    result = finished_result(folder)
    if result is not None and "fold" in fp and result.get("fold") != fp["fold"]:
        return Reuse("changed", [f"fold: {result.get('fold')} → {fp['fold']} (its {DONE} is another fold's)"])
    if old is None:
        return Reuse("new", result=result)
    changes = fingerprint_changes(old, fp)
    if not changes:
        if old.get("git_commit") not in (None, fp["git_commit"]):
            log.info("%s: begun under commit %s, used under %s (same settings and version)", folder,
                     str(old.get("git_commit"))[:10], fp["git_commit"][:10])
        return Reuse("same", result=result)
    if only_cache_changed(changes) and result is not None:
        return Reuse("cache_only", changes, result)
    return Reuse("changed", changes)
