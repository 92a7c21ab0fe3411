"""Prototype (Eqs. 2-4), rank-sum Z (Eq. 7) and L_Wrst (Eqs. 8-9) against scipy and hand values."""

import math

import numpy as np
import pytest
import torch
from scipy import stats

from cmnet.losses import (
    TendencyPrototype,
    intensity_prototype,
    pooled_ranks,
    rank_sum_z,
    wrst_loss,
    wrst_p,
)


# ---------- rank-sum Z ----------

def test_exact_z_equals_scipy_on_random_inputs():
    rng = np.random.default_rng(1)
    q = rng.normal(0.5, 0.2, size=(50, 16))
    k = rng.normal(0.6, 0.5, size=(50, 16))
    z = rank_sum_z(torch.tensor(q), torch.tensor(k)).numpy()
    ref = np.array([stats.ranksums(k[i], q[i]).statistic for i in range(50)])
    np.testing.assert_allclose(z, ref, rtol=0, atol=1e-12)
    assert np.abs(ref).max() > 1  # inputs where a sign or offset error would show


def test_exact_z_equals_scipy_on_tied_inputs():
    rng = np.random.default_rng(2)
    q = rng.integers(0, 4, size=(40, 16)).astype(float)  # many ties, within and across
    k = rng.integers(1, 5, size=(40, 16)).astype(float)
    z = rank_sum_z(torch.tensor(q), torch.tensor(k)).numpy()
    ref = np.array([stats.ranksums(k[i], q[i]).statistic for i in range(40)])
    np.testing.assert_allclose(z, ref, atol=1e-12)


def test_exact_ranks_equal_rankdata_and_1d_input():
    x = torch.tensor([[3.0, 1.0, 3.0, 2.0, 1.0, 5.0]])
    np.testing.assert_allclose(pooled_ranks(x)[0].numpy(), stats.rankdata(x[0].numpy()))
    q, k = torch.rand(16, dtype=torch.float64), torch.rand(16, dtype=torch.float64)
    assert rank_sum_z(q, k).dim() == 0
    assert float(rank_sum_z(q, k)) == pytest.approx(stats.ranksums(k.numpy(), q.numpy()).statistic, abs=1e-12)


def test_soft_ranks_tend_to_exact_ranks():
    rng = np.random.default_rng(3)
    x = torch.tensor(rng.normal(size=(20, 32)))
    exact = pooled_ranks(x)
    errs = [float((pooled_ranks(x, t) - exact).abs().max()) for t in (1.0, 0.1, 0.01, 1e-3, 1e-5, 1e-8)]
    assert all(a > b for a, b in zip(errs, errs[1:]))  # shrinking temperature, shrinking error
    assert errs[-1] < 1e-6
    q, k = x[:, :16], x[:, 16:]
    np.testing.assert_allclose(rank_sum_z(q, k, 1e-8).numpy(), rank_sum_z(q, k).numpy(), atol=1e-6)
    # soft ranks at a tie give the averaged rank, as the exact rule does
    t = torch.tensor([[1.0, 1.0, 2.0]])
    np.testing.assert_allclose(pooled_ranks(t, 1e-4).numpy(), [[1.5, 1.5, 3.0]], atol=1e-9)


# ---------- Eq. 8 and Eq. 9 ----------

@pytest.mark.parametrize("z", [0.0, 1.0, 1.5, 2.0, 3.0, -2.5])
def test_eq8_density_and_p_value_readings(z):
    zt = torch.tensor(z, dtype=torch.float64)
    assert float(wrst_p(zt, "density")) == pytest.approx(stats.norm.pdf(z), abs=1e-14)
    assert float(wrst_p(zt, "two-sided")) == pytest.approx(2 * stats.norm.sf(abs(z)), abs=1e-14)


