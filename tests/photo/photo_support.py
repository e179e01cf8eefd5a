"""Helpers of the photo tests: the full-size LFW photos (or a skip saying why), fake
inpainters, synthetic pictures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

PHOTOS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "photos"
# A photo whose face and both eyes the cascades find (see benchmarks/measure_photo_detection.py).
SAMPLE = "Aaron_Eckhart_0001.jpg"


def load_photo(name: str) -> np.ndarray:
    """One photo of ``shared/data/photos`` as ``(H, W, 3)`` uint8, or a skip."""
    path = PHOTOS / name
    if not path.exists():
        pytest.skip(f"the full-size photos are not at {PHOTOS}")
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def photo_files() -> list[Path]:
    """All the full-size photos, or a skip."""
    if not PHOTOS.is_dir():
        pytest.skip(f"the full-size photos are not at {PHOTOS}")
    return sorted(p for p in PHOTOS.iterdir() if p.suffix.lower() == ".jpg")


def identity(crops: np.ndarray, known: np.ndarray) -> np.ndarray:
    """An inpainter that repairs nothing: the crops come back as they went in."""
    return crops


def all_grey(crops: np.ndarray, known: np.ndarray) -> np.ndarray:
    """An inpainter that paints every crop pixel mid-grey."""
    return np.full_like(crops, 128)
