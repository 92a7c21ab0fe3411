"""Every registered model: shapes, a finite loss, gradients where they belong."""

import pytest
import torch

from cmnet.losses import CMNetLoss
from cmnet.models import create_model, list_models, model_input

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
    pair = model_input(name) == "pair"
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
