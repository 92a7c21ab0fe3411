"""Train and evaluate one fold.

    result = run_fold(cfg, cache, classes, fold, out_dir)

The fold folder receives (each write atomic: a temporary file, then a rename):
    config.json       the resolved config (flat)
    env.json          package versions, git commit, device
    metrics.jsonl     one line per epoch: training losses and accuracy; test metrics
                      (monitoring only: the reported numbers are the last epoch's)
    last.pt           checkpoint after every epoch (resume point)
    final.pt          the final weights (model and loss, ``weights_only=True`` loadable)
    predictions.csv   per test clip: key, subject, true and predicted class, probabilities
    intensity.npz     per test clip and frame: k, the prototype mean/std and a draw q,
                      the ground-truth intensity (SynthME; NaN otherwise), the apex
    diagnostics.json  CMNet with λ1 > 0: the L_ID shortcut diagnostic of the trained ICE on the test
                      clips (cmnet.diagnostics; views drawn with a fixed seed)
    done.json         the final metrics; its presence marks the fold finished
    resumes.jsonl     one line per resume from last.pt (after which epoch, host, pid), if any
    fingerprint.json  what produced the folder (cmnet.runs.fold_fingerprint): a fold made with
                      other settings is never reused (FingerprintError names the keys, old → new)
    checksums.json    size and SHA-256 of every file above, recorded as it is written: a damaged file
                      is recomputed (the finished fold's files from final.pt, a damaged last.pt by
                      training again), never read

Protocol: a fixed number of epochs and the last epoch evaluated; no epoch is chosen on
the test subject. Each epoch's randomness (shuffle, augmentation, negatives, prototype
draws) is seeded from (seed, epoch), so a fold resumed from its last checkpoint ends with
the same numbers as an uninterrupted run.

Shapes: B clips, N frames, 3×S×S pixels, C classes.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import platform
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch

from . import runs
from .augment import augment_views, normalize, random_affine
from .config import Config
from .data.splits import Fold
from .inputs import encoder_input
from .losses import CMNetLoss
from .metrics import all_metrics
from .models import create_model, model_input
from .monitor import ScalarLog
from .preprocess.cache import ClipCache

log = logging.getLogger("cmnet.train")


class FoldError(RuntimeError):
    """A fold could not finish (e.g. a non-finite loss); names the fold."""


# ------------------------------------------------------------------ files
# every write of a fold artifact: atomic, checked, its size and checksum recorded (cmnet.runs)

atomic_write_bytes = runs.write_bytes
atomic_write_text = runs.write_text
atomic_torch_save = runs.torch_save


def environment(device: torch.device) -> dict:  # pragma: no mutate block (out of scope)
    import cv2
    import sklearn

    import cmnet

    commit = runs.git_commit()
    dev = torch.cuda.get_device_name(device) if device.type == "cuda" else (platform.processor() or platform.machine())
    return {
        "python": platform.python_version(), "cmnet": cmnet.__version__, "torch": torch.__version__,
        "numpy": np.__version__, "opencv": cv2.__version__, "scikit-learn": sklearn.__version__,
        "git_commit": commit, "device": str(device), "device_name": dev, "cpu_threads": torch.get_num_threads(),
        "platform": platform.platform(), "cpu_model": cpu_model(), "cpu_capability": torch.backends.cpu.get_cpu_capability(),
    }


def cpu_model() -> str:  # pragma: no mutate block (out of scope)
    """The processor's model name (Linux: /proc/cpuinfo). Recorded because the same seed gives
    other numbers on another CPU: its vector kernels round differently, and training amplifies it."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


# ------------------------------------------------------------------ set-up

def resolve_device(name: str) -> torch.device:  # pragma: no mutate block (out of scope)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise FoldError(f"device {name!r} asked for, but CUDA is not available here")
    return dev


def autocast_for(cfg: Config, device: torch.device):  # pragma: no mutate block (out of scope)
    prec = cfg.train.precision
    if prec == "auto":
        prec = "bf16" if device.type == "cuda" else "fp32"
    if prec == "bf16":
        return lambda: torch.autocast(device.type, dtype=torch.bfloat16)
    if prec == "fp32":
        return nullcontext
    raise ValueError(f"precision must be auto, bf16 or fp32, got {prec!r}")


