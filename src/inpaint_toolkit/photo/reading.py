"""Reading a photograph the way people expect, and writing the repaired one losslessly.

- EXIF orientation is applied, so a phone picture comes in (and goes out) upright.
- Greyscale (and black-and-white) photos become RGB for the model, with a notice; the
  result is written back as greyscale (grey pixels convert back exactly).
- 16-bit greyscale is brought to 8 bits (value / 257, rounded), with a notice.
- Transparency is flattened onto white, with a notice: a face photo with an alpha channel
  is almost always a cut-out on a transparent background, and white is how viewers show
  it. (The output has no alpha channel.)
- Floating-point images are refused in one line.

The result is written as PNG only (lossless), at the photo's full (upright) size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from inpaint_toolkit.core.errors import InpaintError
from inpaint_toolkit.core.images import decode_image, save_png
from inpaint_toolkit.core.notices import notice

_SIXTEEN_BIT = ("I;16", "I;16B", "I;16L", "I;16N", "I")
_GREY = ("L", "1")
_ALPHA = ("RGBA", "LA", "PA", "RGBa", "La")


@dataclass(frozen=True)
class Photo:
    """An upright photo: ``pixels`` is ``(H, W, 3)`` uint8 RGB; ``greyscale`` says the
    file was grey, so the result should be written grey too."""

    pixels: np.ndarray
    greyscale: bool = False


def read_photo(path: str | Path, *, on_notice: Callable[[str], None] = notice) -> Photo:
    """Open a photo file as upright RGB; one-line :class:`InpaintError` if it cannot be."""
    path = Path(path)
    opened = decode_image(path, str(path))  # formats, pixel limit, one-line errors
    try:
        orientation = opened.getexif().get(0x0112, 1)  # the EXIF Orientation tag
        image = ImageOps.exif_transpose(opened)
    except Exception as exc:  # a corrupt EXIF block, whatever Pillow makes of it
        raise InpaintError(f"{path}: unreadable EXIF data ({exc.__class__.__name__})") from None
    if orientation not in (1, None):
        on_notice(f"{path.name}: turned upright as its EXIF orientation ({orientation}) says")
    return photo_from_image(image, path.name, on_notice=on_notice)


def photo_from_image(
    image: Image.Image, name: str = "photo", *, on_notice: Callable[[str], None] = notice
) -> Photo:
    """The conversions of :func:`read_photo` for an already opened Pillow image."""
    mode = image.mode
    if mode == "F":
        raise InpaintError(f"{name}: is a floating-point image (mode F); save it as 8-bit first")
    if mode in _SIXTEEN_BIT:
        values = np.asarray(image, dtype=np.float64)
        image = Image.fromarray(np.clip(np.rint(values / 257.0), 0, 255).astype(np.uint8))
        on_notice(f"{name}: 16-bit greyscale, brought to 8 bits")
        mode = "L"
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        mode = image.mode
    if mode in _ALPHA:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba).convert("RGB")
        on_notice(f"{name}: has transparency ({mode}); flattened onto white")
        mode = "RGB"
    greyscale = mode in _GREY
    if greyscale:
        on_notice(f"{name}: greyscale; repaired as RGB and written back as greyscale")
    elif mode != "RGB":
        on_notice(f"{name}: converted from {mode} to RGB")
    pixels = np.asarray(image.convert("RGB"), dtype=np.uint8)
    return Photo(np.ascontiguousarray(pixels), greyscale)


def write_photo(pixels: np.ndarray, path: str | Path, *, greyscale: bool = False) -> Path:
    """Write ``(H, W, 3)`` uint8 RGB as a PNG (lossless); as greyscale if asked."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise InpaintError(f"{path}: the repaired photo is written as PNG (lossless); name it .png")
    pixels = np.asarray(pixels)
    if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.dtype != np.uint8:
        raise ValueError(f"expected (H, W, 3) uint8, got {pixels.shape} {pixels.dtype}")
    if greyscale:
        pixels = np.asarray(Image.fromarray(pixels).convert("L"))
    return save_png(pixels, path)
