"""Matching the photo's grain inside a filled hole.

A fill that went through a 64-pixel crop is smoother than the photo around it (sensor
noise, JPEG grain and fine texture are gone), which shows as a waxy patch at full
resolution. Here the "grain" is the spread of a high-pass residual (the image minus its
Gaussian blur), estimated robustly (1.4826 x the median absolute residual, per colour
channel) on the known pixels in a ring around the hole and on the fill inside it. Where the
fill is smoother, seeded Gaussian noise makes up the difference: white noise of standard
deviation ``a`` has a residual spread of ``a * g``, with ``g`` from the blur kernel, so
``a = sqrt(photo^2 - fill^2) / g``. Only hole pixels change.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

BLUR_SIGMA = 1.0  # the high-pass residual is the image minus this Gaussian blur
# Residuals are measured this far from the hole's edge (pixels), so that neither side's
# blur reaches across it, in a ring this wide outside the hole.
EDGE_GAP = 4
RING_WIDTH = 8
MIN_SAMPLES = 30  # fewer pixels than this on either side: the estimate is skipped


@dataclass(frozen=True)
class Grain:
    """Residual spreads (grey levels, per channel) and the noise added (its std)."""

    photo: tuple[float, ...]
    fill: tuple[float, ...]
    added: tuple[float, ...]


def match_grain(
    image: np.ndarray, hole: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, Grain | None]:
    """Add noise inside ``hole`` until its grain matches the ring around it.

    ``image``: ``(H, W, 3)`` uint8 with the hole already filled; ``hole``: ``(H, W)`` bool.
    Returns the new image (a copy; pixels outside the hole equal ``image``'s) and the
    measurement, or ``(image, None)`` where there are too few pixels to measure.
    """
    hole = np.asarray(hole, dtype=bool)
    if not hole.any():
        return image, None
    box = _bounding_box(hole, EDGE_GAP + RING_WIDTH + 8, hole.shape)
    patch, patch_hole = image[box].astype(np.float32), hole[box]
    residual = patch - cv2.GaussianBlur(patch, (0, 0), BLUR_SIGMA, borderType=cv2.BORDER_REFLECT)
    near = _grow(patch_hole, EDGE_GAP)
    ring = _grow(patch_hole, EDGE_GAP + RING_WIDTH) & ~near
    inside = patch_hole & ~_grow(~patch_hole, EDGE_GAP)
    if ring.sum() < MIN_SAMPLES or inside.sum() < MIN_SAMPLES:
        return image, None
    photo_spread = _robust_spread(residual[ring])
    fill_spread = _robust_spread(residual[inside])
    missing = np.sqrt(np.maximum(photo_spread**2 - fill_spread**2, 0.0)) / _residual_gain()
    result = image.copy()
    if np.any(missing > 0):
        ys, xs = np.nonzero(hole)
        noise = rng.standard_normal((ys.size, 3)) * missing
        result[ys, xs] = np.clip(np.rint(image[ys, xs] + noise), 0, 255).astype(np.uint8)
    grain = Grain(
        tuple(round(float(v), 2) for v in photo_spread),
        tuple(round(float(v), 2) for v in fill_spread),
        tuple(round(float(v), 2) for v in missing),
    )
    return result, grain


def _robust_spread(values: np.ndarray) -> np.ndarray:
    """Per channel: 1.4826 x median absolute value (the std, for Gaussian residuals)."""
    return 1.4826 * np.median(np.abs(values), axis=0)


def _residual_gain() -> float:
    """Residual std of unit white noise: sqrt(sum((delta - kernel)^2)) over the 2-D kernel."""
    line = cv2.getGaussianKernel(2 * int(np.ceil(4 * BLUR_SIGMA)) + 1, BLUR_SIGMA).ravel()
    kernel = np.outer(line, line)
    kernel[kernel.shape[0] // 2, kernel.shape[1] // 2] -= 1.0
    return float(np.sqrt(np.sum(kernel**2)))


def _grow(mask: np.ndarray, radius: int) -> np.ndarray:
    element = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return cv2.dilate(mask.astype(np.uint8), element) > 0


def _bounding_box(mask: np.ndarray, margin: int, shape: tuple[int, ...]) -> tuple[slice, slice]:
    ys, xs = np.nonzero(mask)
    return (
        slice(max(0, ys.min() - margin), min(shape[0], ys.max() + 1 + margin)),
        slice(max(0, xs.min() - margin), min(shape[1], xs.max() + 1 + margin)),
    )
