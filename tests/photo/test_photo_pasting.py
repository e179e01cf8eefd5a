"""Pasting repairs back: only damaged pixels change; seams, grain and uncovered holes."""

from __future__ import annotations

import numpy as np
import pytest
from photo_support import all_grey, identity

from inpaint_toolkit.photo import align_faces, crop_face, paste_faces, repair_photo
from inpaint_toolkit.photo.grain import match_grain


def eye_damage(shape: tuple[int, ...]) -> np.ndarray:
    damage = np.zeros(shape[:2], bool)
    damage[95:125, 85:165] = True
    return damage


@pytest.mark.parametrize("blend", ["poisson", "overlay"])
def test_only_damaged_pixels_change(photo: np.ndarray, blend: str) -> None:
    damage = eye_damage(photo.shape)
    painted = photo.copy()
    painted[damage] = 255
    result = repair_photo(painted, damage, all_grey, blend=blend, on_notice=None)
    assert result.repaired == [0]
    assert np.array_equal(result.photo[~damage], painted[~damage])  # bit for bit
    changed = np.any(result.photo != painted, axis=2)[damage]
    assert changed.mean() > 0.99
    # grey went in, and grey (give or take the blend and the grain) came out
    assert abs(np.median(result.photo[damage]) - 128) < 30


def test_poisson_removes_a_colour_cast_of_the_fill(photo: np.ndarray) -> None:
    aligned = align_faces(photo)
    damage = eye_damage(photo.shape)
    truth = crop_face(photo, aligned[0]).astype(np.int16)
    cast = np.clip(truth + (20, -12, 15), 0, 255).astype(np.uint8)
    pasted = {
        blend: paste_faces(photo, damage, [cast], aligned, blend=blend, grain=False).photo
        for blend in ("overlay", "poisson")
    }
    error = {b: np.abs(p.astype(np.int16) - photo)[damage].mean() for b, p in pasted.items()}
    assert error["overlay"] > 12  # the cast, pasted as is
    assert error["poisson"] < 0.5 * error["overlay"]


def test_a_hole_past_the_crop_is_still_filled_and_reported(photo: np.ndarray) -> None:
    damage = np.zeros(photo.shape[:2], bool)
    damage[150:250, 100:160] = True  # chin down to the photo's bottom edge
    painted = photo.copy()
    painted[damage] = 255
    notes: list[str] = []
    result = repair_photo(painted, damage, identity, on_notice=notes.append)
    assert result.uncovered.any() and not result.uncovered[~damage].any()
    assert any("Telea" in note for note in notes)
    assert np.array_equal(result.photo[~damage], painted[~damage])
    # Telea fills from the shirt and neck around it, not with the white paint
    assert result.photo[result.uncovered].mean() < 200


def test_grain_is_matched_inside_the_hole_only() -> None:
    rng = np.random.default_rng(1)
    image = np.clip(128 + 6.0 * rng.standard_normal((120, 120, 3)), 0, 255).astype(np.uint8)
    hole = np.zeros((120, 120), bool)
    hole[30:90, 30:90] = True
    image[hole] = 128  # a perfectly smooth fill
    grained, grain = match_grain(image, hole, np.random.default_rng(0))
    assert grain is not None
    assert np.array_equal(grained[~hole], image[~hole])
    assert max(grain.fill) < 0.5 and min(grain.added) > 4.0
    again, _ = match_grain(image, hole, np.random.default_rng(0))
    assert np.array_equal(grained, again)  # seeded
    # measured the same way, the hole's grain now matches the ring's within 15 %
    _, after = match_grain(grained, hole, np.random.default_rng(0))
    assert after is not None
    for photo_spread, fill_spread in zip(after.photo, after.fill, strict=True):
        assert abs(fill_spread - photo_spread) < 0.15 * photo_spread


def test_the_same_seed_gives_the_same_photo(photo: np.ndarray) -> None:
    damage = eye_damage(photo.shape)
    first = repair_photo(photo, damage, all_grey, seed=3, on_notice=None).photo
    second = repair_photo(photo, damage, all_grey, seed=3, on_notice=None).photo
    assert np.array_equal(first, second)
