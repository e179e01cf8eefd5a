"""The faces of an uploaded photo, as the page shows them and the repair uses them.

Faces are found and aligned by the photo package. Where none is found the whole photo is
taken as an aligned face crop, as ``inpaint-toolkit run`` takes its inputs: its largest
centred square is the crop (so presets and repairs still work on a face that is already
cropped, and the page says so).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from inpaint_toolkit.core.errors import InpaintError
from inpaint_toolkit.photo import AlignedFace, Face, align_faces
from inpaint_toolkit.photo.alignment import align_face, eye_targets


@dataclass(frozen=True)
class FoundFaces:
    """``aligned``: the faces, largest first; ``whole_photo``: True where none was found
    and the photo's centred square stands in for the face crop."""

    aligned: list[AlignedFace]
    whole_photo: bool
    notices: list[str]


def faces_of(pixels: np.ndarray, size: int) -> FoundFaces:
    """Find and align the faces of ``(H, W, 3)`` uint8 ``pixels`` to ``size`` crops."""
    try:
        return FoundFaces(align_faces(pixels, size=size), False, [])
    except InpaintError:
        height, width = pixels.shape[:2]
        note = "no face found; the photo's centred square is taken as an aligned face crop"
        return FoundFaces([whole_photo_face(height, width, size)], True, [note])


def whole_photo_face(height: int, width: int, size: int) -> AlignedFace:
    """The alignment that maps the photo's largest centred square onto the crop: the
    eyes are placed where the model's framing puts them in that square."""
    side = min(height, width)
    left, top = (width - side) / 2, (height - side) / 2
    scale = side / size  # photo pixels per crop pixel

    def to_photo(point: tuple[float, float]) -> tuple[float, float]:
        x, y = point  # pixel centres in both frames
        return left + (x + 0.5) * scale - 0.5, top + (y + 0.5) * scale - 0.5

    left_eye, right_eye = (to_photo(point) for point in eye_targets(size))
    box = (int(left), int(top), side, side)
    return align_face(Face(box, left_eye, right_eye, False), (height, width), size)


def face_record(aligned: AlignedFace) -> dict[str, object]:
    """What the page needs to draw a face: its box, eyes and the crop's outline."""
    face = aligned.face
    size = aligned.size
    corners = np.array(
        [[-0.5, -0.5], [size - 0.5, -0.5], [size - 0.5, size - 0.5], [-0.5, size - 0.5]]
    )
    outline = corners @ aligned.inverse[:, :2].T + aligned.inverse[:, 2]
    return {
        "box": [int(v) for v in face.box],
        "left_eye": [round(float(v), 1) for v in face.left_eye],
        "right_eye": [round(float(v), 1) for v in face.right_eye],
        "crop_outline": [[round(float(x), 1), round(float(y), 1)] for x, y in outline],
    }
