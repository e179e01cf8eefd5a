"""repair_photo as a whole: what the inpainter is given, notices, and bad inputs."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from photo_support import all_grey, identity

from inpaint_toolkit.core.errors import InpaintError
from inpaint_toolkit.photo import align_faces, crop_coverage, repair_photo


def nose_damage(shape: tuple[int, ...]) -> np.ndarray:
    damage = np.zeros(shape[:2], bool)
    damage[120:150, 110:140] = True
    return damage


def test_the_inpainter_gets_the_crops_and_their_known_pixels(photo: np.ndarray) -> None:
    calls = []

    def spy(crops: np.ndarray, known: np.ndarray) -> np.ndarray:
        calls.append((crops.copy(), known.copy()))
        return all_grey(crops, known)

    damage = nose_damage(photo.shape)
    result = repair_photo(photo, damage, spy, on_notice=None)
    assert len(calls) == 1
    crops, known = calls[0]
    assert crops.shape == (1, 64, 64, 3) and crops.dtype == np.uint8
    assert known.shape == (1, 64, 64) and known.dtype == bool
    assert np.array_equal(crops, result.crops) and np.array_equal(known, result.known)
    assert 0.02 < 1 - known.mean() < 0.3  # the nose hole
    assert result.repaired_crops.shape == crops.shape


def test_no_damage_leaves_the_photo_alone(photo: np.ndarray) -> None:
    def never(crops: np.ndarray, known: np.ndarray) -> np.ndarray:
        raise AssertionError("inpaint called without damage")

    notes: list[str] = []
    result = repair_photo(photo, np.zeros(photo.shape[:2], bool), never, on_notice=notes.append)
    assert np.array_equal(result.photo, photo) and result.repaired == []
    assert any("nothing to repair" in note for note in notes)
    assert notes == result.notices


def test_a_small_face_is_repaired_with_a_notice(photo: np.ndarray) -> None:
    canvas = np.full((160, 200, 3), 90, np.uint8)
    canvas[40:100, 60:120] = cv2.resize(photo, (60, 60), interpolation=cv2.INTER_AREA)
    damage = np.zeros(canvas.shape[:2], bool)
    damage[70:78, 84:96] = True
    notes: list[str] = []
    result = repair_photo(canvas, damage, all_grey, on_notice=notes.append)
    assert result.repaired == [0] and result.aligned[0].scale > 2
    assert any("small" in note for note in notes)
    assert np.array_equal(result.photo[~damage], canvas[~damage])


def test_a_face_filling_the_photo_is_repaired_with_a_notice(photo: np.ndarray) -> None:
    tight = np.ascontiguousarray(photo[69:175, 75:181])  # little more than the face
    damage = nose_damage(photo.shape)[69:175, 75:181]
    notes: list[str] = []
    result = repair_photo(tight, damage, identity, on_notice=notes.append)
    assert any("past the photo's edge" in note for note in notes)
    outside = ~crop_coverage(result.aligned[0])
    assert outside.any() and not result.known[0][outside].any()  # unknown to the model
    assert np.array_equal(result.photo[~damage], tight[~damage])


def test_bad_inputs_and_outputs_are_reported(photo: np.ndarray) -> None:
    damage = nose_damage(photo.shape)
    with pytest.raises(InpaintError, match="damage mask"):
        repair_photo(photo, damage[:-1], all_grey, on_notice=None)
    with pytest.raises(ValueError, match="inpaint returned"):
        repair_photo(photo, damage, lambda crops, known: crops[..., 0], on_notice=None)
    with pytest.raises(ValueError, match="unknown blend"):
        repair_photo(photo, damage, all_grey, blend="feather", on_notice=None)
    with pytest.raises(ValueError, match="uint8"):
        repair_photo(photo.astype(np.float32), damage, all_grey, on_notice=None)


def test_faces_from_align_faces_are_reused(photo: np.ndarray) -> None:
    faces = align_faces(photo, size=32)
    result = repair_photo(photo, nose_damage(photo.shape), all_grey, faces=faces, on_notice=None)
    assert result.crops.shape == (1, 32, 32, 3) and result.faces == faces