def is_pair(cfg: Config) -> bool:
    return model_input(cfg.model.model) == "pair"


def build(cfg: Config, num_classes: int, device: torch.device):  # pragma: no mutate block (out of scope)
    m = cfg.model
    if m.model == "mmnet":
        kwargs = {"num_classes": num_classes, "image_size": cfg.preprocess.size}
    else:
        kwargs = {"num_classes": num_classes, "pretrained": m.pretrained or None, "lstm_hidden": m.lstm_hidden}
    if m.model == "cmnet":
        kwargs |= {"ice_width": m.ice_width, "ice_depth": m.ice_depth, "embed_dim": m.embed_dim,
                   "ice_bn": m.ice_bn, "k_init": m.k_init, "eps": cfg.loss.eps}
    model = create_model(m.model, **kwargs).to(device)
    if cfg.train.channels_last:
        model = model.to(memory_format=torch.channels_last)
    lo = cfg.loss
    crit = CMNetLoss(
        n_frames=cfg.preprocess.frames, lambdas=(lo.lambda_id, lo.lambda_wrst, lo.lambda_ce), sampler=lo.sampler,
        tau=lo.tau, num_negatives=lo.num_negatives, eps=lo.eps, alpha=lo.alpha, xi=lo.xi,
        rank_temperature=lo.rank_temperature, p=lo.p_reading, eta_init=lo.eta_init, negatives=lo.negatives,
        tendency=lo.tendency,
    ).to(device)
    params = list(model.parameters()) + list(crit.parameters())
    t = cfg.train
    if t.optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=t.lr, momentum=t.momentum, weight_decay=t.weight_decay)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=t.lr_step, gamma=t.lr_gamma)
    elif t.optimizer == "adamw":
        opt = torch.optim.AdamW(params, lr=t.lr, weight_decay=t.weight_decay)
        stop = t.lr_decay_epochs or 10**9
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda e: t.lr_gamma ** min(e, stop))
    else:
        raise ValueError(f"optimizer must be sgd or adamw, got {t.optimizer!r}")
    return model, crit, opt, sched


def epoch_seed(seed: int, epoch: int) -> int:
    return (seed * 1_000_003 + epoch * 7919) % (2**31 - 1)


# ------------------------------------------------------------------ batches

def load_batch(cache: ClipCache, idx, device, channels_last: bool, pair: bool = False, gen=None) -> torch.Tensor:
    """(B, N, 3, S, S) float in [0, 1] on ``device`` (uint8 goes over the bus). ``pair``:
    (B, 2, 3, S, S) onset and apex frames from the original sequence — with ``gen`` (training)
    each drawn among its jittered candidates, else the annotated ones."""
    if pair:
        if cache.pairs is None:
            raise FoldError("a pair model needs a cache built with pairs (prepare_cache does this)")
        counts = cache.pair_counts[idx]  # (B,2)
        pick = np.zeros_like(counts)
        if gen is not None:
            pick = (torch.rand(counts.shape, generator=gen).numpy() * counts).astype(np.int64)
        raw = np.stack([np.stack([cache.pairs[i, r, pick[j, r]] for r in range(2)]) for j, i in enumerate(idx)])
    else:
        raw = cache.frames[idx]
    x = torch.from_numpy(np.ascontiguousarray(raw))
    x = x.to(device, non_blocking=True).permute(0, 1, 4, 2, 3).float().div_(255)  # (B,N,3,S,S)
    if channels_last:  # each frame NHWC in memory; flatten(0, 1) stays a view
        x = x.permute(0, 1, 3, 4, 2).contiguous().permute(0, 1, 4, 2, 3)
    return x


def model_input_of(x: torch.Tensor, cfg: Config) -> torch.Tensor:
    """What the encoders see (``cfg.model.input``), still in [0, 1]; pair models take x as is."""
    return x if is_pair(cfg) else encoder_input(x, cfg.model.input, cfg.model.diff_gain)


