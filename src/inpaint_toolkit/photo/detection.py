"""Finding faces and their eyes in a photograph, offline, with OpenCV's Haar cascades.

Why Haar: it is the only face finder that the installed ``opencv-python-headless`` can run
without a download. ``cv2.FaceDetectorYN`` (YuNet) needs an ONNX model file that OpenCV
does not ship, and ``cv2.face`` (the landmark models) is in the contrib build, which is
not installed. The cascades ship in ``cv2.data.haarcascades``.

The steps, for a photo:

1. Faces: the frontal-face cascades on the greyscale photo (shrunk so that its longer
   side is at most ``DETECTION_SIDE``), in the order of ``FACE_ATTEMPTS`` until one finds
   a face: ``alt`` first (its boxes sit most consistently on the eyes), then ``default``,
   plain and on the equalised histogram, then ``alt2``; failing all, the photo turned by
   +-20 and +-40 degrees (a tilted head). A box whose centre lies in a larger box is
   dropped; the rest come largest first.
2. Eyes, inside each face box: the eye cascades (plain, with glasses, left/right) on the
   upper half of the face, resampled to ``EYE_SEARCH_WIDTH`` pixels across; the pair that
   looks most like two eyes (one in each half, level, about 0.37 face widths apart) wins.
   The pair's slant is kept; its middle and spacing are averaged with the box's (below).
3. If no such pair is found, or it disagrees with the box, the eyes are placed where they
   usually are inside a Haar box (``EYES_IN_BOX``), so every face found can be aligned.

``benchmarks/measure_photo_detection.py`` measures all of this on ``shared/data/photos``.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np

# The longer side of the image the face cascade scans; bigger photos are shrunk for speed
# (a face must then be at least 24 / 1024 of the photo's longer side to be found).
DETECTION_SIDE = 1024
MIN_FACE_PIXELS = 24
# Damage is inpainted (Telea, this radius) before the search. With a white block over the
# eyes of 100 of the LFW photos (every other one), the face was found in 29 as they were
# and in 71 after the fill (a white left half of the face: 37 and 89; the mouth: 86, 98).
DAMAGE_FILL_RADIUS = 5
# Tilts tried, in order, when no upright face is found (degrees, counter-clockwise), each
# with the first TILTED_ATTEMPTS of FACE_ATTEMPTS (a photo without a face costs less).
TILTS = (20.0, -20.0, 40.0, -40.0)
TILTED_ATTEMPTS = 2
# The face box's upper part is resampled to this width before the eye cascades run, so
# tiny faces are big enough for their 20-pixel windows and huge ones stay fast.
EYE_SEARCH_WIDTH = 120
EYE_BAND = (0.15, 0.55)  # rows of the face box searched for eyes, as fractions of its height

# Where the eyes are inside a frontal-face Haar box, as fractions of the box (x of the
# left eye, x of the right eye, y of both). Measured on the 200 LFW photos in
# shared/data/photos: the data README places their eyes, on average, at (103.4, 111.2)
# and (146.6, 111.2) (the 120-pixel crop at (65, 50) with the eye line at 51 % and the
# eyes 36 % apart); these are the medians of those points relative to the ``alt``
# cascade's box around the middle face (the ``default`` cascade's differ by < 0.01).
EYES_IN_BOX = (0.306, 0.689, 0.383)
# A cascade pair is kept only when each eye is within this many box widths of the
# position above; else the box geometry is used. (A guard against a stray pair: on the
# LFW photos, anything from 0.15 to 1.0 keeps the same pairs.)
EYE_AGREEMENT = 0.15

# (cascade, equalise the histogram first, minNeighbors), tried in order until one finds a face.
FACE_ATTEMPTS = (
    ("haarcascade_frontalface_alt.xml", False, 3),
    ("haarcascade_frontalface_default.xml", False, 5),
    ("haarcascade_frontalface_default.xml", True, 5),
    ("haarcascade_frontalface_alt2.xml", True, 3),
)
_EYE_CASCADES = (
    "haarcascade_eye.xml",
    "haarcascade_eye_tree_eyeglasses.xml",
    "haarcascade_lefteye_2splits.xml",
    "haarcascade_righteye_2splits.xml",
)

Point = tuple[float, float]


@dataclass(frozen=True)
class Face:
    """One face in a photo; coordinates are photo pixels (x right, y down, pixel centres).

    ``box`` is ``(x, y, width, height)``, axis-aligned (for a face found on a turned
    photo, the box that holds the turned one, clipped to the photo). ``left_eye`` is the
    eye on the image's left; both eyes are the estimates that alignment uses (see the
    module's steps).
    ``eyes_found`` is False where the eyes were placed from the box's geometry alone.
    """

    box: tuple[int, int, int, int]
    left_eye: Point
    right_eye: Point
    eyes_found: bool

    @property
    def inter_ocular(self) -> float:
        """Distance between the eye centres, in photo pixels."""
        return math.dist(self.left_eye, self.right_eye)

    @property
    def area(self) -> int:
        return self.box[2] * self.box[3]


def find_faces(photo: np.ndarray, damage: np.ndarray | None = None) -> list[Face]:
    """All faces in an RGB ``(H, W, 3)`` uint8 photo, largest first (may be empty).

    ``damage`` (``(H, W)`` bool, True = damaged), where given, is filled in first with
    OpenCV's Telea inpainting: paint or a scratch over the eyes otherwise hides the face
    (see ``DAMAGE_FILL_RADIUS``).
    """
    grey = _grey(photo)
    if damage is not None:
        grey = _filled(grey, np.asarray(damage, dtype=bool))
    boxes = _upright_boxes(grey)
    if boxes:
        return [_face_in_box(grey, box) for box in boxes]
    for tilt in TILTS:
        faces = _tilted_faces(grey, tilt)
        if faces:
            return faces
    return []


def _filled(grey: np.ndarray, damage: np.ndarray) -> np.ndarray:
    """``grey`` with the damaged pixels inpainted (Telea), on a box around them."""
    if damage.shape != grey.shape:
        raise ValueError(f"damage mask {damage.shape} does not match the photo {grey.shape}")
    if not damage.any():
        return grey
    ys, xs = np.nonzero(damage)
    margin = 4 * DAMAGE_FILL_RADIUS
    box = (
        slice(max(0, ys.min() - margin), ys.max() + 1 + margin),
        slice(max(0, xs.min() - margin), xs.max() + 1 + margin),
    )
    filled = grey.copy()
    filled[box] = cv2.inpaint(
        np.ascontiguousarray(grey[box]),
        damage[box].astype(np.uint8),
        DAMAGE_FILL_RADIUS,
        cv2.INPAINT_TELEA,
    )
    return filled


def eyes_from_box(box: tuple[float, float, float, float]) -> tuple[Point, Point]:
    """The usual eye centres inside a Haar face box (``EYES_IN_BOX``)."""
    x, y, width, height = box
    left_x, right_x, eye_y = EYES_IN_BOX
    return (x + left_x * width, y + eye_y * height), (x + right_x * width, y + eye_y * height)


def _grey(photo: np.ndarray) -> np.ndarray:
    array = np.asarray(photo)
    if array.ndim != 3 or array.shape[2] != 3 or array.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 RGB photo, got {array.shape} {array.dtype}")
    return cv2.cvtColor(array, cv2.COLOR_RGB2GRAY)


@cache
def _cascade(name: str) -> cv2.CascadeClassifier:
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + name)
    if cascade.empty():
        raise RuntimeError(f"OpenCV's {name} did not load from {cv2.data.haarcascades}")
    return cascade


def _upright_boxes(
    grey: np.ndarray, attempts: tuple[tuple[str, bool, int], ...] = FACE_ATTEMPTS
) -> list[tuple[int, int, int, int]]:
    """Face boxes in photo pixels, overlaps removed, largest first; tries ``attempts``."""
    shrink = min(1.0, DETECTION_SIDE / max(grey.shape))
    small = (
        grey
        if shrink == 1.0
        else cv2.resize(grey, None, fx=shrink, fy=shrink, interpolation=cv2.INTER_AREA)
    )
    for name, equalise, neighbours in attempts:
        image = cv2.equalizeHist(small) if equalise else small
        found = _cascade(name).detectMultiScale(
            image,
            scaleFactor=1.1,
            minNeighbors=neighbours,
            minSize=(MIN_FACE_PIXELS, MIN_FACE_PIXELS),
        )
        if len(found):
            boxes = [tuple(round(v / shrink) for v in box) for box in found]
            return _without_overlaps(boxes)
    return []


def _without_overlaps(boxes: list[tuple[int, ...]]) -> list[tuple[int, int, int, int]]:
    """Largest first; a box whose centre lies in a larger kept box is a duplicate."""
    kept: list[tuple[int, int, int, int]] = []
    for x, y, w, h in sorted(boxes, key=lambda b: b[2] * b[3], reverse=True):
        cx, cy = x + w / 2, y + h / 2
        if not any(kx <= cx <= kx + kw and ky <= cy <= ky + kh for kx, ky, kw, kh in kept):
            kept.append((x, y, w, h))
    return kept


def _face_in_box(grey: np.ndarray, box: tuple[int, int, int, int]) -> Face:
    expected = eyes_from_box(box)
    pair = _eye_pair(grey, box)
    if pair is not None:
        limit = EYE_AGREEMENT * box[2]
        if all(math.dist(p, q) <= limit for p, q in zip(pair, expected, strict=True)):
            left_eye, right_eye = _combine(pair, expected)
            return Face(box, left_eye, right_eye, eyes_found=True)
    return Face(box, expected[0], expected[1], eyes_found=False)


def _combine(found: tuple[Point, Point], expected: tuple[Point, Point]) -> tuple[Point, Point]:
    """Eyes from the cascades' pair and from the box: their mean middle and spacing, the
    pair's slant. The two are about equally good at place and size on the LFW photos
    (averaging them halves the framing error of the pair alone); only the pair sees a
    tilted head."""
    (fx1, fy1), (fx2, fy2) = found
    (ex1, ey1), (ex2, ey2) = expected
    middle_x, middle_y = (fx1 + fx2 + ex1 + ex2) / 4, (fy1 + fy2 + ey1 + ey2) / 4
    half = (math.dist(*found) + math.dist(*expected)) / 4
    angle = math.atan2(fy2 - fy1, fx2 - fx1)
    dx, dy = half * math.cos(angle), half * math.sin(angle)
    return (middle_x - dx, middle_y - dy), (middle_x + dx, middle_y + dy)


def _eye_pair(grey: np.ndarray, box: tuple[int, int, int, int]) -> tuple[Point, Point] | None:
    """The most eye-like pair of eye-cascade hits in the face's upper band, or None."""
    x, y, width, height = box
    top = max(0, int(y + EYE_BAND[0] * height))
    bottom = min(grey.shape[0], int(y + EYE_BAND[1] * height))
    left, right = max(0, x), min(grey.shape[1], x + width)
    if bottom - top < 4 or right - left < 8:
        return None
    zoom = EYE_SEARCH_WIDTH / width
    band = cv2.resize(
        grey[top:bottom, left:right],
        None,
        fx=zoom,
        fy=zoom,
        interpolation=cv2.INTER_AREA if zoom < 1 else cv2.INTER_CUBIC,
    )
    smallest, largest = round(0.1 * EYE_SEARCH_WIDTH), round(0.4 * EYE_SEARCH_WIDTH)
    candidates: list[tuple[float, float, float]] = []
    for name in _EYE_CASCADES:
        hits = _cascade(name).detectMultiScale(
            band,
            scaleFactor=1.05,
            minNeighbors=2,
            minSize=(smallest, smallest),
            maxSize=(largest, largest),
        )
        candidates += [(hx + hw / 2, hy + hh / 2, hw) for hx, hy, hw, hh in hits]
        pair = _best_pair(candidates, EYE_SEARCH_WIDTH)
        if pair is not None:
            # band pixel centres -> photo pixel centres
            (lx, ly), (rx, ry) = pair
            return _band_to_photo(lx, ly, left, top, zoom), _band_to_photo(rx, ry, left, top, zoom)
    return None


