"""Batched augmentations: ranges, identities, independence per frame, sameness per clip."""

import torch

from cmnet.fold.augment import augment_views, color_jitter, gaussian_blur, normalize, random_affine, random_grayscale
from cmnet.config import TrainConfig


def test_views_stay_in_range_and_differ_per_frame():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(1, 3, 16, 16).expand(8, 3, 16, 16).contiguous()  # eight copies of one frame
    t = TrainConfig()
    y = augment_views(x, t.color_jitter, t.grayscale_p, t.blur_sigma, t.blur_p, g)
    assert y.shape == x.shape and y.min() >= 0 and y.max() <= 1
    diffs = [(y[i] - y[0]).abs().mean() for i in range(1, 8)]
    assert min(diffs) > 1e-3  # each frame got its own parameters


def test_identities_at_zero_strength():
    x = torch.rand(4, 3, 12, 12)
    assert torch.equal(color_jitter(x, 0.0), x)
    assert torch.equal(random_grayscale(x, 0.0), x)
    assert torch.equal(gaussian_blur(x, 1.5, 0.0), x)
    assert torch.equal(random_affine(x[None], 0.0, 0.0), x[None])


def test_grayscale_and_blur_do_what_they_say():
    x = torch.rand(4, 3, 12, 12)
    gx = random_grayscale(x, 1.0)
    assert torch.allclose(gx[:, 0], gx[:, 1]) and torch.allclose(gx[:, 1], gx[:, 2])
    flat = torch.full((2, 3, 20, 20), 0.3)
    torch.testing.assert_close(gaussian_blur(flat, 2.0, 1.0), flat)  # a constant image is unchanged
    noisy = torch.rand(2, 3, 20, 20, generator=torch.Generator().manual_seed(1))
    assert gaussian_blur(noisy, 2.0, 1.0).std() < noisy.std()  # smoothing lowers the spread


def test_affine_is_shared_by_the_frames_of_a_clip():
    g = torch.Generator().manual_seed(3)
    frame = torch.rand(1, 1, 3, 24, 24)
    clips = frame.expand(3, 4, 3, 24, 24).contiguous()  # 3 clips of 4 identical frames
    y = random_affine(clips, 5.0, 3.0, g)
    for b in range(3):
        for t in range(1, 4):
            torch.testing.assert_close(y[b, t], y[b, 0])
    assert (y[1] - y[0]).abs().mean() > 1e-3  # but clips differ


def test_normalize_uses_imagenet_statistics():
    x = torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1).expand(3, 2, 2)
    torch.testing.assert_close(normalize(x), torch.zeros(3, 2, 2))