def make_views(x: torch.Tensor, cfg: Config, gen) -> tuple[torch.Tensor, torch.Tensor]:  # pragma: no mutate block (out of scope)
    """Two independently augmented, normalised copies of the clips x (B, N, 3, S, S)."""
    flat = x.flatten(0, 1)
    return tuple(normalize(augment_views(flat, cfg.train, gen)).view_as(x) for _ in range(2))


def train_step(model, crit, opt, x, y, apex, cfg: Config, amp, gen):  # pragma: no mutate block (out of scope)
    """One optimisation step on clips x (B, N, 3, S, S) in [0, 1]: flip, views (only when
    λ1 > 0), forward, Eq. 10, backward, update. Returns (loss, parts, logits); a
    non-finite loss raises FloatingPointError before any update."""
    if cfg.train.hflip:
        flip = torch.rand(x.shape[0], generator=gen, device=x.device) < 0.5
        x = torch.where(flip[:, None, None, None, None], x.flip(-1), x)
    x = random_affine(x, cfg.train.affine_rotate, cfg.train.affine_translate, gen)
    x = model_input_of(x, cfg)
    views = make_views(x, cfg, gen) if crit.needs_views else None
    with amp():
        out = model(normalize(x), views=views)
    loss, parts = crit(out, y, apex, gen)
    if not torch.isfinite(loss):
        vals = {k: v.detach().item() for k, v in parts.items() if v.dim() == 0}
        raise FloatingPointError(f"loss is {loss.detach().item()} (parts {vals}); lower lr or check the inputs")
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return loss, parts, out.logits


# ------------------------------------------------------------------ evaluation

def evaluate(model, crit, cache, idx, classes, cfg, device, amp, seed: int) -> dict:
    with torch.no_grad():  # a block, not a decorator, so mutation testing reaches this function
        return _evaluate(model, crit, cache, idx, classes, cfg, device, amp, seed)


def _evaluate(model, crit, cache, idx, classes, cfg, device, amp, seed: int) -> dict:
    model.eval()
    probs, ks = [], []
    bs = max(1, cfg.train.batch_size)
    for i in range(0, len(idx), bs):
        b = idx[i : i + bs]
        with amp():
            x = load_batch(cache, b, device, cfg.train.channels_last, is_pair(cfg))
            out = model(normalize(model_input_of(x, cfg)))
        probs.append(out.logits.float().softmax(-1).cpu())
        if out.k is not None:
            ks.append(out.k.float().cpu())
    model.train()
    probs = torch.cat(probs).numpy()
    pred = probs.argmax(1)
    y = np.array([classes.index(lab) for lab in cache.labels[idx]])
    res = {"probs": probs, "pred": pred, "y": y, "metrics": all_metrics(y, pred)}
    if ks:
        apex = torch.as_tensor(cache.apex[idx])
        gen = torch.Generator(device=device).manual_seed(seed)
        q, mean, std = crit.prototype(apex.to(device), gen)
        res |= {"k": torch.cat(ks).numpy(), "q": q.cpu().numpy(), "q_mean": mean.cpu().numpy(),
                "q_std": std.detach().cpu().numpy()}
    return res


@torch.no_grad()
def ice_diagnostics(model, cache, idx, cfg, device, amp, seed: int) -> dict:
    """The shortcut diagnostic (cmnet.diagnostics) of a CMNet's ICE on clips ``idx``, in
    evaluation mode, with two views augmented as in training."""
    from .diagnostics import shortcut_stats

    model.eval()
    gen = torch.Generator(device=device).manual_seed(seed)
    zs, z1s, z2s, ks = [], [], [], []
    for i in range(0, len(idx), max(1, cfg.train.batch_size)):
        x = model_input_of(load_batch(cache, idx[i : i + cfg.train.batch_size], device, cfg.train.channels_last), cfg)
        with amp():
            out = model(normalize(x), views=make_views(x, cfg, gen))
        zs.append(out.z.float()), z1s.append(out.z1.float()), z2s.append(out.z2.float()), ks.append(out.k.float())
    model.train()
    return shortcut_stats(torch.cat(zs), torch.cat(z1s), torch.cat(z2s), torch.cat(ks)) | {"clips": len(idx)}


