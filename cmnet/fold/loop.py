"""Training one fold, step by step: what a fold trains (``build``: model, loss, optimiser,
schedule, the clip transform, device and precision), one optimisation step and one epoch.

    kit = build(cfg, num_classes, device)
    means = train_epoch(kit, cache, perm, y_all, apex_all, cpu_gen, dev_gen)

Shapes: B clips, N frames, 3×S×S pixels, C classes.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..losses import CMNetLoss
from ..losses.tendency import intensity_prototype
from ..models import model_from_config
from . import FoldError
from .augment import normalize
from .batches import ClipTransform, batches
from .device import autocast_for


@dataclass
class Kit:
    """Everything one fold trains and evaluates with."""

    model: torch.nn.Module
    crit: CMNetLoss
    opt: torch.optim.Optimizer
    sched: object
    transform: ClipTransform
    device: torch.device
    amp: object  # a context factory (cmnet.fold.device.autocast_for)
    batch_size: int
    k_source: str = "ice"  # where CMNet's k comes from (cmnet.config: ice, oracle, prototype)

    def given_k(self, apex: torch.Tensor, truth: torch.Tensor | None) -> torch.Tensor | None:
        """k (B, N) given from outside for the positive controls, None when the ICE makes it:
        ``oracle`` the clips' true intensity mapped to the prototype's range, ε + (1 − ε)·truth;
        ``prototype`` the prototype's mean from each clip's annotated apex (no image read)."""
        if self.k_source == "ice":
            return None
        eps = self.crit.prototype.eps
        if self.k_source == "oracle":
            if truth is None or not torch.isfinite(truth).all():
                raise FoldError("k_source 'oracle' needs every clip's true intensity: SynthME's ground truth "
                                "(this dataset's cache holds none)")
            return eps + (1 - eps) * truth.float()
        if self.k_source == "prototype":
            return intensity_prototype(apex, self.crit.prototype.n_frames, eps)[0]
        raise ValueError(f"unknown k_source {self.k_source!r}")


def loss_from_config(cfg) -> CMNetLoss:
    lo = cfg.loss
    return CMNetLoss(
        n_frames=cfg.preprocess.frames, lambdas=(lo.lambda_id, lo.lambda_wrst, lo.lambda_ce), sampler=lo.sampler,
        tau=lo.tau, num_negatives=lo.num_negatives, eps=lo.eps, alpha=lo.alpha, xi=lo.xi,
        rank_temperature=lo.rank_temperature, p=lo.p_reading, eta_init=lo.eta_init, negatives=lo.negatives,
        tendency=lo.tendency,
    )


def optimizer_from_config(t, params):
    """(optimiser, schedule) of the TrainConfig ``t``: SGD halving every lr_step epochs (CMNet),
    or AdamW with an exponential decay, optionally only for the first lr_decay_epochs (MMNet)."""
    if t.optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=t.lr, momentum=t.momentum, weight_decay=t.weight_decay)
        return opt, torch.optim.lr_scheduler.StepLR(opt, step_size=t.lr_step, gamma=t.lr_gamma)
    if t.optimizer == "adamw":
        opt = torch.optim.AdamW(params, lr=t.lr, weight_decay=t.weight_decay)
        stop = t.lr_decay_epochs or 10**9
        return opt, torch.optim.lr_scheduler.LambdaLR(opt, lambda e: t.lr_gamma ** min(e, stop))
    raise ValueError(f"optimizer must be sgd or adamw, got {t.optimizer!r}")


def build(cfg, num_classes: int, device: torch.device) -> Kit:
    """The model (its builder's arguments from ``cfg``), the loss of Eq. 10, the optimiser and
    schedule over both, on ``device``."""
    model = model_from_config(cfg, num_classes).to(device)
    if cfg.train.channels_last:
        model = model.to(memory_format=torch.channels_last)
    crit = loss_from_config(cfg).to(device)
    opt, sched = optimizer_from_config(cfg.train, list(model.parameters()) + list(crit.parameters()))
    return Kit(model, crit, opt, sched, ClipTransform.from_config(cfg), device,
               autocast_for(cfg.train.precision, device), cfg.train.batch_size, cfg.model.k_source)


def epoch_seed(seed: int, epoch: int) -> int:
    """The seed of one epoch's randomness (shuffle, augmentation, negatives, prototype draws):
    a resumed fold ends with the same numbers as an uninterrupted one."""
    return (seed * 1_000_003 + epoch * 7919) % (2**31 - 1)


def forward(kit: Kit, fwd, x, views, apex, truth):
    """The model's output on clips x (already the encoders' input, normalised), with k given
    from outside where the configuration says so (``Kit.given_k``)."""
    k = kit.given_k(apex, truth)
    with kit.amp():
        return fwd(x, views=views) if k is None else fwd(x, views=views, k=k)


def term_gradient_norms(kit: Kit, parts: dict) -> dict[str, float]:
    """The gradient norm (over every trained parameter) of each weighted scalar loss term, taken
    apart: which term moves the weights, and by how much against the others."""
    params = [p for p in list(kit.model.parameters()) + list(kit.crit.parameters()) if p.requires_grad]
    weights = kit.crit.weights()
    norms = {}
    for name, v in parts.items():
        if v.dim() or not v.requires_grad or not weights.get(name):
            continue
        grads = torch.autograd.grad(weights[name] * v, params, retain_graph=True, allow_unused=True)
        norms[name] = float(torch.sqrt(sum((g.float() ** 2).sum() for g in grads if g is not None)))
    return norms


def train_step(kit: Kit, fwd, x, y, apex, gen, truth=None, grad_norms: dict | None = None):
    """One optimisation step on clips x (B, N, 3, S, S) in [0, 1]: flip, shift, views (only
    when λ1 > 0), forward (``fwd``: the model, or its compiled form), Eq. 10, backward, update.
    ``truth`` (B, N): the clips' true intensity (the controls that read it). ``grad_norms``: a dict
    to fill with each term's gradient norm (``term_gradient_norms``) before the update.
    Returns (loss, parts, logits); a non-finite loss raises FloatingPointError before any update."""
    x = kit.transform.train(x, gen)
    views = kit.transform.views(x, gen) if kit.crit.needs_views else None
    out = forward(kit, fwd, normalize(x), views, apex, truth)
    loss, parts = kit.crit(out, y, apex, gen, truth)
    if not torch.isfinite(loss):
        vals = {k: v.detach().item() for k, v in parts.items() if v.dim() == 0}
        raise FloatingPointError(f"loss is {loss.detach().item()} (parts {vals}); lower lr or check the inputs")
    if grad_norms is not None:
        grad_norms.update(term_gradient_norms(kit, parts))
    kit.opt.zero_grad(set_to_none=True)
    loss.backward()
    kit.opt.step()
    return loss, parts, out.logits


def train_epoch(kit: Kit, fwd, cache, perm, y_all, apex_all, cpu_gen, dev_gen, truth_all=None) -> dict:
    """One pass over the training clips in the order ``perm``: the training accuracy and
    each scalar loss term, means over the clips seen (``train_acc``, ``train_loss``, …); per
    weighted term the share of steps in which it was above zero (``active_<term>``) and, at the
    epoch's first step, its gradient norm (``gradnorm_<term>``). ``truth_all`` (K, N): every
    clip's true intensity (or NaN), for the controls that read it. A non-finite loss raises
    FloatingPointError naming the step."""
    sums, active, n_seen, correct, steps, norms = {}, {}, 0, 0, 0, {}
    for step, b in enumerate(batches(perm, kit.batch_size), 1):
        x = kit.transform.load(cache, b, kit.device, cpu_gen)
        y, apex = y_all[b].to(kit.device), apex_all[b].to(kit.device)
        truth = None if truth_all is None else truth_all[b].to(kit.device)
        try:
            loss, parts, logits = train_step(kit, fwd, x, y, apex, dev_gen, truth, norms if step == 1 else None)
        except FloatingPointError as e:
            raise FloatingPointError(f"step {step}: {e}") from None
        k = len(b)
        n_seen += k
        steps += 1
        correct += int((logits.argmax(1) == y).sum())
        for name, v in [("loss", loss)] + [(n, v) for n, v in parts.items() if v.dim() == 0]:
            val = v.detach().item()
            sums[name] = sums.get(name, 0.0) + val * k
            if name != "loss":
                active[name] = active.get(name, 0) + (val > 0)
    return ({"train_acc": correct / max(n_seen, 1)} | {f"train_{k}": v / max(n_seen, 1) for k, v in sums.items()}
            | {f"active_{k}": v / max(steps, 1) for k, v in active.items()}
            | {f"gradnorm_{k}": v for k, v in norms.items()})
