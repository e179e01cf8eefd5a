"""What a person sees: the hole's detail against the real face's, and the realism distance,
on real held-out faces. A blur must lose detail and distance, noise must read as more detail,
and the real faces themselves must sit at the measure's floor."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from inpaint_toolkit.evaluation.evaluate import blurred_in_hole
from inpaint_toolkit.evaluation.realism import (
    high_frequency_energy,
    hole_interior,
    hole_sharpness,
    median_sharpness,
    realism_distance,
)
from inpaint_toolkit.plugins.masks import CenterMask, EyesMask


@pytest.fixture
def faces(celeba_test_faces: np.ndarray) -> torch.Tensor:
    chosen = torch.from_numpy(celeba_test_faces[:48]).permute(0, 3, 1, 2).float()
    return chosen / 127.5 - 1.0


@pytest.fixture
def known(faces: torch.Tensor) -> torch.Tensor:
    return CenterMask()(faces, torch.Generator().manual_seed(0)).known.float()


def test_a_grey_checkerboard_has_the_laplacians_energy_and_a_flat_image_none():
    rows, cols = torch.meshgrid(torch.arange(8), torch.arange(8), indexing="ij")
    board = ((rows + cols) % 2).float().expand(1, 3, 8, 8) * 2 - 1  # luma 0 and 1
    inside = torch.zeros(1, 1, 8, 8)
    inside[..., 1:7, 1:7] = 1  # away from the padded border: every Laplacian is +-4
    assert high_frequency_energy(board, inside).item() == pytest.approx(16.0)
    assert high_frequency_energy(torch.zeros(1, 3, 8, 8), inside).item() == 0.0
    assert math.isnan(high_frequency_energy(board, torch.zeros(1, 1, 8, 8)).item())


def test_the_hole_interior_leaves_out_the_rim_but_keeps_a_thin_stroke():
    known = torch.ones(2, 1, 16, 16)
    known[0, :, 3:13, 3:13] = 0  # a 10x10 hole: its interior is 8x8
    known[1, :, 5, 2:14] = 0  # a one-pixel stroke has no interior: all of it counts
    interior = hole_interior(known)
    assert interior[0].sum() == 64 and interior[0, 0, 4:12, 4:12].all()
    assert torch.equal(interior[1], known[1] < 0.5)


def test_the_real_face_is_as_sharp_as_itself_a_blur_less_and_noise_more(faces, known):
    assert median_sharpness(faces, faces, known) == pytest.approx(1.0)
    blurred = [median_sharpness(blurred_in_hole(faces, known, s), faces, known) for s in (0.5, 1)]
    assert 0.2 < blurred[0] < 0.8 and blurred[1] < blurred[0] / 2
    flat = faces * known  # a grey hole: no detail at all, whatever the rim does
    assert median_sharpness(flat, faces, known) == 0.0
    noise = torch.randn(faces.shape, generator=torch.Generator().manual_seed(1)) * 0.1
    assert median_sharpness(faces + noise * (1 - known), faces, known) > 1.2


def test_sharpness_is_per_face_and_undefined_without_a_hole(faces):
    known = torch.ones(2, 1, 64, 64)
    known[0, :, 20:40, 20:40] = 0  # the second face has no hole
    ratios = hole_sharpness(faces[:2] * 0.5, faces[:2], known)
    assert ratios[0].item() == pytest.approx(0.25)  # half the contrast, a quarter the energy
    assert math.isnan(ratios[1].item())


def test_real_faces_sit_at_the_floor_and_a_blur_or_a_flat_fill_far_above(faces, known):
    floor = realism_distance(faces, faces, known)
    blur = realism_distance(blurred_in_hole(faces, known, 1.0), faces, known)
    flat = realism_distance(faces * known, faces, known)
    assert 0 < floor < blur / 3 and floor < flat / 3
    # The real side is another face at the same places, so the truth is not its own match.
    eyes = EyesMask()(faces, torch.Generator()).known.float()
    assert realism_distance(faces, faces, eyes) > 0


def test_realism_follows_its_seed_and_needs_two_faces_and_a_hole(faces, known):
    blurred = blurred_in_hole(faces, known, 0.5)
    assert realism_distance(blurred, faces, known, seed=3) == realism_distance(
        blurred, faces, known, seed=3
    )
    assert math.isnan(realism_distance(faces[:1], faces[:1], known[:1]))
    assert math.isnan(realism_distance(faces, faces, torch.ones_like(known)))