def test_eq9_loss_values_at_chosen_z():
    # k entirely above q: T2 = N(3N+1)/2, so Z = (N/2)·sqrt(12/(2N+1)) = 4.8242 for N = 16
    n = 16
    q = torch.linspace(0.2, 1.0, n, dtype=torch.float64)[None]
    k = q + 10
    z_expected = (n / 2) * math.sqrt(12 / (2 * n + 1))
    assert float(rank_sum_z(q, k)) == pytest.approx(z_expected)
    want = max(0.0, 0.01 - (stats.norm.pdf(z_expected) - 0.05))
    assert float(wrst_loss(q, k, temperature=None)) == pytest.approx(want, abs=1e-12)
    # k identical to q: Z = 0, density 0.399 > alpha + xi: no loss
    assert float(wrst_loss(q, q.clone(), temperature=None)) == 0.0
    # the two readings disagree for 1.88 < |Z| < 1.947 (paper-notes): density keeps the loss at 0
    zt = torch.tensor([1.9], dtype=torch.float64)
    dens, pval = wrst_p(zt, "density"), wrst_p(zt, "two-sided")
    assert float(torch.relu(0.01 - (dens - 0.05))) == 0.0
    assert float(torch.relu(0.01 - (pval - 0.05))) > 0.0


def test_density_threshold_is_1_947():
    zs = torch.linspace(0, 3, 30001, dtype=torch.float64)
    active = (0.01 - (wrst_p(zs) - 0.05)) > 0
    assert float(zs[active][0]) == pytest.approx(1.947, abs=1e-3)
    active_p = (0.01 - (wrst_p(zs, "two-sided") - 0.05)) > 0
    assert float(zs[active_p][0]) == pytest.approx(1.881, abs=1e-3)


def test_wrst_is_invariant_to_time_order_of_k():
    g = torch.Generator().manual_seed(4)
    q = torch.rand(8, 16, generator=g, dtype=torch.float64)
    k = torch.rand(8, 16, generator=g, dtype=torch.float64) * 3
    for t in (None, 0.05):
        base = wrst_loss(q, k, temperature=t, reduction="none")
        assert base.max() > 0  # the loss is active, so invariance is not trivially 0 == 0
        for perm in (torch.randperm(16, generator=g), torch.arange(15, -1, -1)):
            torch.testing.assert_close(wrst_loss(q, k[:, perm], temperature=t, reduction="none"), base)


def test_soft_wrst_gives_gradient_that_lowers_the_loss():
    q = torch.linspace(0.2, 1.0, 16)[None].repeat(4, 1)
    k = (q + 2.0).clone().requires_grad_(True)  # far above: loss active
    loss = wrst_loss(q, k, temperature=0.5)
    loss.backward()
    assert torch.isfinite(k.grad).all() and k.grad.abs().sum() > 0
    with torch.no_grad():
        k2 = k - 0.5 * k.grad / k.grad.norm()
    assert float(wrst_loss(q, k2, temperature=0.5)) < loss.item()


def test_wrst_loss_defaults_and_the_two_sided_reading_against_scipy():
    """Defaults: soft ranks at temperature 0.05 (params' rank_temperature), α = 0.05,
    ξ = 0.01, the density reading; p="two-sided" uses scipy's two-sided p of the same Z."""
    g = torch.Generator().manual_seed(4)
    q = torch.rand(5, 16, generator=g, dtype=torch.float64)
    k = torch.rand(5, 16, generator=g, dtype=torch.float64) + torch.tensor([0.0, 0.2, 0.3, 0.5, 1.0])[:, None]
    torch.testing.assert_close(wrst_loss(q, k), wrst_loss(q, k, 0.05, 0.01, 0.05, "density", "mean"))
    assert wrst_loss(q, k) != wrst_loss(q, k, temperature=0.5)
    z = rank_sum_z(q, k, None).numpy()
    p = 2 * stats.norm.sf(np.abs(z))
    got = wrst_loss(q, k, temperature=None, p="two-sided", reduction="none").numpy()
    np.testing.assert_allclose(got, np.maximum(0.0, 0.01 - (p - 0.05)), rtol=0, atol=1e-12)
    density = wrst_loss(q, k, temperature=None, reduction="none").numpy()
    assert (got > 0).sum() >= 2 and not np.allclose(got, density)  # the readings differ on these clips
    with pytest.raises(ValueError, match=r"^reduction must be \"mean\" or \"none\", got 'sum'$"):
        wrst_loss(q, k, reduction="sum")


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="q and k"):
        rank_sum_z(torch.rand(2, 16), torch.rand(2, 15))
    with pytest.raises(ValueError, match="temperature"):
        pooled_ranks(torch.rand(2, 4), 0.0)
    with pytest.raises(ValueError, match="p must be"):
        wrst_p(torch.tensor(1.0), "one-sided")


