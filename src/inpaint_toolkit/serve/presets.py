"""Mask presets, drawn on the aligned face and mapped to the photo.

``center``, ``half`` and ``pixels`` are the paper's masks, drawn by the registered mask
plugins of those names (with their default options) on the model's crop. ``eyes`` and
``mouth`` are boxes placed by the crop's framing (the eye line at 52 % of the height, the
eyes 36 % of the width apart; the mouth, measured on aligned faces, at 84-94 %). Then
the photo package maps the crop's hole to photo pixels, so a preset follows a turned or
small face.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch

from inpaint_toolkit.photo import AlignedFace, photo_mask_from_crop
from inpaint_toolkit.photo.alignment import EYE_LINE, INTER_OCULAR
from inpaint_toolkit.registry import get_registry

Preset = Literal["center", "half", "eyes", "mouth", "pixels"]
PRESETS: tuple[str, ...] = ("center", "half", "eyes", "mouth", "pixels")

# (top, bottom, left, right) as fractions of the crop's side.
_EYES_BOX = (
    EYE_LINE - 0.10,
    EYE_LINE + 0.10,
    0.5 - INTER_OCULAR / 2 - 0.16,
    0.5 + INTER_OCULAR / 2 + 0.16,
)
_MOUTH_BOX = (0.78, 0.97, 0.28, 0.72)


def preset_crop_mask(name: str, size: int, seed: int = 0) -> np.ndarray:
    """``(size, size)`` bool, True = damaged: the preset ``name`` on a model crop."""
    if name in ("eyes", "mouth"):
        top, bottom, left, right = _EYES_BOX if name == "eyes" else _MOUTH_BOX
        hole = np.zeros((size, size), dtype=bool)
        hole[round(top * size) : round(bottom * size), round(left * size) : round(right * size)] = (
            True
        )
        return hole
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; one of {', '.join(PRESETS)}")
    mask = get_registry().build("mask", name, {})
    blank = torch.zeros(1, 3, size, size)
    known = mask(blank, torch.Generator().manual_seed(seed)).known
    return known[0, 0].numpy() < 0.5


def preset_photo_mask(name: str, aligned: AlignedFace, seed: int = 0) -> np.ndarray:
    """``(H, W)`` bool, True = damaged: the preset drawn on ``aligned``'s crop, in the photo."""
    return photo_mask_from_crop(preset_crop_mask(name, aligned.size, seed), aligned)