# ------------------------------------------------------------------ the fold

def train_epoch(fwd, crit, opt, cache, perm, y_all, apex_all, cfg: Config, device, amp, cpu_gen, dev_gen) -> dict:  # pragma: no mutate block (out of scope)
    """One pass over the training clips in the order ``perm``: the training accuracy and
    each scalar loss term, means over the clips seen (``train_acc``, ``train_loss``, …).
    A non-finite loss raises FloatingPointError naming the step."""
    t = cfg.train
    sums, n_seen, correct = {}, 0, 0
    for i in range(0, len(perm), t.batch_size):
        b = perm[i : i + t.batch_size]
        x = load_batch(cache, b, device, t.channels_last, is_pair(cfg), cpu_gen)
        y, apex = y_all[b].to(device), apex_all[b].to(device)
        try:
            loss, parts, logits = train_step(fwd, crit, opt, x, y, apex, cfg, amp, dev_gen)
        except FloatingPointError as e:
            raise FloatingPointError(f"step {i // t.batch_size + 1}: {e}") from None
        k = len(b)
        n_seen += k
        correct += int((logits.argmax(1) == y).sum())
        for name, v in [("loss", loss)] + [(n, v) for n, v in parts.items() if v.dim() == 0]:
            sums[name] = sums.get(name, 0.0) + v.detach().item() * k
    return {"train_acc": correct / max(n_seen, 1)} | {f"train_{k}": v / max(n_seen, 1) for k, v in sums.items()}


class FingerprintError(FoldError):
    """A fold folder was made with other settings than those asked for now; names the keys."""


def cache_content(cache: ClipCache) -> str:
    from .preprocess.cache import content_hash

    return cache.manifest.get("content") or content_hash(cache)


def check_fingerprint(out: Path, fp: dict) -> None:
    """FingerprintError when ``out`` holds a fold made with settings other than ``fp``'s. A
    finished fold whose only difference is the clip cache's content is read as it is (with a
    warning): nothing is trained from the other cache."""
    old = runs.recorded_fingerprint(out)
    if old is None:
        return
    changes = runs.fingerprint_changes(old, fp)
    if runs.only_cache_changed(changes) and finished_result(out) is not None:
        log.warning("%s was trained on another clip cache (%s); its finished results are read as they are, "
                    "not retrained", out, changes[0])
        return
    if changes:
        raise FingerprintError(f"{out} was made with other settings ({'; '.join(changes)}); give the run "
                               "another name, or remove that folder (cmnet study --discard-changed does it "
                               "for a study)")
    if old.get("git_commit") not in (None, fp["git_commit"]):
        log.info("%s: begun under commit %s, used under %s (same settings and version)", out,
                 str(old.get("git_commit"))[:10], fp["git_commit"][:10])


FINISHED = ("done.json", "predictions.csv", "metrics.jsonl")  # and every other file recorded (final.pt
# too, unless its weights were stripped on purpose: cmnet.runs.strip_weights)


def finished_problems(out: Path) -> list[str]:
    """Why the finished fold ``out`` cannot be read as it is ([] when it can): each damaged
    or missing file, by path."""
    rec = runs.read_checksums(out)
    names = list(dict.fromkeys([*FINISHED, *rec]))
    return [f"{out / n}: {why}" for n in names if (why := runs.problem(out / n, rec))]


def finished_result(out: Path) -> dict | None:
    """done.json's metrics when ``out`` is a finished fold whose every file is intact; None
    otherwise (unfinished, or damaged: then each damaged file is logged by path)."""
    if not (out / "done.json").is_file():
        return None
    bad = finished_problems(out)
    if not bad:
        return json.loads((out / "done.json").read_text())
    log.warning("finished fold %s has damaged files, recomputed: %s", out, "; ".join(bad))
    return None


