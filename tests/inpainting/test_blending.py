"""Poisson blending and overlay: exact on a gradient-preserving fill, known pixels kept."""

from __future__ import annotations

import pytest
import torch

from inpaint_toolkit.core.errors import InpaintError
from inpaint_toolkit.inpainting.blending import blend, overlay, poisson_blend


def smooth_images(batch: int = 2, size: int = 16) -> torch.Tensor:
    """Smooth, varied images in [-0.6, 0.6] so that an offset fill stays inside [-1, 1]."""
    ys, xs = torch.meshgrid(torch.linspace(0, 3, size), torch.linspace(0, 3, size), indexing="ij")
    images = torch.stack(
        [
            torch.stack([torch.sin(xs + c + b) * torch.cos(ys - b) for c in range(3)])
            for b in range(batch)
        ]
    )
    return 0.6 * images


def hole_mask(batch: int, size: int, top: int, left: int, side: int) -> torch.Tensor:
    known = torch.ones(batch, 1, size, size)
    known[:, :, top : top + side, left : left + side] = 0.0
    return known


def test_fill_with_the_truths_gradients_gives_back_the_truth():
    truth = smooth_images()
    known = hole_mask(2, 16, 4, 5, 7)
    target = truth * known  # the hole greyed out, as a mask plugin leaves it
    generated = truth + 0.3  # the right gradients, the wrong level
    result = poisson_blend(generated, target, known)
    assert torch.allclose(result, truth, atol=1e-5)


def test_hole_touching_the_border_is_solved_exactly_too():
    truth = smooth_images(batch=1)
    known = torch.ones(1, 1, 16, 16)
    known[:, :, :, :8] = 0.0  # the left half: the hole reaches three image borders
    result = poisson_blend(truth - 0.25, truth * known, known)
    assert torch.allclose(result, truth, atol=1e-5)


def test_known_pixels_are_never_changed():
    generator = torch.Generator().manual_seed(0)
    target = torch.rand(2, 3, 12, 12, generator=generator) * 2 - 1
    generated = torch.rand(2, 3, 12, 12, generator=generator) * 2 - 1
    known = (torch.rand(2, 1, 12, 12, generator=generator) > 0.6).float()  # scattered holes
    result = poisson_blend(generated, target, known)
    kept = known.expand_as(target).bool()
    assert torch.equal(result[kept], target[kept])
    assert result.min() >= -1 and result.max() <= 1


def test_overlay_on_a_hand_case():
    generated = torch.full((1, 3, 2, 2), 0.5)
    target = torch.full((1, 3, 2, 2), -0.25)
    known = torch.tensor([[[[1.0, 0.0], [0.0, 1.0]]]])
    expected = torch.tensor([[-0.25, 0.5], [0.5, -0.25]]).expand(1, 3, 2, 2)
    assert torch.equal(overlay(generated, target, known), expected)
    assert torch.equal(blend("overlay", generated, target, known), expected)


def test_no_hole_returns_the_target_and_all_hole_returns_the_fill():
    target = smooth_images(batch=1)
    generated = -target
    assert torch.equal(poisson_blend(generated, target, torch.ones(1, 1, 16, 16)), target)
    assert torch.equal(poisson_blend(generated, target, torch.zeros(1, 1, 16, 16)), generated)


def test_each_image_of_a_batch_gets_its_own_mask():
    truth = smooth_images(batch=2)
    known = torch.cat([hole_mask(1, 16, 0, 0, 6), torch.ones(1, 1, 16, 16)])
    result = blend("poisson", truth + 0.1, truth * known, known)
    assert torch.allclose(result, truth, atol=1e-5)


def test_unknown_blend_name_is_a_one_line_error():
    images = torch.zeros(1, 3, 4, 4)
    with pytest.raises(InpaintError, match="unknown blend 'seamless'.*poisson, overlay"):
        blend("seamless", images, images, torch.ones(1, 1, 4, 4))


def test_mismatched_shapes_are_refused():
    with pytest.raises(ValueError, match="known mask"):
        poisson_blend(torch.zeros(1, 3, 4, 4), torch.zeros(1, 3, 4, 4), torch.ones(1, 3, 4, 4))
