"""Aligning a face: the similarity transform from a photo to the model's face crop.

The model was trained on crops framed like the CelebA data (see the data README): the
eye line at 52 % of the height, the eyes 36 % of the width apart, centred left to right.
Two eye centres fix a similarity transform (turn, uniform scale, shift) onto that frame.

Coordinates follow OpenCV: ``(x, y)`` with integer values at pixel centres, so
``cv2.warpAffine(photo, matrix, (size, size))`` would give the crop. It is not used that
way, because a face much bigger than the crop aliases when it is shrunk by sampling: the
photo is warped onto a crop ``k`` times larger (``k`` at least twice the shrink factor,
bicubic), which Pillow's Lanczos filter then shrinks to ``size``. On the 200 LFW photos
that reproduces the data's own 64-pixel crops (made with Pillow's Lanczos from the
photo) to 0.21 grey levels of mean error with the data's transform, against 0.81 for a
straight bilinear warp.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from inpaint_toolkit.photo.detection import Face

EYE_LINE = 0.52  # of the crop's height, from the top
INTER_OCULAR = 0.36  # of the crop's width
# The supersampled crop is at most this many pixels across.
MAX_SUPERSAMPLED_SIDE = 2048


@dataclass(frozen=True)
class AlignedFace:
    """A face and the transform between its photo and its ``size x size`` crop.

    ``matrix`` (2x3, float64) maps photo pixel coordinates to crop pixel coordinates;
    ``inverse`` maps back. ``photo_shape`` is the photo's ``(height, width)``.
    """

    face: Face
    size: int
    matrix: np.ndarray
    inverse: np.ndarray
    photo_shape: tuple[int, int]

    @property
    def scale(self) -> float:
        """Crop pixels per photo pixel (below 1: the face is shrunk)."""
        return float(math.hypot(self.matrix[0, 0], self.matrix[1, 0]))

    @property
    def supersampling(self) -> int:
        """``k``: the crop is first made ``k * size`` pixels across, then shrunk."""
        limit = max(1, MAX_SUPERSAMPLED_SIDE // self.size)
        return int(min(limit, max(1, math.ceil(2.0 / self.scale))))


def eye_targets(size: int) -> tuple[tuple[float, float], tuple[float, float]]:
    """Where the left and right eye centres go in a ``size`` crop (pixel-centre coords)."""
    eye_y = EYE_LINE * size - 0.5
    half = INTER_OCULAR * size / 2
    return (size / 2 - half - 0.5, eye_y), (size / 2 + half - 0.5, eye_y)


def align_face(face: Face, photo_shape: tuple[int, ...], size: int = 64) -> AlignedFace:
    """The transform that puts ``face``'s eyes on the model's eye positions."""
    if size < 8:
        raise ValueError(f"crop size {size} is too small")
    (px1, py1), (px2, py2) = face.left_eye, face.right_eye
    (qx1, qy1), (qx2, qy2) = eye_targets(size)
    source = complex(px2 - px1, py2 - py1)
    if abs(source) < 1e-6:
        raise ValueError("the two eye centres coincide")
    rotation_scale = complex(qx2 - qx1, qy2 - qy1) / source  # a + bi: scale * e^(i angle)
    a, b = rotation_scale.real, rotation_scale.imag
    shift = complex(qx1, qy1) - rotation_scale * complex(px1, py1)
    matrix = np.array([[a, -b, shift.real], [b, a, shift.imag]], dtype=np.float64)
    height, width = photo_shape[:2]
    return AlignedFace(face, size, matrix, cv2.invertAffineTransform(matrix), (height, width))


def crop_face(photo: np.ndarray, aligned: AlignedFace) -> np.ndarray:
    """The aligned ``(size, size, 3)`` uint8 crop; beyond the photo's edge, edge pixels repeat."""
    k = aligned.supersampling
    big = cv2.warpAffine(
        np.ascontiguousarray(photo),
        supersampled_matrix(aligned.matrix, k),
        (aligned.size * k, aligned.size * k),
        flags=cv2.INTER_CUBIC,
        borderMode=cv2.BORDER_REPLICATE,
    )
    if k == 1:
        return big
    return np.asarray(Image.fromarray(big).resize((aligned.size,) * 2, Image.LANCZOS))


def supersampled_matrix(matrix: np.ndarray, k: int) -> np.ndarray:
    """``matrix`` onto a crop ``k`` times larger, pixel centres kept: crop pixel ``i``
    covers big pixels ``k*i .. k*i + k - 1``, whose middle is ``k*i + (k - 1) / 2``."""
    big = matrix * k
    big[:, 2] += (k - 1) / 2
    return big


def crop_coverage(aligned: AlignedFace) -> np.ndarray:
    """``(size, size)`` bool: crop pixels whose centre falls inside the photo."""
    size = aligned.size
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64)
    inverse = aligned.inverse
    px = inverse[0, 0] * xs + inverse[0, 1] * ys + inverse[0, 2]
    py = inverse[1, 0] * xs + inverse[1, 1] * ys + inverse[1, 2]
    height, width = aligned.photo_shape
    return (px >= -0.5) & (px <= width - 0.5) & (py >= -0.5) & (py <= height - 0.5)


def crop_window(aligned: AlignedFace, margin: int = 2) -> tuple[int, int, int, int]:
    """``(x0, y0, x1, y1)``: the photo rectangle (end exclusive, clipped to the photo)
    that holds the whole crop, ``margin`` photo pixels wider on each side."""
    size = aligned.size
    corners = np.array(
        [[-0.5, -0.5], [size - 0.5, -0.5], [-0.5, size - 0.5], [size - 0.5, size - 0.5]]
    )
    points = corners @ aligned.inverse[:, :2].T + aligned.inverse[:, 2]
    height, width = aligned.photo_shape
    x0 = max(0, math.floor(points[:, 0].min()) - margin)
    y0 = max(0, math.floor(points[:, 1].min()) - margin)
    x1 = min(width, math.ceil(points[:, 0].max()) + margin + 1)
    y1 = min(height, math.ceil(points[:, 1].max()) + margin + 1)
    return x0, y0, max(x0, x1), max(y0, y1)


def crop_to_photo(
    crop: np.ndarray,
    aligned: AlignedFace,
    window: tuple[int, int, int, int],
    interpolation: int = cv2.INTER_CUBIC,
) -> np.ndarray:
    """Warp a crop-sized array back to the photo rectangle ``window`` (``x0, y0, x1, y1``).

    Returns the window's pixels (crop edge pixels repeat past the crop's border; see
    :func:`photo_coverage` for which photo pixels the crop really covers).
    """
    x0, y0, x1, y1 = window
    to_window = aligned.inverse.copy()
    to_window[:, 2] -= (x0, y0)
    return cv2.warpAffine(
        np.ascontiguousarray(crop),
        to_window,
        (x1 - x0, y1 - y0),
        flags=interpolation,
        borderMode=cv2.BORDER_REPLICATE,
    )


def photo_coverage(aligned: AlignedFace, window: tuple[int, int, int, int]) -> np.ndarray:
    """Bool over ``window``: photo pixels whose centre falls inside the crop."""
    x0, y0, x1, y1 = window
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float64)
    matrix, limit = aligned.matrix, aligned.size - 0.5
    cx = matrix[0, 0] * xs + matrix[0, 1] * ys + matrix[0, 2]
    cy = matrix[1, 0] * xs + matrix[1, 1] * ys + matrix[1, 2]
    return (cx >= -0.5) & (cx <= limit) & (cy >= -0.5) & (cy <= limit)
