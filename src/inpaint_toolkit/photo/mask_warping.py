"""Damage masks between the photo and the aligned crop (True = damaged, in both frames).

Photo -> crop errs on the side of damage: a crop pixel is damaged if any photo pixel in
its footprint is, and one crop pixel more around that (``CROP_MARGIN``), because the
Lanczos filter that shrinks the face reaches past a pixel's own footprint; so no known
crop pixel carries paint, a scratch or text from the damaged area.

Crop -> photo maps a mask drawn on the aligned face (a mask plugin's hole, for instance)
to the photo: a photo pixel is damaged if its centre falls in a damaged crop pixel.
"""

from __future__ import annotations

import cv2
import numpy as np

from inpaint_toolkit.photo.alignment import AlignedFace, crop_window, supersampled_matrix

# Crop pixels added around the footprint-based hole (see the module's docstring).
CROP_MARGIN = 1


def crop_mask_from_photo(damage: np.ndarray, aligned: AlignedFace) -> np.ndarray:
    """``(size, size)`` bool: crop pixels that a photo-size damage mask touches."""
    damage = _photo_mask(damage, aligned)
    size, k = aligned.size, aligned.supersampling
    # Bilinear warp onto the supersampled crop: any weight from a damaged photo pixel
    # counts, which grows the hole by up to one photo pixel; then each crop pixel takes
    # the maximum over its k x k block, its footprint.
    big = cv2.warpAffine(
        damage.astype(np.float32),
        supersampled_matrix(aligned.matrix, k),
        (size * k, size * k),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0.0,
    )
    hole = big.reshape(size, k, size, k).max(axis=(1, 3)) > 0
    if CROP_MARGIN and hole.any():
        side = 2 * CROP_MARGIN + 1
        hole = cv2.dilate(hole.astype(np.uint8), np.ones((side, side), np.uint8)) > 0
    return hole


def photo_mask_from_crop(crop_damage: np.ndarray, aligned: AlignedFace) -> np.ndarray:
    """``(H, W)`` bool: photo pixels whose centre falls in a damaged crop pixel.

    Photo pixels outside the crop are never damaged. The way to use a mask plugin on a
    photo: draw the plugin's hole on the aligned crop, then map it here.
    """
    crop_damage = np.asarray(crop_damage)
    if crop_damage.shape != (aligned.size, aligned.size):
        raise ValueError(
            f"crop mask has shape {crop_damage.shape}, expected {(aligned.size, aligned.size)}"
        )
    height, width = aligned.photo_shape
    mask = np.zeros((height, width), dtype=bool)
    x0, y0, x1, y1 = crop_window(aligned)
    if x1 <= x0 or y1 <= y0:
        return mask
    # Nearest neighbour: each photo pixel takes the crop pixel its centre falls in;
    # outside the crop the constant border gives "not damaged".
    to_window = aligned.inverse.copy()
    to_window[:, 2] -= (x0, y0)
    window = cv2.warpAffine(
        crop_damage.astype(np.uint8),
        to_window,
        (x1 - x0, y1 - y0),
        flags=cv2.INTER_NEAREST,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
    mask[y0:y1, x0:x1] = window > 0
    return mask


def photo_mask_from_crops(crop_damages: list[np.ndarray], faces: list[AlignedFace]) -> np.ndarray:
    """The union of :func:`photo_mask_from_crop` over several faces of one photo."""
    if not faces or len(crop_damages) != len(faces):
        raise ValueError("give one crop mask per aligned face, and at least one face")
    mask = np.zeros(faces[0].photo_shape, dtype=bool)
    for crop_damage, aligned in zip(crop_damages, faces, strict=True):
        mask |= photo_mask_from_crop(crop_damage, aligned)
    return mask


def _photo_mask(damage: np.ndarray, aligned: AlignedFace) -> np.ndarray:
    damage = np.asarray(damage)
    if damage.shape != aligned.photo_shape:
        raise ValueError(f"damage mask has shape {damage.shape}, the photo {aligned.photo_shape}")
    return damage.astype(bool)
