"""Metrics on hand-made cases, on the [0, 1] scale."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from skimage.metrics import structural_similarity

from inpaint_toolkit.evaluation.metrics import PSNR_CAP_DB, hole_l1, hole_psnr, psnr, ssim


def random_images(batch: int = 2, size: int = 32, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(batch, 3, size, size, generator=generator) * 2 - 1


def centre_hole(batch: int = 2, size: int = 32) -> torch.Tensor:
    known = torch.ones(batch, 1, size, size)
    known[:, :, 8:24, 8:24] = 0.0
    return known


def test_identical_images_are_perfect():
    images = random_images()
    known = centre_hole()
    assert torch.equal(hole_l1(images, images, known), torch.zeros(2))
    assert torch.allclose(psnr(images, images), torch.full((2,), PSNR_CAP_DB))
    assert torch.allclose(hole_psnr(images, images, known), torch.full((2,), PSNR_CAP_DB))
    assert torch.allclose(ssim(images, images), torch.ones(2), atol=1e-6)
    assert PSNR_CAP_DB == pytest.approx(100.0)


def test_constant_difference_gives_the_known_l1_and_psnr():
    truth = torch.zeros(2, 3, 32, 32)
    output = truth + 0.2  # 0.1 on the [0, 1] scale
    known = centre_hole()
    assert torch.allclose(hole_l1(output, truth, known), torch.full((2,), 0.1))
    expected = 10 * math.log10(1 / 0.1**2)  # 20 dB
    assert torch.allclose(psnr(output, truth), torch.full((2,), expected))
    assert torch.allclose(hole_psnr(output, truth, known), torch.full((2,), expected))


def test_difference_only_outside_the_hole_is_invisible_to_hole_metrics():
    truth = random_images()
    known = centre_hole()
    output = truth.clone()
    output[:, :, :4] = -truth[:, :, :4]  # change the known top rows only
    assert torch.equal(hole_l1(output, truth, known), torch.zeros(2))
    assert torch.allclose(hole_psnr(output, truth, known), torch.full((2,), PSNR_CAP_DB))
    assert (psnr(output, truth) < 30).all()


def test_hole_metrics_average_over_hole_pixels_only():
    truth = torch.zeros(1, 3, 32, 32)
    known = centre_hole(batch=1)
    output = truth.clone()
    output[:, :, 8:16, 8:24] = 1.0  # half of the hole off by 0.5 on the [0, 1] scale
    assert hole_l1(output, truth, known).item() == pytest.approx(0.25)
    assert hole_psnr(output, truth, known).item() == pytest.approx(10 * math.log10(1 / 0.125))


def test_ssim_agrees_with_scikit_image():
    truth = random_images(batch=2, size=32, seed=1)
    output = (truth + 0.3 * random_images(batch=2, size=32, seed=2)).clamp(-1, 1)
    ours = ssim(output, truth)
    for index in range(2):
        reference = structural_similarity(
            ((output[index].permute(1, 2, 0).numpy() + 1) / 2).astype(np.float64),
            ((truth[index].permute(1, 2, 0).numpy() + 1) / 2).astype(np.float64),
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
            data_range=1.0,
            channel_axis=-1,
        )
        assert ours[index].item() == pytest.approx(reference, abs=1e-5)
    assert (ours < 1).all()


def test_shape_mismatch_is_refused():
    with pytest.raises(ValueError, match="must be the same"):
        psnr(torch.zeros(1, 3, 16, 16), torch.zeros(1, 3, 8, 8))
