"""Contract checks for plugin authors: call them from your own tests.

    from inpaint_toolkit.testing import check_mask_source

    def test_my_mask_keeps_the_contract():
        check_mask_source(MyMask(MyMaskOptions()))

The toolkit's own contract tests run the same checks over every registered plugin. A
broken contract raises ``AssertionError`` with a message that says what is wrong.
"""

from __future__ import annotations

import math
from typing import NoReturn

import torch
from torch import Tensor

from inpaint_toolkit.core.interfaces import Damaged, MaskSource


def smooth_test_images(batch: int = 4, image_size: int = 64, *, seed: int = 0) -> Tensor:
    """``(batch, 3, size, size)`` smooth colourful images in [-1, 1]: a different blend of
    waves per image and channel, so that any change to a pixel shows."""
    generator = torch.Generator().manual_seed(seed)
    frequencies = 1.0 + 2.0 * torch.rand(batch, 3, 2, 1, 1, generator=generator)
    phases = 2 * math.pi * torch.rand(batch, 3, 2, 1, 1, generator=generator)
    axis = torch.linspace(0.0, 1.0, image_size)
    rows, cols = axis.view(image_size, 1), axis.view(1, image_size)
    waves = torch.sin(frequencies[:, :, 0] * math.pi * rows + phases[:, :, 0]) + torch.cos(
        frequencies[:, :, 1] * math.pi * cols + phases[:, :, 1]
    )
    return 0.45 * waves  # |waves| <= 2, so the images stay inside [-0.9, 0.9]


def check_mask_source(
    source: MaskSource, image_size: int = 64, batch: int = 4, *, seed: int = 0
) -> Damaged:
    """Check that ``source`` keeps the MaskSource contract; return what it made.

    On a batch of smooth ``image_size`` images: it returns :class:`Damaged`; the images
    keep their shape and dtype, stay in [-1, 1], and are unchanged wherever ``known`` is
    1; ``known`` is ``(B, 1, H, W)``, floating point, only 0.0 and 1.0, with at least one
    missing and one known pixel in every image; the input is not modified; and the same
    seed gives the same result again.
    """
    name = type(source).__name__
    images = smooth_test_images(batch, image_size, seed=seed)
    untouched = images.clone()
    result = source(images, torch.Generator().manual_seed(seed))

    def fail(problem: str) -> NoReturn:
        raise AssertionError(f"{name} on {batch}x3x{image_size}x{image_size} images: {problem}")

    if not isinstance(result, Damaged):
        fail(f"returned {type(result).__name__}, not inpaint_toolkit.core.interfaces.Damaged")
    damaged, known = result.images, result.known
    if not torch.equal(images, untouched):
        fail("modified its input images in place")
    if damaged.shape != images.shape or damaged.dtype != images.dtype:
        fail(
            f"images are {tuple(damaged.shape)} {damaged.dtype}, "
            f"expected {tuple(images.shape)} {images.dtype}"
        )
    expected_known = (batch, 1, image_size, image_size)
    if tuple(known.shape) != expected_known or not known.is_floating_point():
        fail(f"known is {tuple(known.shape)} {known.dtype}, expected {expected_known} float")
    if not torch.all((known == 0) | (known == 1)):
        values = known.unique()[:6].tolist()
        fail(f"known holds values other than 0.0 and 1.0 (e.g. {values})")
    if not torch.isfinite(damaged).all() or damaged.min() < -1 or damaged.max() > 1:
        fail(f"images leave [-1, 1]: min {damaged.min().item()}, max {damaged.max().item()}")
    keep = known.bool().expand_as(images)
    if not torch.equal(damaged[keep], images[keep]):
        changed = int((damaged != images)[keep].sum())
        fail(f"{changed} values marked known differ from the input")
    missing_per_image = (known == 0).flatten(1).sum(dim=1)
    pixels = image_size * image_size
    if (missing_per_image == 0).any():
        fail(f"images {_indices(missing_per_image == 0)} have no missing pixel")
    if (missing_per_image == pixels).any():
        fail(f"images {_indices(missing_per_image == pixels)} have no known pixel")
    again = source(images.clone(), torch.Generator().manual_seed(seed))
    if not (torch.equal(again.images, damaged) and torch.equal(again.known, known)):
        fail(f"not reproducible: seed {seed} gave a different result the second time")
    return result


def _indices(flags: Tensor) -> list[int]:
    return flags.nonzero().flatten().tolist()
