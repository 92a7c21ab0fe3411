"""L_ID (Eq. 1) against a plain Python loop, and the three samplers' draws."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import stats

from cmnet.losses import intensity_distillation_loss, sample_negatives


def _loop_lid(v1, v2, fr, idx, tau, pools=None):
    """Eq. 1 term by term: for each clip, anchor n and listed negatives m, taken from the
    clean frames ``fr`` (as printed) or from ``pools`` = (pool for view 1, pool for view 2)."""
    v1, v2, fr = (F.normalize(t, dim=-1) for t in (v1, v2, fr))
    p1, p2 = (fr, fr) if pools is None else (F.normalize(p, dim=-1) for p in pools)
    B, N, _ = fr.shape
    total = 0.0
    for b in range(B):
        clip = 0.0
        for n in range(N):
            pos = math.exp(float(v1[b, n] @ v2[b, n]) / tau)
            neg1 = sum(math.exp(float(v1[b, n] @ p1[b, int(m)]) / tau) for m in idx[b][n])
            neg2 = sum(math.exp(float(v2[b, n] @ p2[b, int(m)]) / tau) for m in idx[b][n])
            clip += math.log(pos / (pos + neg1)) + math.log(pos / (pos + neg2))
        total += -clip / N
    return total / B


def _inputs(B=3, N=16, E=8, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    fr = torch.randn(B, N, E, generator=g, dtype=dtype)
    v1 = fr + 0.3 * torch.randn(B, N, E, generator=g, dtype=dtype)
    v2 = fr + 0.3 * torch.randn(B, N, E, generator=g, dtype=dtype)
    return v1, v2, fr


@pytest.mark.parametrize("tau", [0.07, 0.5])
def test_deterministic_equals_loop(tau):
    v1, v2, fr = _inputs()
    idx = [[[m for m in range(16) if m != n] for n in range(16)] for _ in range(3)]
    got = float(intensity_distillation_loss(v1, v2, fr, "deterministic", tau))
    assert got == pytest.approx(_loop_lid(v1, v2, fr, idx, tau), rel=1e-9)


@pytest.mark.parametrize("sampler", ["random", "probabilistic"])
def test_sampled_losses_equal_loop_on_the_same_draws(sampler):
    v1, v2, fr = _inputs(seed=1)
    idx = sample_negatives(F.normalize(fr, dim=-1), sampler, 0.1, 15, torch.Generator().manual_seed(7))
    got = float(intensity_distillation_loss(v1, v2, fr, sampler, 0.1, 15, torch.Generator().manual_seed(7)))
    assert got == pytest.approx(_loop_lid(v1, v2, fr, idx.tolist(), 0.1), rel=1e-9)
    # a different draw gives a different loss (the indices are really used)
    other = float(intensity_distillation_loss(v1, v2, fr, sampler, 0.1, 15, torch.Generator().manual_seed(8)))
    assert other != pytest.approx(got, rel=1e-6)


@pytest.mark.parametrize("sampler", ["deterministic", "random", "probabilistic"])
def test_samplers_never_pick_the_anchor(sampler):
    fr = F.normalize(torch.randn(4, 16, 8), dim=-1)
    idx = sample_negatives(fr, sampler, 0.1, 15, torch.Generator().manual_seed(0))
    m = 15
    assert idx.shape == (4, 16, m)
    assert not (idx == torch.arange(16)[None, :, None]).any()
    assert idx.min() >= 0 and idx.max() <= 15


def test_probabilistic_frequencies_match_softmax():
    g = torch.Generator().manual_seed(11)
    fr = F.normalize(torch.randn(1, 6, 4, generator=g), dim=-1)
    tau = 0.3
    draws = torch.cat([sample_negatives(fr, "probabilistic", tau, 15, g) for _ in range(2000)])  # (2000,6,15)
    anchor = 2
    counts = torch.bincount(draws[:, anchor].reshape(-1), minlength=6).numpy()
    assert counts[anchor] == 0
    logits = (fr[0, anchor] @ fr[0].T / tau).double()
    logits[anchor] = -float("inf")
    p = torch.softmax(logits, 0).numpy()
    others = [j for j in range(6) if j != anchor]
    expected = p[others] * counts.sum()
    assert stats.chisquare(counts[others], expected).pvalue > 1e-3
    # the test has power: the same counts are far from a uniform draw
    assert stats.chisquare(counts[others], np.full(5, counts.sum() / 5)).pvalue < 1e-6
    assert p[others].max() / p[others].min() > 1.5


def test_random_sampler_is_uniform_over_other_frames():
    g = torch.Generator().manual_seed(3)
    fr = F.normalize(torch.randn(1, 5, 4), dim=-1)
    draws = torch.cat([sample_negatives(fr, "random", 0.1, 15, g) for _ in range(1000)])
    counts = torch.bincount(draws[:, 0].reshape(-1), minlength=5).numpy()
    assert counts[0] == 0
    assert stats.chisquare(counts[1:]).pvalue > 1e-3


def test_degenerate_inputs_give_finite_values_and_gradients():
    # all frames identical and N = 2
    for N in (2, 16):
        base = torch.randn(1, 1, 8).expand(2, N, 8).clone()
        v1 = base.clone().requires_grad_(True)
        v2 = base.clone().requires_grad_(True)
        fr = base.clone().requires_grad_(True)
        for sampler in ("deterministic", "random", "probabilistic"):
            loss = intensity_distillation_loss(v1, v2, fr, sampler, 0.1, 15)
            grads = torch.autograd.grad(loss, (v1, v2, fr))
            assert torch.isfinite(loss)
            # identical views and negatives: log(1/(1+M)) twice per frame
            m = N - 1 if sampler == "deterministic" else 15
            assert loss.item() == pytest.approx(2 * math.log(1 + m), rel=1e-5)
            assert all(torch.isfinite(gr).all() for gr in grads)
    # zero vectors: normalisation keeps them finite
    z = torch.zeros(1, 4, 8, requires_grad=True)
    loss = intensity_distillation_loss(z, z, z, "deterministic", 0.1)
    (g,) = torch.autograd.grad(loss, z)
    assert torch.isfinite(loss) and torch.isfinite(g).all()


def test_loss_is_lower_when_views_agree():
    v1, v2, fr = _inputs(seed=5)
    near = intensity_distillation_loss(v1, v1 + 1e-3, fr, "deterministic", 0.1)
    far = intensity_distillation_loss(v1, -v1, fr, "deterministic", 0.1)
    assert near < far


def test_float32_matches_float64():
    v1, v2, fr = _inputs(seed=6)
    a = intensity_distillation_loss(v1, v2, fr, "deterministic", 0.1)
    b = intensity_distillation_loss(v1.float(), v2.float(), fr.float(), "deterministic", 0.1)
    assert float(b) == pytest.approx(float(a), rel=1e-5)


def test_bad_inputs_are_named():
    v1, v2, fr = _inputs()
    with pytest.raises(ValueError, match="sampler"):
        intensity_distillation_loss(v1, v2, fr, "hard", 0.1)
    with pytest.raises(ValueError, match="share a shape"):
        intensity_distillation_loss(v1, v2[:, :8], fr, "random", 0.1)
    with pytest.raises(ValueError, match="N = 1"):
        intensity_distillation_loss(v1[:, :1], v2[:, :1], fr[:, :1], "random", 0.1)
    with pytest.raises(ValueError, match="tau"):
        intensity_distillation_loss(v1, v2, fr, "random", 0.0)


@pytest.mark.parametrize("which", ["view1", "view2", "frames"])
def test_a_tensor_of_the_wrong_rank_is_named(which):
    v = dict(zip(("view1", "view2", "frames"), _inputs()))
    v[which] = v[which][0]
    with pytest.raises(ValueError, match=rf"^{which} must be \(B, N, E\), got shape \(16, 8\)$"):
        intensity_distillation_loss(v["view1"], v["view2"], v["frames"], "random", 0.1)


def test_default_and_smallest_number_of_negatives():
    """M defaults to 15 (the paper's); M = 1 is allowed, M = 0 is refused by name."""
    fr = F.normalize(_inputs()[2], dim=-1)
    for sampler in ("random", "probabilistic"):
        assert sample_negatives(fr, sampler, 0.1, generator=torch.Generator().manual_seed(0)).shape == (3, 16, 15)
        assert sample_negatives(fr, sampler, 0.1, 1, torch.Generator().manual_seed(0)).shape == (3, 16, 1)
        with pytest.raises(ValueError, match="^num_negatives must be >= 1, got 0$"):
            sample_negatives(fr, sampler, 0.1, 0)
    v1, v2, fr = _inputs()
    a = intensity_distillation_loss(v1, v2, fr, "random", 0.1, generator=torch.Generator().manual_seed(2))
    b = intensity_distillation_loss(v1, v2, fr, "random", 0.1, 15, torch.Generator().manual_seed(2))
    assert float(a) == float(b)


def test_half_precision_inputs_are_computed_in_float32():
    """bf16 embeddings (autocast) are promoted to float32 before the loss: the result is the
    float32 loss of the same (rounded) numbers, not a bf16 computation."""
    v1, v2, fr = (t.to(torch.bfloat16) for t in _inputs(seed=3))
    got = intensity_distillation_loss(v1, v2, fr, "deterministic", 0.1)
    want = intensity_distillation_loss(v1.float(), v2.float(), fr.float(), "deterministic", 0.1)
    assert got.dtype == torch.float32
    assert float(got) == pytest.approx(float(want), rel=1e-6)
