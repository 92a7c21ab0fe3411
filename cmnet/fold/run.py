"""One fold's life: train on ``fold.train``, evaluate the last epoch on ``fold.test``, write
its folder (cmnet.runs.layout names every file), resumable.

    result = run_fold(cfg, cache, classes, fold, out_dir)

Every write is atomic and checksummed (cmnet.io). A folder made with other settings is refused
(FingerprintError naming the keys, old → new: cmnet.runs.fingerprint.reuse decides); a finished
fold is read as it is; a trained fold whose other files are damaged is written again from its
final.pt (``refinish_fold``); an interrupted one resumes from last.pt; a damaged last.pt means
training again from epoch 1.

Protocol: a fixed number of epochs and the last epoch evaluated; no epoch is chosen on the
test subject. Each epoch's randomness is seeded from (seed, epoch) (cmnet.fold.loop.epoch_seed),
so a fold resumed from its last checkpoint ends with the same numbers as an uninterrupted run.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

import numpy as np
import torch

from .. import io as fio
from ..data.splits import Fold
from ..preprocess.cache import ClipCache, cache_content
from ..runs import layout as L
from ..runs.fingerprint import fold_fingerprint, reuse
from ..runs.lock import FolderLock
from ..runs.provenance import environment
from . import FoldError
from .device import resolve_device
from .evaluate import evaluate, ice_diagnostics
from .loop import Kit, build, epoch_seed, train_epoch
from .scalars import ScalarLog

log = logging.getLogger("cmnet.fold")

FINAL_EVAL, FINAL_DIAGNOSTICS = 10**6, 10**6 + 1  # the epochs whose seeds draw the final evaluation's randomness


class FingerprintError(FoldError):
    """A fold folder was made with other settings than those asked for now; names the keys."""


def run_fold(cfg, cache: ClipCache, classes, fold: Fold, out_dir: str | Path, progress: bool = True) -> dict:
    """Train on ``fold.train``, evaluate the last epoch on ``fold.test``; resumable. A folder
    made with other settings raises FingerprintError; a damaged artifact is recomputed."""
    out = Path(out_dir)
    cfg.validate(f"fold {fold.subject}")
    classes = list(classes)
    with FolderLock(out, "fold"):
        fp = fold_fingerprint(cfg, cache_content(cache), fold.subject)
        verdict = reuse(out, fp)
        if verdict.refused:
            raise FingerprintError(f"{out} was made with other settings ({'; '.join(verdict.changes)}); give the run "
                                   "another name, or remove that folder (cmnet study --discard-changed does it "
                                   "for a study)")
        if verdict.kind == "cache_only":
            log.warning("%s was trained on another clip cache (%s); its finished results are read as they are, "
                        "not retrained", out, verdict.changes[0])
        if verdict.result is not None:
            return verdict.result
        unknown = sorted(set(cache.labels.tolist()) - set(classes))
        if unknown:
            raise FoldError(f"fold {fold.subject}: labels {unknown} are not classes of {cfg.data.dataset} ({classes})")
        if fio.problem(out / L.FINGERPRINT) is not None:  # new, or lost while its config.json says the same
            fio.write_text(out / L.FINGERPRINT, json.dumps(fp, indent=1))
        if (out / L.FINAL).is_file() and fio.problem(out / L.FINAL) is None:
            return refinish_fold(cfg, cache, classes, fold, out)
        fio.forget(out / L.DONE)  # damaged or unfinished: the fold is not done
        return _train_fold(cfg, cache, classes, fold, out, progress)


def refinish_fold(cfg, cache: ClipCache, classes, fold: Fold, out: Path) -> dict:
    """A trained fold's artifacts written again from its intact final.pt (no training)."""
    device = resolve_device(cfg.train.device)
    state = _load(out / L.FINAL, device)
    if "history" not in state:
        raise FoldError(f"{out / L.FINAL} holds no training history (an older cmnet); remove {out} to train again")
    torch.manual_seed(cfg.train.seed)
    kit = build(cfg, len(classes), device)
    kit.model.load_state_dict(state["model"])
    kit.crit.load_state_dict(state["loss"])
    history = json.loads(state["history"])
    L.write_history(out, history)
    log.info("fold %s: artifacts written again from %s", fold.subject, out / L.FINAL)
    return finish_fold(cfg, kit, cache, classes, fold, out, history)


