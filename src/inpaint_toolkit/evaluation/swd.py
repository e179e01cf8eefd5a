"""Sliced Wasserstein distance between two sets of images, on Laplacian-pyramid patches.

The measure of Karras et al. 2018 (ProGAN, section 5): it needs no network trained
elsewhere, so nothing is downloaded. Each image is split into a Laplacian pyramid; at each
level, 7x7 patches are cut at random places, each set's patches are normalised per colour
channel, and the distance between the two sets of patches is the sliced Wasserstein
distance: the mean, over random unit directions, of the 1-D Wasserstein distance between
the two sets projected on that direction (sort both, compare in order). A small distance at
the finest level means the sets share their fine detail (sharpness, texture); at the
coarsest, their large structure. Reported x 1e3, as in the paper; lower is better.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

PATCH = 7
SMALLEST_LEVEL = 16  # the paper's pyramids stop at 16x16


@dataclass(frozen=True)
class SWDResult:
    levels: dict[int, float]  # image side of the level -> distance x 1e3

    @property
    def mean(self) -> float:
        return sum(self.levels.values()) / len(self.levels)


def sliced_wasserstein(
    first: Tensor,
    second: Tensor,
    *,
    patches_per_image: int = 64,
    directions: int = 128,
    repeats: int = 4,
    seed: int = 0,
) -> SWDResult:
    """Distance between two equally sized batches ``(N, 3, H, W)`` in [-1, 1]."""
    if first.shape != second.shape:
        raise ValueError(
            f"the two sets differ in shape: {tuple(first.shape)} vs {tuple(second.shape)}"
        )
    rng = torch.Generator().manual_seed(seed)
    pyramids = [laplacian_pyramid(images.float().cpu()) for images in (first, second)]
    levels: dict[int, float] = {}
    for level_a, level_b in zip(*pyramids, strict=True):
        places = _patch_places(level_a.shape, patches_per_image, rng)  # the same for both
        a = _normalise(cut_patches(level_a, places))
        b = _normalise(cut_patches(level_b, places))
        distances = []
        for _ in range(repeats):
            units = torch.randn(a.shape[1], directions, generator=rng)
            units /= units.norm(dim=0, keepdim=True)
            projected_a, _ = torch.sort(a @ units, dim=0)
            projected_b, _ = torch.sort(b @ units, dim=0)
            distances.append((projected_a - projected_b).abs().mean())
        levels[level_a.shape[-1]] = float(torch.stack(distances).mean()) * 1e3
    return SWDResult(levels)


def laplacian_pyramid(images: Tensor) -> list[Tensor]:
    """Band-pass levels, finest first, down to ``SMALLEST_LEVEL``; the last is the low-pass."""
    levels = []
    current = images
    while current.shape[-1] > SMALLEST_LEVEL:
        smaller = _blur(current)[..., ::2, ::2]
        levels.append(current - F.interpolate(smaller, scale_factor=2, mode="bilinear"))
        current = smaller
    levels.append(current)
    return levels


def _blur(images: Tensor) -> Tensor:
    """The 5-tap binomial filter (1 4 6 4 1)/16, separably, with reflected borders."""
    taps = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0], dtype=images.dtype) / 16
    kernel = (taps[:, None] * taps[None, :]).expand(images.shape[1], 1, 5, 5)
    return F.conv2d(F.pad(images, (2, 2, 2, 2), mode="reflect"), kernel, groups=images.shape[1])


def _patch_places(shape: torch.Size, per_image: int, rng: torch.Generator) -> tuple[Tensor, ...]:
    count, _, height, width = shape
    image = torch.arange(count).repeat_interleave(per_image)
    top = torch.randint(0, height - PATCH + 1, (len(image),), generator=rng)
    left = torch.randint(0, width - PATCH + 1, (len(image),), generator=rng)
    return image, top, left


def cut_patches(images: Tensor, places: tuple[Tensor, ...]) -> Tensor:
    """``(patches, 3 * 7 * 7)`` descriptors cut at ``places``."""
    image, top, left = places
    offsets = torch.arange(PATCH)
    rows = (top[:, None] + offsets)[:, :, None]  # (P, 7, 1)
    cols = (left[:, None] + offsets)[:, None, :]  # (P, 1, 7)
    cut = images.permute(0, 2, 3, 1)[image[:, None, None], rows, cols]  # (P, 7, 7, C)
    return cut.permute(0, 3, 1, 2).reshape(len(image), -1)


def _normalise(descriptors: Tensor) -> Tensor:
    """Zero mean, unit deviation per colour channel over the whole set (as the paper)."""
    per_channel = descriptors.view(len(descriptors), -1, PATCH * PATCH)
    mean = per_channel.mean(dim=(0, 2), keepdim=True)
    std = per_channel.std(dim=(0, 2), keepdim=True).clamp_min(1e-8)
    return ((per_channel - mean) / std).view(len(descriptors), -1)
