"""A trained fold on its test clips, in evaluation mode, one batch iterator for both:

    evaluate(kit, cache, idx, classes, seed)   probabilities, predictions, metrics; for a model
                                               with an intensity branch its k and a prototype draw
    ice_diagnostics(kit, cache, idx, seed)     the L_ID shortcut diagnostic of CMNet's ICE

Shapes: B clips, N frames, C classes.
"""

from __future__ import annotations

import numpy as np
import torch

from ..metrics import all_metrics
from .augment import normalize
from .batches import batches
from .diagnostics import shortcut_stats
from .loop import forward


def _outputs(kit, cache, idx, gen=None):
    """The model's output on every batch of clips ``idx`` (eval mode, no gradients), given two
    augmented views of each batch when ``gen`` is; training mode is restored after."""
    kit.model.eval()
    try:
        with torch.no_grad():
            for b in batches(idx, kit.batch_size):
                x = kit.transform.encoder_input(kit.transform.load(cache, b, kit.device))
                views = None if gen is None else kit.transform.views(x, gen)
                if kit.k_source == "ice":  # the model makes its own k: no apex or truth to hand it
                    with kit.amp():
                        yield kit.model(normalize(x), views=views)
                    continue
                apex = torch.as_tensor(cache.apex[b]).to(kit.device)
                truth = torch.as_tensor(np.asarray(cache.intensity[b], dtype=np.float32)).to(kit.device)
                yield forward(kit, kit.model, normalize(x), views, apex, truth)
    finally:
        kit.model.train()


def evaluate(kit, cache, idx, classes, seed: int) -> dict:
    """Clips ``idx``: class probabilities (K, C), predictions, true labels and metrics; with an
    intensity branch also k (K, N) and a prototype draw q with its mean and std (seeded)."""
    probs, ks = [], []
    for out in _outputs(kit, cache, idx):
        probs.append(out.logits.float().softmax(-1).cpu())
        if out.k is not None:
            ks.append(out.k.float().cpu())
    probs = torch.cat(probs).numpy()
    pred = probs.argmax(1)
    y = np.array([classes.index(lab) for lab in cache.labels[idx]])
    res = {"probs": probs, "pred": pred, "y": y, "metrics": all_metrics(y, pred)}
    if ks:
        apex = torch.as_tensor(cache.apex[idx])
        gen = torch.Generator(device=kit.device).manual_seed(seed)
        with torch.no_grad():
            q, mean, std = kit.crit.prototype(apex.to(kit.device), gen)
        res |= {"k": torch.cat(ks).numpy(), "q": q.cpu().numpy(), "q_mean": mean.cpu().numpy(),
                "q_std": std.detach().cpu().numpy()}
    return res


def ice_diagnostics(kit, cache, idx, seed: int) -> dict:
    """The shortcut diagnostic (cmnet.fold.diagnostics) of a CMNet's ICE on clips ``idx``, with
    two views augmented as in training (seeded)."""
    gen = torch.Generator(device=kit.device).manual_seed(seed)
    zs, z1s, z2s, ks = [], [], [], []
    for out in _outputs(kit, cache, idx, gen):
        zs.append(out.z.float()), z1s.append(out.z1.float()), z2s.append(out.z2.float()), ks.append(out.k.float())
    return shortcut_stats(torch.cat(zs), torch.cat(z1s), torch.cat(z2s), torch.cat(ks)) | {"clips": len(idx)}