def _load(path: Path, device) -> dict:
    """A checkpoint this package wrote (tensors and plain values: ``weights_only``); anything else
    (a file torch cannot read, or one that would need unpickling code) is a FoldError naming it."""
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except Exception as e:  # torch raises many kinds on a file that is not its own
        first = (str(e).strip().splitlines() or [""])[0][:160]
        raise FoldError(f"{path}: not a checkpoint cmnet wrote ({type(e).__name__}: {first}); remove it to train "
                        "the fold again") from None
    if not isinstance(state, dict) or "model" not in state:
        raise FoldError(f"{path}: not a checkpoint cmnet wrote (no model state); remove it to train the fold again")
    return state


def note_resume(out: Path, epoch: int) -> None:
    """One line in the fold's resumes.jsonl per resume: after which epoch, by which process."""
    import socket

    old = (out / L.RESUMES).read_text() if (out / L.RESUMES).is_file() else ""
    line = {"after_epoch": epoch, "host": socket.gethostname(), "pid": os.getpid(),
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    fio.write_text(out / L.RESUMES, old + json.dumps(line) + "\n")


def _resume(kit: Kit, out: Path, subject: str) -> tuple[int, list[dict]]:
    """(epochs done, their history) from the fold's last.pt; (0, []) when there is none, or
    when it is damaged (then it is removed and the fold starts again)."""
    ckpt = out / L.LAST
    why = fio.problem(ckpt) if ckpt.is_file() else None
    if why:
        log.warning("fold %s: checkpoint %s is damaged (%s); the fold starts again from epoch 1", subject, ckpt, why)
        fio.forget(ckpt)
    if not ckpt.is_file():
        return 0, []
    state = _load(ckpt, kit.device)
    kit.model.load_state_dict(state["model"])
    kit.crit.load_state_dict(state["loss"])
    kit.opt.load_state_dict(state["optimizer"])
    kit.sched.load_state_dict(state["scheduler"])
    start = int(state["epoch"])
    log.info("fold %s: resuming after epoch %d", subject, start)
    note_resume(out, start)
    return start, json.loads(state["history"])


def _train_fold(cfg, cache: ClipCache, classes, fold: Fold, out: Path, progress: bool) -> dict:
    from tqdm import tqdm  # plain text bars: no widget (and no IProgress warning) in notebooks

    t = cfg.train
    device = resolve_device(t.device)
    torch.manual_seed(t.seed)
    kit = build(cfg, len(classes), device)
    fwd = torch.compile(kit.model) if t.compile else kit.model
    fio.write_text(out / L.CONFIG, json.dumps(cfg.to_flat(), indent=1))
    fio.write_text(out / L.ENV, json.dumps(environment(device), indent=1))
    start, history = _resume(kit, out, fold.subject)
    train_idx, test_idx = np.asarray(fold.train), np.asarray(fold.test)
    y_all = torch.tensor([classes.index(lab) for lab in cache.labels])
    apex_all = torch.as_tensor(cache.apex)
    truth_all = None  # the clips' true intensity: read only by the controls that are given or taught it
    if cfg.model.k_source == "oracle" or cfg.loss.tendency == "truth":
        truth_all = torch.as_tensor(np.asarray(cache.intensity, dtype=np.float32))
        missing = ~np.isfinite(np.asarray(cache.intensity)[train_idx]).all(1)
        if missing.any():
            raise FoldError(f"fold {fold.subject}: k_source {cfg.model.k_source!r} / tendency {cfg.loss.tendency!r} "
                            f"needs the true intensity of every clip; {int(missing.sum())} training clips have none "
                            f"(e.g. {cache.keys[train_idx][missing][0]}): SynthME's ground truth only")
    bar = tqdm(range(start, t.epochs), desc=f"fold {fold.subject}", unit="epoch", leave=False, disable=not progress,
               initial=start, total=t.epochs)
    scalars = ScalarLog(out, start, t.tensorboard)
    for epoch in bar:
        t0 = time.perf_counter()
        s = epoch_seed(t.seed, epoch)
        cpu_gen = torch.Generator().manual_seed(s)
        dev_gen = torch.Generator(device=device).manual_seed(s)
        perm = train_idx[torch.randperm(len(train_idx), generator=cpu_gen).numpy()]
        try:
            means = train_epoch(kit, fwd, cache, perm, y_all, apex_all, cpu_gen, dev_gen, truth_all)
        except FloatingPointError as e:
            scalars.close()  # the event file is complete up to the last good epoch
            raise FoldError(f"fold {fold.subject}, epoch {epoch + 1}, {e}") from None
        kit.sched.step()
        rec = {"epoch": epoch + 1, "lr": kit.opt.param_groups[0]["lr"],
               "seconds": round(time.perf_counter() - t0, 3)} | means
        if t.eval_every and ((epoch + 1) % t.eval_every == 0 or epoch + 1 == t.epochs):
            rec |= {f"test_{k}": v for k, v in evaluate(kit, cache, test_idx, classes, s)["metrics"].items()}
        history.append(rec)
        L.write_history(out, history)
        fio.torch_save({"model": kit.model.state_dict(), "loss": kit.crit.state_dict(),
                        "optimizer": kit.opt.state_dict(), "scheduler": kit.sched.state_dict(), "epoch": epoch + 1,
                        "history": json.dumps(history)}, out / L.LAST)
        scalars.epoch(rec)
        bar.set_postfix(loss=f"{rec['train_loss']:.3f}", acc=f"{rec['train_acc']:.2f}")
    bar.close()
    scalars.close()
    return finish_fold(cfg, kit, cache, classes, fold, out, history)


def finish_fold(cfg, kit: Kit, cache: ClipCache, classes, fold: Fold, out: Path, history: list[dict]) -> dict:
    """The last epoch on the test clips: predictions, intensities, the ICE diagnostic, the
    final weights, then done.json (last: it marks the fold finished)."""
    test_idx = np.asarray(fold.test)
    ev = evaluate(kit, cache, test_idx, classes, epoch_seed(cfg.train.seed, FINAL_EVAL))
    L.write_predictions(out, classes, cache.keys[test_idx], cache.subjects[test_idx], ev["y"], ev["pred"], ev["probs"])
    if "k" in ev:
        L.write_intensity(out, kit.crit.prototype.eta.detach().cpu().numpy(), keys=cache.keys[test_idx], k=ev["k"],
                          q=ev["q"], q_mean=ev["q_mean"], q_std=ev["q_std"], truth=cache.intensity[test_idx],
                          apex=cache.apex[test_idx])
    if hasattr(kit.model, "ice") and kit.crit.needs_views:  # λ1 = 0: no views anywhere (k's range is in intensity.npz)
        diag = ice_diagnostics(kit, cache, test_idx, epoch_seed(cfg.train.seed, FINAL_DIAGNOSTICS))
        fio.write_text(out / L.DIAGNOSTICS, json.dumps(diag, indent=1))
    fio.torch_save({"model": kit.model.state_dict(), "loss": kit.crit.state_dict(), "classes": list(classes),
                    "config": json.dumps(cfg.to_flat()), "history": json.dumps(history)}, out / L.FINAL)
    result = {"fold": fold.subject, "n_test": len(test_idx), "epochs": cfg.train.epochs,
              "seconds": round(sum(r["seconds"] for r in history), 3), **ev["metrics"]}
    fio.write_text(out / L.DONE, json.dumps(result, indent=1))
    fio.forget(out / L.LAST)  # the fold is finished; final.pt holds the weights
    return result
