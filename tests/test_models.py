"""Every registered model: shapes, a finite loss, gradients where they belong."""

import pytest
import torch

from cmnet.losses import CMNetLoss
from cmnet.models import create_model, list_models, input_kind

INTENSITY_MODELS = {"cmnet"}


def _clips(b=2, n=4, s=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(b, n, 3, s, s, generator=g)


def _loss_for(name, n):
    lam = (0.07, 0.71, 0.22) if name in INTENSITY_MODELS else (0.0, 0.0, 1.0)
    return CMNetLoss(n_frames=n, lambdas=lam, sampler="probabilistic", num_negatives=5, rank_temperature=0.5)


def test_registry():
    assert {"cmnet", "resnet_lstm"} <= set(list_models())
    with pytest.raises(KeyError, match="registered models"):
        create_model("no_such_model", num_classes=5)


@pytest.mark.parametrize("name", list_models())
@pytest.mark.parametrize("size", [32, 48])
def test_shapes_loss_and_gradients(name, size):
    torch.manual_seed(0)
    pair = input_kind(name) == "pair"
    n = 2 if pair else 4
    model = create_model(name, num_classes=5, **({"image_size": size} if pair else {}))
    crit = _loss_for(name, n)
    clips = _clips(2, n, size)
    views = (clips + 0.1 * torch.randn_like(clips), clips * 0.9) if crit.needs_views else None
    out = model(clips, views=views)
    assert out.logits.shape == (2, 5)
    if name in INTENSITY_MODELS:
        assert out.k.shape == (2, n)
        assert out.z.shape[:2] == (2, n) and out.z1.shape == out.z.shape == out.z2.shape
        torch.testing.assert_close(out.z.norm(dim=-1), torch.ones(2, n))
    loss, parts = crit(out, torch.tensor([1, 3]), torch.tensor([1, 2]))
    assert torch.isfinite(loss)
    loss.backward()
    params = dict(model.named_parameters()) | {f"loss.{k}": v for k, v in crit.named_parameters()}
    no_grad = [k for k, p in params.items() if p.grad is None or not torch.isfinite(p.grad).all()]
    if name not in INTENSITY_MODELS:
        no_grad = [k for k in no_grad if not k.startswith("loss.")]  # no L_Wrst: η unused
    assert no_grad == []
    zero = [k for k, p in model.named_parameters() if p.grad.abs().sum() == 0]
    assert zero == []
    assert model(clips).logits.shape == (2, 5)  # evaluation without views


def test_cmnet_degenerate_clip_identical_frames_n2():
    model = create_model("cmnet", num_classes=3)
    crit = CMNetLoss(n_frames=2, num_negatives=3)
    frame = torch.randn(1, 1, 3, 32, 32)
    clips = frame.expand(2, 2, 3, 32, 32).contiguous()
    out = model(clips, views=(clips.clone(), clips.clone()))
    loss, parts = crit(out, torch.tensor([0, 2]), torch.tensor([1, 0]))
    assert torch.isfinite(loss) and set(parts) == {"id", "wrst", "ce", "q"}
    loss.backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


def test_zero_weights_skip_their_branch(monkeypatch):
    import cmnet.losses.total as total

    model = create_model("cmnet", num_classes=3)
    clips = _clips(2, 4)

    def boom(*a, **k):
        raise AssertionError("a branch with weight 0 was computed")

    monkeypatch.setattr(total, "intensity_distillation_loss", boom)
    crit = CMNetLoss(n_frames=4, lambdas=(0.0, 0.5, 0.5))
    assert not crit.needs_views
    loss, parts = crit(model(clips), torch.tensor([0, 1]), torch.tensor([1, 2]))
    assert set(parts) == {"wrst", "ce", "q"}

    monkeypatch.setattr(total, "wrst_loss", boom)
    monkeypatch.setattr(crit.prototype, "forward", boom)
    crit.lambdas = (0.0, 0.0, 1.0)
    loss, parts = crit(model(clips), torch.tensor([0, 1]), torch.tensor([1, 2]))
    assert set(parts) == {"ce"}


def test_cmnet_needs_views_when_lid_is_on():
    model = create_model("cmnet", num_classes=3)
    crit = CMNetLoss(n_frames=4)
    with pytest.raises(ValueError, match="views"):
        crit(model(_clips(2, 4)), torch.tensor([0, 1]), torch.tensor([1, 2]))
    base = create_model("resnet_lstm", num_classes=3)
    with pytest.raises(ValueError, match="intensity branch"):
        CMNetLoss(n_frames=4, lambdas=(0, 1, 0))(base(_clips(2, 4)), torch.tensor([0, 1]), torch.tensor([1, 2]))


def test_bad_clip_shapes_are_named():
    model = create_model("cmnet", num_classes=3)
    with pytest.raises(ValueError, match=r"\(B, N, 3, H, W\)"):
        model(torch.randn(2, 3, 32, 32))
    with pytest.raises(ValueError, match="at least 32"):
        model(torch.randn(1, 2, 3, 16, 16))


def test_pretrained_weights_from_a_local_file(tmp_path):
    from cmnet._torchvision import import_torchvision

    tv = import_torchvision()
    ref = tv.models.resnet18(weights=None)
    path = tmp_path / "resnet18.pth"
    torch.save(ref.state_dict(), path)
    model = create_model("cmnet", num_classes=5, pretrained=str(path))
    torch.testing.assert_close(model.ffe.net.conv1.weight, ref.conv1.weight)
    with pytest.raises(FileNotFoundError, match="not found"):
        create_model("resnet_lstm", num_classes=5, pretrained=str(tmp_path / "missing.pth"))
    torch.save({"foo": torch.zeros(1)}, tmp_path / "bad.pth")
    with pytest.raises(ValueError, match="not a ResNet-18"):
        create_model("resnet_lstm", num_classes=5, pretrained=str(tmp_path / "bad.pth"))


def _fake_output(b=3, n=6, e=5, c=4, seed=0):
    from cmnet.models.output import ModelOutput

    g = torch.Generator().manual_seed(seed)
    r = lambda *s: torch.randn(*s, generator=g, dtype=torch.float64)  # noqa: E731
    return ModelOutput(logits=r(b, c), k=torch.rand(b, n, generator=g, dtype=torch.float64), z=r(b, n, e),
                       z1=r(b, n, e), z2=r(b, n, e))


@pytest.mark.parametrize("negatives", ["clean", "augmented"])
def test_total_loss_is_the_weighted_sum_of_its_parts_with_every_setting_passed_on(negatives):
    """Eq. 10 against the parts computed directly: L_ID (its sampler, τ, M and negatives), the
    prototype draw (ε, η) then L_Wrst (α, ξ, soft-rank temperature, p reading), and CE;
    the one generator is used by L_ID first, then by the prototype."""
    import torch.nn.functional as F

    from cmnet.losses import TendencyPrototype, intensity_distillation_loss, wrst_loss

    out = _fake_output()
    out.k = out.k + torch.tensor([[0.0], [0.3], [2.0]], dtype=torch.float64)  # p from large to tiny
    y, apex = torch.tensor([0, 3, 2]), torch.tensor([1, 4, 0])
    kw = dict(sampler="random", tau=0.3, num_negatives=4, eps=0.1, alpha=0.2, xi=0.4, rank_temperature=0.2,
              p="two-sided", eta_init=0.7, negatives=negatives)
    crit = CMNetLoss(n_frames=6, lambdas=(0.3, 0.5, 0.2), **kw).double()
    total, parts = crit(out, y, apex, torch.Generator().manual_seed(9))
    g = torch.Generator().manual_seed(9)
    l_id = intensity_distillation_loss(out.z1, out.z2, out.z, "random", 0.3, 4, g, negatives)
    q, _, _ = TendencyPrototype(6, eps=0.1, eta_init=0.7).double()(apex, g)
    l_w = wrst_loss(q, out.k, 0.2, 0.4, 0.2, "two-sided")
    ce = F.cross_entropy(out.logits.float(), y)  # in float32 whatever the logits (autocast)
    assert set(parts) == {"id", "wrst", "ce", "q"}
    for name, want in (("id", l_id), ("wrst", l_w), ("ce", ce), ("q", q)):
        torch.testing.assert_close(parts[name], want, rtol=0, atol=1e-12, msg=name)
    torch.testing.assert_close(total, 0.3 * l_id + 0.5 * l_w + 0.2 * ce, rtol=0, atol=1e-12)
    assert float(l_w.detach()) > 0  # the settings are exercised: this L_Wrst is not clipped to 0


def test_a_zero_weight_leaves_its_part_out():
    out = _fake_output()
    for lam, parts in (((1, 1, 0), {"id", "wrst", "q"}), ((0, 1, 1), {"wrst", "q", "ce"}), ((1, 0, 1), {"id", "ce"})):
        _, got = CMNetLoss(n_frames=6, lambdas=lam, num_negatives=3)(out, torch.tensor([0, 1, 2]), torch.tensor([1, 1, 1]))
        assert set(got) == parts, lam


def test_total_loss_defaults_are_the_papers():
    crit = CMNetLoss()
    assert crit.lambdas == (0.07, 0.71, 0.22) and crit.needs_views
    assert (crit.sampler, crit.tau, crit.num_negatives, crit.negatives) == ("probabilistic", 0.1, 15, "clean")
    assert (crit.alpha, crit.xi, crit.rank_temperature, crit.p) == (0.05, 0.01, 0.05, "density")
    assert crit.prototype.n_frames == 16 and crit.prototype.eps == 0.2
    torch.testing.assert_close(crit.prototype.eta, torch.full((16,), 0.5))
    assert not CMNetLoss(lambdas=(0, 1, 1)).needs_views


def test_total_loss_settings_are_checked_by_name():
    for lam in ((0.1, 0.2), (-0.1, 1, 1), (float("nan"), 1, 1), (1, float("inf"), 1)):
        with pytest.raises(ValueError, match=r"^lambdas must be three finite weights >= 0, got "):
            CMNetLoss(lambdas=lam)
    with pytest.raises(ValueError, match=r"^unknown sampler 'hard'; choose one of \('deterministic', "):
        CMNetLoss(sampler="hard")
    with pytest.raises(ValueError, match=r"^unknown negatives 'views'; choose one of \('clean', 'augmented'\)$"):
        CMNetLoss(negatives="views")
    out = _fake_output()
    out.z1 = None
    with pytest.raises(ValueError, match=r"^λ1 > 0 needs ICE embeddings of the frames and of two augmented views: "
                                         r"call the model with views=\(view1, view2\), or use a model with an "
                                         r"intensity branch$"):
        CMNetLoss(n_frames=6)(out, torch.tensor([0, 1, 2]), torch.tensor([1, 1, 1]))
    out = _fake_output()
    out.k = None
    with pytest.raises(ValueError, match=r"^λ2 > 0 needs per-frame intensities k: this model has no intensity branch$"):
        CMNetLoss(n_frames=6, lambdas=(0, 1, 1))(out, torch.tensor([0, 1, 2]), torch.tensor([1, 1, 1]))
