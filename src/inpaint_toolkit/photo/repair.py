"""Repairing a photograph: find the faces, align them, inpaint the crops, paste back.

The inpainting is passed in (``inpaint``), so this package knows nothing of the z-search:
it gets the aligned crops and which of their pixels are known, and returns the crops
repaired. A typical use::

    photo = read_photo("holiday.jpg")
    result = repair_photo(photo.pixels, damage, my_inpaint)
    write_photo(result.photo, "holiday-repaired.png", greyscale=photo.greyscale)

For a mask that is drawn on the aligned face (a mask plugin such as ``center``), align
first, draw on the crops, and map the masks to the photo::

    faces = align_faces(photo.pixels)
    crops = np.stack([crop_face(photo.pixels, f) for f in faces])
    damage = photo_mask_from_crops(list(my_masks(crops)), faces)
    result = repair_photo(photo.pixels, damage, my_inpaint, faces=faces)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from inpaint_toolkit.core.errors import InpaintError
from inpaint_toolkit.core.notices import notice
from inpaint_toolkit.photo.alignment import (
    INTER_OCULAR,
    AlignedFace,
    align_face,
    crop_coverage,
    crop_face,
)
from inpaint_toolkit.photo.detection import find_faces
from inpaint_toolkit.photo.grain import Grain
from inpaint_toolkit.photo.mask_warping import crop_mask_from_photo
from inpaint_toolkit.photo.pasting import BLENDS, paste_faces

# crops (N, S, S, 3) uint8, known (N, S, S) bool (True = known) -> repaired (N, S, S, 3) uint8
Inpaint = Callable[[np.ndarray, np.ndarray], np.ndarray]

# A face whose crop enlarges it more than this is "small": the crop is mostly upsampling
# (at size 64, eyes closer than about 11.5 photo pixels).
MAX_ENLARGEMENT = 2.0


@dataclass(frozen=True)
class PhotoRepair:
    """What :func:`repair_photo` did.

    ``photo``: the repaired ``(H, W, 3)`` uint8 photo (outside the damage, the input's
    pixels exactly). ``faces``: every face found, largest first; ``repaired``: indices
    into ``faces`` of the faces whose crops were inpainted, with their ``aligned``
    transforms, the ``crops`` given to ``inpaint`` (``(N, S, S, 3)``), their ``known``
    pixels (``(N, S, S)`` bool) and the ``repaired_crops`` it returned. ``uncovered``:
    damaged photo pixels no crop covered (Telea filled them). ``notices``: the one-line
    notes issued on the way.
    """

    photo: np.ndarray
    faces: list[AlignedFace]
    repaired: list[int]
    crops: np.ndarray
    known: np.ndarray
    repaired_crops: np.ndarray
    uncovered: np.ndarray
    grain: Grain | None = None
    notices: list[str] = field(default_factory=list)

    @property
    def aligned(self) -> list[AlignedFace]:
        """The transforms of the repaired faces, in the order of ``crops``."""
        return [self.faces[i] for i in self.repaired]


def align_faces(
    photo: np.ndarray,
    damage: np.ndarray | None = None,
    *,
    size: int = 64,
    name: str = "the photo",
) -> list[AlignedFace]:
    """Every face in ``photo``, largest first, aligned to a ``size`` crop.

    ``damage`` (``(H, W)`` bool), where known, is filled in before the search, so that
    damage over the eyes does not hide the face. Raises :class:`InpaintError` (one line)
    where there is no face. (:func:`repair_photo` notes what is unusual about the faces
    it repairs.)
    """
    photo = _checked_photo(photo)
    found = find_faces(photo, damage)
    if not found:
        raise _no_face(name)
    return [align_face(face, photo.shape, size) for face in found]


def repair_photo(
    photo: np.ndarray,
    damage: np.ndarray,
    inpaint: Inpaint,
    *,
    size: int = 64,
    face: int | None = None,
    faces: Sequence[AlignedFace] | None = None,
    blend: str = "poisson",
    grain: bool = True,
    seed: int = 0,
    name: str = "the photo",
    on_notice: Callable[[str], None] | None = notice,
) -> PhotoRepair:
    """Repair the ``damage`` (``(H, W)`` bool, True = damaged) of an RGB uint8 ``photo``.

    Every face whose crop overlaps the damage is repaired, in one call of ``inpaint``
    (``face=N`` repairs only the N-th face, largest first). ``faces`` reuses an earlier
    :func:`align_faces` (then ``size`` is theirs). Damaged pixels outside every repaired
    crop are filled with OpenCV's Telea inpainting, with a notice. ``blend``: ``poisson``
    (default) or ``overlay``; ``grain``: match the photo's noise in the hole, seeded by
    ``seed``. Each note (faces found, eyes placed from the box, a small face, a crop past
    the photo's edge, pixels left to Telea) goes to ``on_notice`` and into the result.
    Raises :class:`InpaintError` where no face is found or ``face`` is out of range.
    """
    photo = _checked_photo(photo)
    if blend not in BLENDS:  # before the (slow) inpainting, not after
        raise ValueError(f"unknown blend {blend!r}; choose one of: {', '.join(BLENDS)}")
    damage = np.asarray(damage)
    if damage.shape != photo.shape[:2]:
        raise InpaintError(
            f"the damage mask of {name} is {damage.shape[1]}x{damage.shape[0]} pixels, "
            f"the photo {photo.shape[1]}x{photo.shape[0]}"
        )
    damage = damage.astype(bool)
    notes: list[str] = []

    def say(message: str) -> None:
        notes.append(message)
        if on_notice is not None:
            on_notice(message)

    if faces is None:
        faces = align_faces(photo, damage, size=size, name=name)
    faces = list(faces)
    if not faces:
        raise _no_face(name)
    size = faces[0].size
    if face is not None and not 0 <= face < len(faces):
        raise InpaintError(
            f"face {face} asked for, but {name} has {len(faces)} face(s): 0..{len(faces) - 1}"
        )

    holes = [crop_mask_from_photo(damage, aligned) for aligned in faces]
    if face is not None:
        chosen = [face] if holes[face].any() else []
        if not chosen and damage.any():
            say(f"face {face}'s crop does not reach the damage in {name}")
    else:
        chosen = [index for index, hole in enumerate(holes) if hole.any()]
        if len(faces) > 1 and chosen:
            listed = ", ".join(str(index) for index in chosen)
            say(
                f"{len(faces)} faces in {name}; repairing face(s) {listed}, whose crops hold damage"
            )
    if not damage.any():
        say(f"no damaged pixels in {name}; nothing to repair")
    for index in chosen:
        _describe(index, faces[index], say)

    empty = np.zeros((0, size, size, 3), np.uint8)
    crops, known, repaired_crops = empty, np.zeros((0, size, size), bool), empty
    if chosen:
        crops = np.stack([crop_face(photo, faces[i]) for i in chosen])
        known = np.stack([~holes[i] & crop_coverage(faces[i]) for i in chosen])
        repaired_crops = _checked_output(inpaint(crops.copy(), known.copy()), crops.shape)

    if damage.any():
        pasted = paste_faces(
            photo,
            damage,
            list(repaired_crops),
            [faces[i] for i in chosen],
            blend=blend,
            grain=grain,
            seed=seed,
        )
        result, uncovered, measured = pasted.photo, pasted.uncovered, pasted.grain
    else:
        result, uncovered, measured = photo.copy(), np.zeros(damage.shape, bool), None
    if uncovered.any():
        say(
            f"{int(uncovered.sum())} damaged pixels of {name} lie outside the repaired face "
            "crop(s); OpenCV's Telea inpainting filled them instead of the model"
        )
    return PhotoRepair(
        result, faces, chosen, crops, known, repaired_crops, uncovered, measured, notes
    )


def _describe(index: int, aligned: AlignedFace, say: Callable[[str], None]) -> None:
    found = aligned.face
    if not found.eyes_found:
        say(f"face {index}: eyes not found; placed from the face box's geometry")
    if aligned.scale > MAX_ENLARGEMENT:
        say(
            f"face {index} is small (eyes {found.inter_ocular:.0f} px apart, "
            f"{INTER_OCULAR * aligned.size:.0f} in the model's crop): "
            f"its crop is enlarged {aligned.scale:.1f}x, so expect a soft repair"
        )
    outside = 1.0 - crop_coverage(aligned).mean()
    if outside > 0:
        say(
            f"face {index}'s crop reaches past the photo's edge ({100 * outside:.0f} % of it); "
            "the model fills that part freely and only pixels inside the photo are pasted"
        )


def _no_face(name: str) -> InpaintError:
    return InpaintError(
        f"no face found in {name}; if it is an aligned face crop already, use --no-align"
    )


def _checked_photo(photo: np.ndarray) -> np.ndarray:
    array = np.asarray(photo)
    if array.ndim != 3 or array.shape[2] != 3 or array.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 RGB photo, got {array.shape} {array.dtype}")
    return np.ascontiguousarray(array)


def _checked_output(repaired: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    array = np.asarray(repaired)
    if array.shape != shape or array.dtype != np.uint8:
        raise ValueError(f"inpaint returned {array.shape} {array.dtype}, expected {shape} uint8")
    return array