def _band_to_photo(x: float, y: float, left: int, top: int, zoom: float) -> Point:
    """A point of the resampled eye band -> photo pixel coordinates (pixel centres)."""
    return float(left + (x + 0.5) / zoom - 0.5), float(top + (y + 0.5) / zoom - 0.5)


def _best_pair(
    candidates: list[tuple[float, float, float]], width: float
) -> tuple[Point, Point] | None:
    """Two hits, one in each half, level, of like size, about 0.37 widths apart."""
    best, best_score = None, math.inf
    for first, second in itertools.combinations(candidates, 2):
        left, right = sorted((first, second))
        dx, dy = right[0] - left[0], right[1] - left[1]
        distance = math.hypot(dx, dy)
        if not 0.25 * width < distance < 0.55 * width or abs(dy) > 0.35 * distance:
            continue
        if left[0] > width / 2 or right[0] < width / 2:
            continue
        score = (
            abs(left[2] - right[2]) / max(left[2], right[2])
            + abs(dy) / distance
            + 2 * abs((left[0] + right[0]) / 2 - width / 2) / width
            + 2 * abs(distance / width - 0.37)
        )
        if score < best_score:
            best, best_score = ((left[0], left[1]), (right[0], right[1])), score
    return best


def _tilted_faces(grey: np.ndarray, tilt: float) -> list[Face]:
    """Faces found on the photo turned by ``tilt`` degrees, mapped back to the photo."""
    height, width = grey.shape
    centre = ((width - 1) / 2, (height - 1) / 2)
    turn = cv2.getRotationMatrix2D(centre, tilt, 1.0)
    # Grow the canvas so that no corner is cut off.
    cos, sin = abs(turn[0, 0]), abs(turn[0, 1])
    out_w, out_h = (
        int(math.ceil(width * cos + height * sin)),
        int(math.ceil(width * sin + height * cos)),
    )
    turn[0, 2] += (out_w - width) / 2
    turn[1, 2] += (out_h - height) / 2
    turned = cv2.warpAffine(
        grey, turn, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    back = cv2.invertAffineTransform(turn)
    faces = []
    for box in _upright_boxes(turned, FACE_ATTEMPTS[:TILTED_ATTEMPTS]):
        face = _face_in_box(turned, box)
        x, y, w, h = box
        corners = _apply(back, [(x, y), (x + w, y), (x, y + h), (x + w, y + h)])
        x0, y0 = np.maximum(corners.min(axis=0), 0).astype(int)
        x1, y1 = np.ceil(np.minimum(corners.max(axis=0), (width, height))).astype(int)
        left_eye, right_eye = _apply(back, [face.left_eye, face.right_eye])
        faces.append(
            Face(
                (int(x0), int(y0), int(x1 - x0), int(y1 - y0)),
                (float(left_eye[0]), float(left_eye[1])),
                (float(right_eye[0]), float(right_eye[1])),
                face.eyes_found,
            )
        )
    return faces


def _apply(matrix: np.ndarray, points: list[Point]) -> np.ndarray:
    """A 2x3 affine matrix applied to ``(x, y)`` points -> ``(N, 2)``."""
    array = np.asarray(points, dtype=np.float64)
    return array @ matrix[:, :2].T + matrix[:, 2]
