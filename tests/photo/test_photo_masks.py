"""Damage masks between the photo and the aligned crop."""

from __future__ import annotations

import cv2
import numpy as np
from photo_support import identity

from inpaint_toolkit.photo import (
    Face,
    align_face,
    align_faces,
    crop_face,
    crop_mask_from_photo,
    photo_mask_from_crop,
    photo_mask_from_crops,
    repair_photo,
)
from inpaint_toolkit.photo.alignment import EYE_LINE


def paint_discs(shape: tuple[int, ...], centres, radius: int) -> np.ndarray:
    mask = np.zeros(shape[:2], np.uint8)
    for x, y in centres:
        cv2.circle(mask, (round(x), round(y)), radius, 1, thickness=-1)
    return mask > 0


def test_a_mask_over_the_eyes_lands_on_the_eye_band(photo: np.ndarray) -> None:
    aligned = align_faces(photo)[0]
    face = aligned.face
    assert face.eyes_found
    damage = paint_discs(photo.shape, [face.left_eye, face.right_eye], radius=8)
    hole = crop_mask_from_photo(damage, aligned)
    rows = np.nonzero(hole.any(axis=1))[0]
    eye_row = EYE_LINE * 64 - 0.5
    assert rows.min() <= eye_row <= rows.max()
    # discs of 8 photo px (about 4 crop px) plus the one-pixel margin: within 7 rows
    assert eye_row - 7 <= rows.min() and rows.max() <= eye_row + 7
    # two holes, one on each side of the middle column
    assert hole[:, :28].any() and hole[:, 36:].any() and not hole[:, 31:33].any()


def test_photo_to_crop_never_misses_a_damaged_pixel(photo: np.ndarray) -> None:
    aligned = align_faces(photo)[0]
    rng = np.random.default_rng(0)
    checked = 0
    for x, y in rng.integers(0, 250, size=(60, 2)):
        damage = np.zeros(photo.shape[:2], bool)
        damage[y, x] = True
        hole = crop_mask_from_photo(damage, aligned)
        cx, cy = np.rint(aligned.matrix @ np.array([x, y, 1.0])).astype(int)
        if not (0 <= cx < 64 and 0 <= cy < 64):
            assert hole.sum() <= 9  # outside the crop: at most its margin reaches in
            continue
        checked += 1
        assert hole[cy, cx], (x, y)
        assert hole.sum() <= 16  # one photo pixel: its crop pixel, a neighbour, the margin
    assert checked > 10


def test_damage_outside_the_hole_does_not_leak_into_known_crop_pixels(photo) -> None:
    aligned = align_faces(photo)[0]
    damage = np.zeros(photo.shape[:2], bool)
    damage[100:130, 90:160] = True
    painted = photo.copy()
    painted[damage] = 255
    known = ~crop_mask_from_photo(damage, aligned)
    change = np.abs(crop_face(painted, aligned).astype(np.int16) - crop_face(photo, aligned))
    assert change[known].max() <= 8  # measured: at most 5 with the one-pixel margin


def test_a_crop_mask_maps_to_the_photo_and_back() -> None:
    face = Face((100, 100, 200, 200), (160.0, 180.0), (240.0, 185.0), True)
    aligned = align_face(face, (400, 500), 64)
    centre = np.zeros((64, 64), bool)
    centre[16:48, 16:48] = True
    photo_mask = photo_mask_from_crop(centre, aligned)
    assert photo_mask.shape == (400, 500)
    # area: 32x32 crop pixels, each (1 / scale)^2 photo pixels
    expected = 32 * 32 / aligned.scale**2
    assert abs(photo_mask.sum() - expected) < 0.05 * expected
    back = crop_mask_from_photo(photo_mask, aligned)
    assert back[centre].all()  # nothing lost
    grown = cv2.dilate(centre.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    assert not back[~grown].any()  # and at most two pixels more around


def test_center_mask_on_a_photo_through_the_aligned_frame(photo: np.ndarray) -> None:
    faces = align_faces(photo)
    centre = np.zeros((64, 64), bool)
    centre[16:48, 16:48] = True
    damage = photo_mask_from_crops([centre], faces)
    result = repair_photo(photo, damage, identity, faces=faces, on_notice=None)
    assert result.repaired == [0]
    assert not result.known[0][20:44, 20:44].any()
    assert np.array_equal(result.photo[~damage], photo[~damage])