# ---------- prototype ----------

def _prototype_loop(apex0, n, eps, eta):
    """Eqs. 2-4 exactly as printed, with the paper's 1-based frame index n."""
    n1, n2 = apex0, n - 1 - apex0
    mean, std = [], []
    for nn in range(1, n + 1):
        if nn <= n1:
            mean.append(eps + (nn - 1) * (1 - eps) / n1)
            std.append((1 - eps) / (3 * n1) * eta[nn - 1])
        elif nn == n1 + 1:
            cands = [(1 - eps) / (3 * m) for m in (n1, n2) if m > 0]
            mean.append(1.0)
            std.append(min(cands) * eta[nn - 1])
        else:
            mean.append(1 - (nn - n1 - 1) * (1 - eps) / n2)
            std.append((1 - eps) / (3 * n2) * eta[nn - 1])
    return np.array(mean), np.array(std)


def test_prototype_at_hand_computed_points():
    mean, std = intensity_prototype(torch.tensor([5]), 16, eps=0.2)
    m, s = mean[0].numpy(), std[0].numpy()
    # N1 = 5, N2 = 10: rise 0.16 per frame, fall 0.08 per frame
    np.testing.assert_allclose(m[[0, 1, 4, 5, 6, 15]], [0.2, 0.36, 0.84, 1.0, 0.92, 0.2], atol=1e-6)
    np.testing.assert_allclose(s[[0, 4]], 0.8 / 15, atol=1e-7)
    np.testing.assert_allclose(s[[5, 6, 15]], 0.8 / 30, atol=1e-7)


@pytest.mark.parametrize("apex", [0, 1, 7, 14, 15])
def test_prototype_matches_paper_loop(apex):
    eta = torch.linspace(0.1, 0.9, 16, dtype=torch.float64)
    mean, std = intensity_prototype(torch.tensor([apex, 3]), 16, eps=0.2, eta=eta)
    ref_m, ref_s = _prototype_loop(apex, 16, 0.2, eta.numpy())
    assert mean.dtype == std.dtype == torch.float64  # computed in η's precision
    np.testing.assert_allclose(mean[0].numpy(), ref_m, rtol=0, atol=1e-12)
    np.testing.assert_allclose(std[0].numpy(), ref_s, rtol=0, atol=1e-12)
    assert mean[0, apex] == 1.0 and mean.min() >= 0.2 - 1e-12


def test_prototype_module_draws_and_learns_eta():
    proto = TendencyPrototype(16, eps=0.2, eta_init=0.5)
    assert torch.allclose(proto.eta, torch.full((16,), 0.5))
    apex = torch.full((20000,), 8)
    q, mean, std = proto(apex, torch.Generator().manual_seed(0))
    # draws: mean and spread as the prototype says (η = 0.5 halves Eqs. 2-4's σ)
    np.testing.assert_allclose(q.mean(0).detach().numpy(), mean[0].detach().numpy(), atol=3e-3)
    ref_m, ref_s = _prototype_loop(8, 16, 0.2, np.full(16, 0.5))
    np.testing.assert_allclose(q.std(0).detach().numpy(), ref_s, rtol=0.05)
    q[:100].sum().backward()
    assert proto.eta_logit.grad is not None and proto.eta_logit.grad.abs().sum() > 0