def refinish_fold(cfg: Config, cache: ClipCache, classes, fold: Fold, out: Path) -> dict:
    """A trained fold's artifacts written again from its intact final.pt (no training)."""
    device = resolve_device(cfg.train.device)
    state = torch.load(out / "final.pt", map_location=device, weights_only=True)
    if "history" not in state:
        raise FoldError(f"{out / 'final.pt'} holds no training history (an older cmnet); remove {out} to train again")
    torch.manual_seed(cfg.train.seed)
    model, crit, _, _ = build(cfg, len(classes), device)
    model.load_state_dict(state["model"])
    crit.load_state_dict(state["loss"])
    history = json.loads(state["history"])
    atomic_write_text(out / "metrics.jsonl", "".join(json.dumps(r) + "\n" for r in history))
    log.info("fold %s: artifacts written again from %s", fold.subject, out / "final.pt")
    return finish_fold(cfg, model, crit, cache, classes, fold, out, device, autocast_for(cfg, device), history)


def run_fold(cfg: Config, cache: ClipCache, classes, fold: Fold, out_dir: str | Path, progress: bool = True) -> dict:
    """Train on ``fold.train``, evaluate the last epoch on ``fold.test``; resumable. A folder
    made with other settings raises FingerprintError; a damaged artifact is recomputed."""
    out = Path(out_dir)
    cfg.validate(f"fold {fold.subject}")
    classes = list(classes)
    with runs.StudyLock(out, "fold"):
        fp = runs.fold_fingerprint(cfg, cache_content(cache))
        check_fingerprint(out, fp)
        result = finished_result(out)
        if result is not None:
            return result
        unknown = sorted(set(cache.labels.tolist()) - set(classes))
        if unknown:
            raise FoldError(f"fold {fold.subject}: labels {unknown} are not classes of {cfg.data.dataset} ({classes})")
        if (out / "final.pt").is_file() and runs.problem(out / "final.pt") is None:
            return refinish_fold(cfg, cache, classes, fold, out)
        runs.forget(out / "done.json")  # damaged or unfinished: the fold is not done
        if not (out / runs.FINGERPRINT).is_file():
            atomic_write_text(out / runs.FINGERPRINT, json.dumps(fp, indent=1))
        return _train_fold(cfg, cache, classes, fold, out, progress)


