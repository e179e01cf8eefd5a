"""Differentiable augmentation of what the discriminator sees (Zhao et al. 2020, DiffAugment).

With a few tens of thousands of faces, D memorises the training set and its verdicts stop
teaching G. Showing D every image, real and generated alike, through the same random
colour change, shift and cut-out keeps it from memorising, and because every operation is
differentiable, G still gets gradients through the augmented copy. The same policy must be
applied in D's and G's steps (otherwise D could learn to spot un-augmented fakes).

Every random number comes from the caller's ``torch.Generator`` on the CPU, so training
stays reproducible and a resumed run draws the same augmentations as an unbroken one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from inpaint_toolkit.core.errors import InpaintError
from inpaint_toolkit.core.runtime import to_device

Augmentation = Callable[[Tensor, torch.Generator], Tensor]


def _uniform(n: int, low: float, high: float, rng: torch.Generator, like: Tensor) -> Tensor:
    values = torch.rand(n, 1, 1, 1, generator=rng) * (high - low) + low
    return to_device(values, like.device).to(like.dtype)


def color(images: Tensor, rng: torch.Generator) -> Tensor:
    """Random brightness, saturation and contrast, per image (DiffAugment's ranges)."""
    n = len(images)
    images = images + _uniform(n, -0.5, 0.5, rng, images)  # brightness, in [-1, 1] units
    grey = images.mean(dim=1, keepdim=True)
    images = (images - grey) * _uniform(n, 0.0, 2.0, rng, images) + grey  # saturation
    mean = images.mean(dim=(1, 2, 3), keepdim=True)
    return (images - mean) * _uniform(n, 0.5, 1.5, rng, images) + mean  # contrast


def translation(images: Tensor, rng: torch.Generator, ratio: float = 0.125) -> Tensor:
    """Shift each image by up to ``ratio`` of its side, filling with zeros (mid-grey)."""
    n, _, height, width = images.shape
    reach_y, reach_x = int(height * ratio + 0.5), int(width * ratio + 0.5)
    device = images.device
    # Drawn on the CPU (reproducible on every device), the indices then built on the device.
    shift_y = to_device(torch.randint(-reach_y, reach_y + 1, (n, 1, 1), generator=rng), device)
    shift_x = to_device(torch.randint(-reach_x, reach_x + 1, (n, 1, 1), generator=rng), device)
    rows = torch.arange(height, device=device).view(1, -1, 1) + reach_y - shift_y  # (n, H, 1)
    cols = torch.arange(width, device=device).view(1, 1, -1) + reach_x - shift_x  # (n, 1, W)
    padded = torch.nn.functional.pad(images, (reach_x, reach_x, reach_y, reach_y))
    batch = torch.arange(n, device=device).view(-1, 1, 1)
    moved = padded.permute(0, 2, 3, 1)[batch, rows, cols]
    return moved.permute(0, 3, 1, 2).contiguous(memory_format=_format_of(images))


def cutout(images: Tensor, rng: torch.Generator, ratio: float = 0.5) -> Tensor:
    """Zero (mid-grey) one square of ``ratio`` of the side at a random place per image."""
    n, _, height, width = images.shape
    size_y, size_x = int(height * ratio + 0.5), int(width * ratio + 0.5)
    device = images.device
    centre_y = torch.randint(0, height + (1 - size_y % 2), (n, 1, 1), generator=rng)
    centre_x = torch.randint(0, width + (1 - size_x % 2), (n, 1, 1), generator=rng)
    centre_y, centre_x = to_device(centre_y, device), to_device(centre_x, device)
    rows = torch.arange(height, device=device).view(1, -1, 1)
    cols = torch.arange(width, device=device).view(1, 1, -1)
    inside = (
        (rows >= centre_y - size_y // 2)
        & (rows < centre_y - size_y // 2 + size_y)
        & (cols >= centre_x - size_x // 2)
        & (cols < centre_x - size_x // 2 + size_x)
    )
    keep = (~inside).unsqueeze(1).to(images.dtype)
    return images * keep


def _format_of(images: Tensor) -> torch.memory_format:
    if images.dim() == 4 and images.is_contiguous(memory_format=torch.channels_last):
        return torch.channels_last
    return torch.contiguous_format


AUGMENTATIONS: dict[str, Augmentation] = {
    "color": color,
    "translation": translation,
    "cutout": cutout,
}


def parse_policy(policy: str) -> list[str]:
    """``"color,translation,cutout"`` -> its names, checked; ``""`` or ``"none"`` -> none."""
    if policy.strip().lower() in ("", "none"):
        return []
    names = [name.strip() for name in policy.split(",")]
    unknown = [name for name in names if name not in AUGMENTATIONS]
    if unknown:
        raise InpaintError(
            f"unknown augmentation {unknown[0]!r}; choose from {', '.join(AUGMENTATIONS)} or none"
        )
    return names


def augmenter(names: Sequence[str]) -> Callable[[Tensor, torch.Generator], Tensor] | None:
    """One function applying the named augmentations in order, or None for no augmentation."""
    if not names:
        return None
    steps = [AUGMENTATIONS[name] for name in names]

    def apply(images: Tensor, rng: torch.Generator) -> Tensor:
        for step in steps:
            images = step(images, rng)
        return images

    return apply