def test_prototype_errors():
    with pytest.raises(ValueError, match="apex"):
        intensity_prototype(torch.tensor([16]), 16)
    with pytest.raises(ValueError, match="N >= 2"):
        intensity_prototype(torch.tensor([0]), 1)
    with pytest.raises(ValueError, match=r"^apex must be a \(B,\) tensor of indices, got shape \(1, 2\)$"):
        intensity_prototype(torch.tensor([[1, 2]]), 16)
    for eps in (0.0, 1.0, 1.5, -0.1):
        with pytest.raises(ValueError, match=rf"^eps must be in \(0, 1\), got {eps}$"):
            intensity_prototype(torch.tensor([3]), 16, eps=eps)
    mean, _ = intensity_prototype(torch.tensor([3]), 16, eps=0.999)  # just inside
    assert float(mean[0, 0]) == pytest.approx(0.999)


def test_prototype_draw_is_mean_plus_std_times_the_generators_noise():
    """q = mean + std·ε with ε from the given generator, in the module's precision: the
    reference draws ε itself from a generator seeded alike."""
    proto = TendencyPrototype(8, eps=0.2, eta_init=0.3).double()
    apex = torch.tensor([0, 3, 7])
    q, mean, std = proto(apex, torch.Generator().manual_seed(11))
    assert q.dtype == torch.float64
    noise = torch.randn((3, 8), dtype=torch.float64, generator=torch.Generator().manual_seed(11))
    torch.testing.assert_close(q, mean + std * noise, rtol=0, atol=1e-15)
    q2, _, _ = proto(apex, torch.Generator().manual_seed(11))
    torch.testing.assert_close(q, q2, rtol=0, atol=0)


def test_prototype_module_defaults_and_eta_init_range():
    proto = TendencyPrototype()
    assert proto.n_frames == 16 and proto.eps == 0.2
    torch.testing.assert_close(proto.eta, torch.full((16,), 0.5))
    for bad in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match=rf"^eta_init must be in \(0, 1\), got {bad}$"):
            TendencyPrototype(eta_init=bad)
    assert float(TendencyPrototype(4, eta_init=0.999).eta[0].detach()) == pytest.approx(0.999)


# ------------------------------------------------------------------ the order-aware alternative (ours)

def test_soft_spearman_with_exact_ranks_is_scipys_and_soft_ranks_approach_it():
    from scipy.stats import spearmanr

    from cmnet.losses import soft_spearman

    g = torch.Generator().manual_seed(3)
    q, k = torch.rand(6, 12, generator=g, dtype=torch.float64), torch.rand(6, 12, generator=g, dtype=torch.float64)
    k[1, 3] = k[1, 7]  # a tie: averaged ranks, as scipy
    exact = soft_spearman(q, k, None)
    ref = [spearmanr(q[i].numpy(), k[i].numpy()).statistic for i in range(6)]
    np.testing.assert_allclose(exact.numpy(), ref, rtol=0, atol=1e-12)
    for t in (1e-2, 1e-4):
        close = soft_spearman(q, k, t)
        assert (close - exact).abs().max() < (0.2 if t == 1e-2 else 1e-3)
    assert soft_spearman(q[0], k[0], None).dim() == 0
    assert soft_spearman(q[:1], torch.full((1, 12), 0.3, dtype=torch.float64), 0.05).item() == 0  # constant k


def test_the_spearman_tendency_loss_sees_frame_order_and_wrst_does_not():
    from cmnet.losses import spearman_tendency_loss, wrst_loss

    g = torch.Generator().manual_seed(0)
    apex = torch.tensor([5, 9, 12])
    mean, std = intensity_prototype(apex, 16)
    q = mean + std * torch.randn(mean.shape, generator=g)
    k = mean + 0.05 * torch.randn(mean.shape, generator=g)  # follows the curve
    shuffled = k[:, torch.randperm(16, generator=g)]  # the same values in another order
    assert wrst_loss(q, k, temperature=None).item() == pytest.approx(wrst_loss(q, shuffled, temperature=None).item())
    follow, scramble = spearman_tendency_loss(q, k, None), spearman_tendency_loss(q, shuffled, None)
    assert follow < 0.1 and scramble > follow + 0.2
    assert spearman_tendency_loss(q, q, None).item() == pytest.approx(0.0)
    assert spearman_tendency_loss(q, -q, None).item() == pytest.approx(1.0)
    per_clip = spearman_tendency_loss(q, k, 0.05, reduction="none")
    assert per_clip.shape == (3,) and per_clip.mean().item() == pytest.approx(spearman_tendency_loss(q, k, 0.05).item())
    with pytest.raises(ValueError, match='reduction must be "mean" or "none"'):
        spearman_tendency_loss(q, k, reduction="sum")