def note_resume(out: Path, epoch: int) -> None:
    """One line in the fold's resumes.jsonl per resume: after which epoch, by which process."""
    import socket

    old = (out / "resumes.jsonl").read_text() if (out / "resumes.jsonl").is_file() else ""
    line = {"after_epoch": epoch, "host": socket.gethostname(), "pid": os.getpid(),
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    atomic_write_text(out / "resumes.jsonl", old + json.dumps(line) + "\n")


def _train_fold(cfg: Config, cache: ClipCache, classes, fold: Fold, out: Path, progress: bool) -> dict:
    from tqdm import tqdm  # plain text bars: no widget (and no IProgress warning) in notebooks

    device = resolve_device(cfg.train.device)
    amp = autocast_for(cfg, device)
    t = cfg.train
    torch.manual_seed(t.seed)
    model, crit, opt, sched = build(cfg, len(classes), device)
    fwd = torch.compile(model) if t.compile else model
    atomic_write_text(out / "config.json", json.dumps(cfg.to_flat(), indent=1))
    atomic_write_text(out / "env.json", json.dumps(environment(device), indent=1))
    start, history = 0, []
    ckpt = out / "last.pt"
    why = runs.problem(ckpt) if ckpt.is_file() else None
    if why:
        log.warning("fold %s: checkpoint %s is damaged (%s); the fold starts again from epoch 1", fold.subject, ckpt, why)
        runs.forget(ckpt)
    if ckpt.is_file():
        state = torch.load(ckpt, map_location=device, weights_only=True)
        model.load_state_dict(state["model"])
        crit.load_state_dict(state["loss"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        start, history = int(state["epoch"]), json.loads(state["history"])
        log.info("fold %s: resuming after epoch %d", fold.subject, start)
        note_resume(out, start)
    train_idx, test_idx = np.asarray(fold.train), np.asarray(fold.test)
    y_all = torch.tensor([classes.index(lab) for lab in cache.labels])
    apex_all = torch.as_tensor(cache.apex)
    # pragma: no mutate start (the progress bar: display only)
    bar = tqdm(range(start, t.epochs), desc=f"fold {fold.subject}", unit="epoch", leave=False, disable=not progress,
               initial=start, total=t.epochs)
    # pragma: no mutate end
    scalars = ScalarLog(out, start, t.tensorboard)
    for epoch in bar:
        t0 = time.perf_counter()
        s = epoch_seed(t.seed, epoch)
        cpu_gen = torch.Generator().manual_seed(s)
        dev_gen = torch.Generator(device=device).manual_seed(s)
        perm = train_idx[torch.randperm(len(train_idx), generator=cpu_gen).numpy()]
        try:
            means = train_epoch(fwd, crit, opt, cache, perm, y_all, apex_all, cfg, device, amp, cpu_gen, dev_gen)
        except FloatingPointError as e:
            scalars.close()  # the event file is complete up to the last good epoch
            raise FoldError(f"fold {fold.subject}, epoch {epoch + 1}, {e}") from None
        sched.step()
        rec = {"epoch": epoch + 1, "lr": opt.param_groups[0]["lr"], "seconds": round(time.perf_counter() - t0, 3)} | means
        if t.eval_every and ((epoch + 1) % t.eval_every == 0 or epoch + 1 == t.epochs):
            ev = evaluate(model, crit, cache, test_idx, classes, cfg, device, amp, s)
            rec |= {f"test_{k}": v for k, v in ev["metrics"].items()}
        history.append(rec)
        atomic_write_text(out / "metrics.jsonl", "".join(json.dumps(r) + "\n" for r in history))
        atomic_torch_save({"model": model.state_dict(), "loss": crit.state_dict(), "optimizer": opt.state_dict(),
                           "scheduler": sched.state_dict(), "epoch": epoch + 1, "history": json.dumps(history)}, ckpt)
        scalars.epoch(rec)
        bar.set_postfix(loss=f"{rec['train_loss']:.3f}", acc=f"{rec['train_acc']:.2f}")  # pragma: no mutate
    bar.close()
    scalars.close()
    return finish_fold(cfg, model, crit, cache, classes, fold, out, device, amp, history)


def finish_fold(cfg, model, crit, cache, classes, fold, out: Path, device, amp, history) -> dict:
    test_idx = np.asarray(fold.test)
    ev = evaluate(model, crit, cache, test_idx, classes, cfg, device, amp, epoch_seed(cfg.train.seed, 10**6))
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["key", "subject", "label", "pred"] + [f"p_{c}" for c in classes])
    for j, i in enumerate(test_idx):
        w.writerow([cache.keys[i], cache.subjects[i], classes[ev["y"][j]], classes[ev["pred"][j]]]
                   + [f"{p:.6f}" for p in ev["probs"][j]])
    atomic_write_text(out / "predictions.csv", buf.getvalue())
    if "k" in ev:
        b = io.BytesIO()
        np.savez(b, keys=cache.keys[test_idx], k=ev["k"], q=ev["q"], q_mean=ev["q_mean"], q_std=ev["q_std"],
                 truth=cache.intensity[test_idx], apex=cache.apex[test_idx], eta=crit.prototype.eta.detach().cpu().numpy())
        atomic_write_bytes(out / "intensity.npz", b.getvalue())
    if hasattr(model, "ice") and crit.needs_views:  # λ1 = 0: no views anywhere (k's range is in intensity.npz)
        diag = ice_diagnostics(model, cache, test_idx, cfg, device, amp, epoch_seed(cfg.train.seed, 10**6 + 1))
        atomic_write_text(out / "diagnostics.json", json.dumps(diag, indent=1))
    atomic_torch_save({"model": model.state_dict(), "loss": crit.state_dict(), "classes": list(classes),
                       "config": json.dumps(cfg.to_flat()), "history": json.dumps(history)}, out / "final.pt")
    result = {"fold": fold.subject, "n_test": len(test_idx), "epochs": cfg.train.epochs,
              "seconds": round(sum(r["seconds"] for r in history), 3), **ev["metrics"]}
    atomic_write_text(out / "done.json", json.dumps(result, indent=1))
    runs.forget(out / "last.pt")  # the fold is finished; final.pt holds the weights
    return result

