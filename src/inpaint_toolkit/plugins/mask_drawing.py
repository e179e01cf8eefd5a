"""Steps the mask and damage plugins share: checking a batch, greying out the hole, seeded
numpy draws for Pillow, "the most-scoring fraction is missing", and smooth random fields."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from inpaint_toolkit.core.interfaces import Damaged


def check_images(images: Tensor) -> None:
    """Masks take a batch ``(B, C, H, W)``; anything else is a programming error."""
    if images.dim() != 4:
        raise ValueError(f"images must be (B, C, H, W), got shape {tuple(images.shape)}")


def mask_images(images: Tensor, known: Tensor) -> Damaged:
    """The step every mask ends with: grey out the hole (0.0), keep known pixels exactly."""
    known = known.to(device=images.device, dtype=images.dtype)
    return Damaged(images=torch.where(known.bool(), images, 0.0), known=known)


def numpy_rng(generator: torch.Generator) -> np.random.Generator:
    """A numpy generator seeded from ``generator``, for drawing with Pillow."""
    seed = torch.randint(0, 2**62, (1,), generator=generator, device=generator.device)
    return np.random.default_rng(int(seed.item()))


def known_from_scores(scores: Tensor, fraction: float) -> Tensor:
    """``(B, 1, H, W)`` scores -> ``known``: the ``fraction`` highest-scoring pixels of
    each image are missing, exactly that many (at least one, never all)."""
    flat = scores.flatten(1)
    count = min(max(round(fraction * flat.shape[1]), 1), flat.shape[1] - 1)
    missing = torch.zeros_like(flat, dtype=torch.bool)
    missing.scatter_(1, flat.argsort(dim=1, descending=True)[:, :count], True)
    return (~missing).float().view_as(scores)


def smooth_random_field(
    batch: int, height: int, width: int, blotch_size: float, generator: torch.Generator
) -> Tensor:
    """``(B, 1, H, W)`` low-frequency noise: blobs about ``blotch_size`` of the side wide.

    Random values on a coarse grid, bicubically upsampled, plus a finer octave at half
    weight so that the blobs have ragged rather than round edges.
    """
    cells = max(2, round(1 / blotch_size))
    field = torch.zeros(batch, 1, height, width, device=generator.device)
    for octave_cells, weight in ((cells, 1.0), (2 * cells, 0.5)):
        coarse = torch.rand(
            batch,
            1,
            octave_cells + 1,
            octave_cells + 1,
            generator=generator,
            device=generator.device,
        )
        field += weight * F.interpolate(
            coarse, size=(height, width), mode="bicubic", align_corners=True
        )
    return field