def test_the_spearman_tendency_loss_has_gradients_for_k_and_eta():
    from cmnet.losses import spearman_tendency_loss

    proto = TendencyPrototype(16)
    k = torch.rand(4, 16, requires_grad=True)
    q, _, _ = proto(torch.tensor([3, 8, 8, 14]), torch.Generator().manual_seed(1))
    spearman_tendency_loss(q, k, 0.05).backward()
    assert torch.isfinite(k.grad).all() and k.grad.abs().sum() > 0
    assert torch.isfinite(proto.eta_logit.grad).all() and proto.eta_logit.grad.abs().sum() > 0


def test_cmnet_loss_puts_the_spearman_term_under_lambda2():
    from cmnet.losses import CMNetLoss, spearman_tendency_loss
    from cmnet.models.output import ModelOutput

    g = torch.Generator().manual_seed(2)
    out = ModelOutput(logits=torch.randn(3, 5, generator=g), k=torch.rand(3, 16, generator=g))
    labels, apex = torch.tensor([0, 2, 4]), torch.tensor([4, 8, 12])
    crit = CMNetLoss(lambdas=(0.0, 0.71, 0.22), tendency="spearman")
    total, parts = crit(out, labels, apex, torch.Generator().manual_seed(5))
    assert "wrst" not in parts and set(parts) == {"q", "spearman", "ce"}
    assert parts["spearman"].item() == pytest.approx(spearman_tendency_loss(parts["q"], out.k, 0.05).item())
    assert total.item() == pytest.approx(0.71 * parts["spearman"].item() + 0.22 * parts["ce"].item())
    with pytest.raises(ValueError, match="unknown tendency 'order'"):
        CMNetLoss(tendency="order")


def test_soft_spearman_checks_shapes_and_keeps_tiny_but_real_differences():
    from cmnet.losses import soft_spearman, spearman_tendency_loss

    with pytest.raises(ValueError, match=r"^q and k must both be \(B, N\) or \(N,\), got \(2, 5\) and \(2, 6\)$"):
        soft_spearman(torch.zeros(2, 5), torch.zeros(2, 6))
    with pytest.raises(ValueError, match=r"got \(1, 2, 5\) and \(1, 2, 5\)$"):
        soft_spearman(torch.zeros(1, 2, 5), torch.zeros(1, 2, 5))
    ramp = torch.linspace(0, 1, 16)[None]
    tiny = 0.3 + 1e-3 * ramp  # rises by 0.001 in all: soft ranks barely apart, yet in order
    assert soft_spearman(ramp, tiny, 0.05).item() > 0.99
    g = torch.Generator().manual_seed(4)
    q, k = torch.rand(3, 16, generator=g), torch.rand(3, 16, generator=g)
    for t in (None, 0.05, 1.0):  # the temperature given is the one used; 0.05 by default
        want = ((1 - soft_spearman(q, k, t)) / 2).mean().item()
        assert spearman_tendency_loss(q, k, t).item() == pytest.approx(want, rel=1e-6)
    assert spearman_tendency_loss(q, k).item() == pytest.approx(spearman_tendency_loss(q, k, 0.05).item(), rel=1e-6)
    assert spearman_tendency_loss(q, k, 1.0).item() != pytest.approx(spearman_tendency_loss(q, k, 0.05).item(), rel=1e-3)
