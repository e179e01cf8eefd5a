"""What a person sees in a fill: its detail and its realism, beside the pixel metrics.

Pixel error rewards the average of every plausible face, which is a blur, so a method
tuned on L1 alone drifts to soft fills. These two measures watch what L1 cannot. Neither
uses the discriminator or any network the method could have optimised against: both are
plain image statistics, so a method cannot game them through its own losses.

* **Hole sharpness** (``hole_sharpness``): the high-frequency energy of the fill inside the
  hole, over the same in the real face, per face. The energy is the mean square of the
  3x3 Laplacian of luma (BT.601) on the [0, 1] scale, over the hole's interior: the hole
  pixels whose 3x3 neighbourhood is all hole, so that the step from the known pixels at
  the rim (which a flat grey fill would have) does not count as detail. 1.0 is as
  detailed as the real face, 0.3 a third of its detail (a blur); above 1 is more
  high-frequency energy than the face had (noise). Reported per set as the median over
  the faces. Seams at the rim are the realism distance's to see.

* **Realism distance** (``realism_distance``): the sliced Wasserstein distance between the
  finest Laplacian-pyramid band (64 px) of the fills and that of *other* real faces, on
  7x7 patches centred inside the holes (x 1e3, lower is better). Fill ``i`` is compared with
  the real face ``i + 1`` (cyclically) at face ``i``'s hole places, so the real side is a
  different face seen at the same places: a perfect inpainter, one whose fills are drawn
  from the distribution of real faces, scores what real faces score against each other,
  the measure's floor (the ``ground_truth`` row). Unlike the prior's SWD
  (``evaluation.swd``), both sets are normalised with the *real* patches' statistics, so a
  loss of contrast, which is what a blur is, counts instead of being normalised away.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from inpaint_toolkit.evaluation.swd import PATCH, cut_patches, laplacian_pyramid

LUMA = (0.299, 0.587, 0.114)
LAPLACIAN = ((0.0, 1.0, 0.0), (1.0, -4.0, 1.0), (0.0, 1.0, 0.0))
ENERGY_FLOOR = 1e-12  # a flat real region has no detail to hold: its ratio is left out
PATCHES_PER_FACE = 64
DIRECTIONS = 128
REPEATS = 4


def high_frequency_energy(images: Tensor, region: Tensor) -> Tensor:
    """Mean squared Laplacian of luma over ``region`` ``(B, 1, H, W)`` (1 = counted), per
    image, on the [0, 1] scale: ``(B,)``. An empty region gives NaN."""
    unit = (images.float() + 1.0) / 2.0
    luma = (unit * torch.tensor(LUMA, device=unit.device).view(1, 3, 1, 1)).sum(1, keepdim=True)
    kernel = torch.tensor(LAPLACIAN, device=unit.device).view(1, 1, 3, 3)
    detail = F.conv2d(F.pad(luma, (1, 1, 1, 1), mode="replicate"), kernel)
    weight = region.float()
    total = weight.flatten(1).sum(1)
    energy = (detail.square() * weight).flatten(1).sum(1) / total.clamp_min(1.0)
    return torch.where(total > 0, energy, torch.full_like(energy, float("nan")))


def hole_sharpness(output: Tensor, truth: Tensor, known: Tensor) -> Tensor:
    """Per face: the fill's high-frequency energy in the hole over the real face's there,
    ``(B,)``; NaN for a face with no hole or a flat real hole (nothing to compare)."""
    hole = hole_interior(known)
    fill = high_frequency_energy(output, hole)
    real = high_frequency_energy(truth, hole)
    return torch.where(
        real > ENERGY_FLOOR, fill / real.clamp_min(ENERGY_FLOOR), real * float("nan")
    )


def hole_interior(known: Tensor) -> Tensor:
    """The hole pixels whose whole 3x3 neighbourhood is hole, ``(B, 1, H, W)`` bool, so the
    Laplacian there sees only the fill: at the rim it would also see the step from the known
    pixels, and a flat grey fill would score as detail. A face whose hole has no interior
    (scattered pixels, thin strokes) keeps its whole hole."""
    hole = (known < 0.5).float()
    interior = -F.max_pool2d(-F.pad(hole, (1, 1, 1, 1), value=1.0), 3, stride=1) > 0.5
    empty = interior.flatten(1).sum(1) == 0
    return torch.where(empty.view(-1, 1, 1, 1), hole > 0.5, interior)


def median_sharpness(output: Tensor, truth: Tensor, known: Tensor) -> float:
    """The median of :func:`hole_sharpness` over the faces that have something to compare."""
    ratios = hole_sharpness(output, truth, known)
    ratios = ratios[torch.isfinite(ratios)]
    return float(ratios.median()) if len(ratios) else float("nan")


def realism_distance(output: Tensor, truth: Tensor, known: Tensor, *, seed: int = 0) -> float:
    """The SWD (x 1e3) of the fills' finest-band patches in the holes to other real faces'
    at the same places (see the module notes); NaN with fewer than two faces or no hole."""
    if len(output) < 2:
        return float("nan")
    others = truth.roll(1, dims=0)  # face i is compared with real face i - 1: not itself
    fine_fill = laplacian_pyramid(output.float().cpu())[0]
    fine_real = laplacian_pyramid(others.float().cpu())[0]
    places = _hole_places(known.cpu(), PATCHES_PER_FACE, torch.Generator().manual_seed(seed))
    if places is None:
        return float("nan")
    fill = cut_patches(fine_fill, places)
    real = cut_patches(fine_real, places)
    mean, std = _channel_statistics(real)
    fill, real = (fill - mean) / std, (real - mean) / std
    rng = torch.Generator().manual_seed(seed + 1)
    distances = []
    for _ in range(REPEATS):
        units = torch.randn(fill.shape[1], DIRECTIONS, generator=rng)
        units /= units.norm(dim=0, keepdim=True)
        distances.append((torch.sort(fill @ units, 0)[0] - torch.sort(real @ units, 0)[0]).abs())
    return float(torch.stack([d.mean() for d in distances]).mean()) * 1e3


def _hole_places(known: Tensor, per_face: int, rng: torch.Generator) -> tuple[Tensor, ...] | None:
    """Top-left corners of ``per_face`` 7x7 patches per face, each centred on a hole pixel
    of that face (drawn with replacement); faces without a hole give none."""
    _, _, height, width = known.shape
    half = PATCH // 2
    hole = known[:, 0, half : height - half, half : width - half] < 0.5  # centres that fit
    faces, tops, lefts = [], [], []
    for index, centres in enumerate(hole):
        where = centres.nonzero()
        if len(where) == 0:
            continue
        picked = where[torch.randint(0, len(where), (per_face,), generator=rng)]
        faces.append(torch.full((per_face,), index))
        tops.append(picked[:, 0])
        lefts.append(picked[:, 1])
    if not faces:
        return None
    return torch.cat(faces), torch.cat(tops), torch.cat(lefts)


def _channel_statistics(descriptors: Tensor) -> tuple[Tensor, Tensor]:
    """Per colour channel mean and deviation of ``descriptors``, one value per column."""
    per_channel = descriptors.view(len(descriptors), -1, PATCH * PATCH)
    mean = per_channel.mean(dim=(0, 2)).repeat_interleave(PATCH * PATCH)
    std = per_channel.std(dim=(0, 2)).clamp_min(1e-8).repeat_interleave(PATCH * PATCH)
    return mean, std
