"""The sliced Wasserstein distance: zero for a set against itself, and it sees blur where
blur is (the fine levels) and a colour cast nowhere (each set is normalised)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from inpaint_toolkit.evaluation.prior_score import score_generator
from inpaint_toolkit.evaluation.swd import laplacian_pyramid, sliced_wasserstein
from inpaint_toolkit.plugins.dcgan import DCGANGenerator, DCGANOptions


def textured(n: int, seed: int) -> torch.Tensor:
    noise = torch.rand(n, 3, 64, 64, generator=torch.Generator().manual_seed(seed))
    smooth = F.interpolate(
        torch.rand(n, 3, 8, 8, generator=torch.Generator().manual_seed(seed + 1)),
        64,
        mode="bilinear",
    )
    return (0.6 * smooth + 0.4 * noise) * 2 - 1


def test_a_set_against_itself_is_zero_and_another_draw_is_close():
    images = textured(64, 0)
    same = sliced_wasserstein(images, images)
    assert set(same.levels) == {64, 32, 16} and same.mean == 0
    other = sliced_wasserstein(images, textured(64, 10))
    blurred = sliced_wasserstein(images, F.avg_pool2d(images, 3, 1, 1))
    assert other.levels[64] < blurred.levels[64] / 2  # blur is seen at the finest level
    assert blurred.levels[64] > blurred.levels[16]  # ... far more than at the coarsest


def test_the_pyramid_adds_back_up_to_the_image():
    images = textured(2, 3)
    levels = laplacian_pyramid(images)
    assert [level.shape[-1] for level in levels] == [64, 32, 16]
    rebuilt = levels[-1]
    for band in reversed(levels[:-1]):
        rebuilt = band + F.interpolate(rebuilt, scale_factor=2, mode="bilinear")
    torch.testing.assert_close(rebuilt, images)


def test_scoring_a_generator_is_deterministic_for_a_seed():
    torch.manual_seed(0)
    g = DCGANGenerator(DCGANOptions(image_size=64, z_dim=8, widths=(16, 8, 8, 4))).eval()
    real = textured(32, 5)
    first = score_generator(g, real, seed=1)
    assert first == score_generator(g, real, seed=1)
    assert first.samples == 32 and first.swd > 0 and first.judge_faces == 0  # noise: no face
