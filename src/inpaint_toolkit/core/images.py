"""Image conversions and files: uint8 HWC arrays <-> model tensors, reading, grids."""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch
from PIL import Image, ImageOps
from torch import Tensor
from torchvision.utils import make_grid

from inpaint_toolkit.core.errors import InpaintError
from inpaint_toolkit.core.files import regular_file

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")
# What is decoded, by content (never by name): no other Pillow plugin is ever run on user
# files (EPS, say, would start Ghostscript).
IMAGE_FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "TIFF")
# The largest image decoded: 40 megapixels (7744 x 5164), above any phone camera's photo
# and 120 MB as RGB. The size in the header is checked before any pixel is decoded, so a
# small file claiming to be 20000 x 20000 costs nothing.
MAX_IMAGE_PIXELS = 40_000_000
_ALPHA_MODES = ("RGBA", "LA", "La", "RGBa", "PA")
_GREY_MODES = ("L", "1", "I", "I;16", "I;16B", "I;16L", "I;16N", "F")


def to_tensor(images: np.ndarray) -> Tensor:
    """uint8 ``(N, H, W, 3)`` (or one ``(H, W, 3)``) -> float ``(N, 3, H, W)`` in [-1, 1]."""
    array = np.asarray(images)
    if array.ndim == 3:
        array = array[None]
    return torch.from_numpy(np.array(array, copy=True)).permute(0, 3, 1, 2).float() / 127.5 - 1.0


def to_uint8(images: Tensor) -> np.ndarray:
    """float ``(N, 3, H, W)`` in [-1, 1] -> uint8 ``(N, H, W, 3)``."""
    scaled = ((images.detach().float().cpu().clamp(-1, 1) + 1.0) * 127.5).round()
    return scaled.to(torch.uint8).permute(0, 2, 3, 1).numpy()


def center_crop_resize(image: Image.Image, size: int) -> Image.Image:
    """The largest centred square, resized to ``size`` (Lanczos, as the data was made)."""
    width, height = image.size
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    square = image.crop((left, top, left + side, top + side))
    return square if side == size else square.resize((size, size), Image.LANCZOS)


def read_image(path: str | Path) -> Image.Image:
    """Open an RGB image file, upright as its EXIF orientation says; a one-line error for
    a missing, unreadable, over-large (:data:`MAX_IMAGE_PIXELS`) or non-RGB file."""
    return rgb_image(upright(decode_image(path, str(path)), str(path)), str(path))


def upright(image: Image.Image, what: str) -> Image.Image:
    """``image`` turned as its EXIF orientation says (Pillow turns TIFFs itself, so
    without this a phone's JPEG would come in sideways where a TIFF would not)."""
    try:
        return ImageOps.exif_transpose(image)
    except Exception as exc:  # a corrupt EXIF block, whatever Pillow makes of it
        raise InpaintError(f"{what}: unreadable EXIF data ({type(exc).__name__})") from None


def decode_image(source: str | Path | BinaryIO, what: str) -> Image.Image:
    """Decode one image file (a path or an open binary file) in one of ``IMAGE_FORMATS``.

    Any failure is a one-line :class:`InpaintError` starting with ``what``: a missing
    file, another format, a corrupt or truncated file, or a header claiming more than
    :data:`MAX_IMAGE_PIXELS` pixels (refused before decoding).
    """
    if isinstance(source, str | Path):
        regular_file(source, what)
    try:
        with warnings.catch_warnings():
            # Pillow's own, laxer bomb check warns (or raises) inside open(): refuse both.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            # Through a file object, never a path: Pillow's memory-mapped loading of a
            # path forgets a TIFF's orientation for some modes, and a handle it does not.
            with _binary(source) as handle, Image.open(handle, formats=IMAGE_FORMATS) as opened:
                width, height = opened.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise InpaintError(_too_large(what, f"{width}x{height} pixels"))
                opened.load()
                return opened  # loaded: the pixels outlive the closed file
    except InpaintError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InpaintError(_too_large(what, "a size")) from None
    except Exception as exc:  # a decoder's failure on a bad file, whatever its type
        raise InpaintError(f"{what}: not a readable image ({type(exc).__name__})") from None


def _binary(source: str | Path | BinaryIO) -> contextlib.AbstractContextManager[BinaryIO]:
    if isinstance(source, str | Path):
        return open(source, "rb")  # closed by the caller's with
    return contextlib.nullcontext(source)


def image_size(source: str | Path | BinaryIO) -> tuple[int, int] | None:
    """``(width, height)`` from the header alone, nothing decoded and no size refused;
    None for a file that is not an image in ``IMAGE_FORMATS``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(source, formats=IMAGE_FORMATS) as opened:
                return opened.size
    except Exception:  # Pillow's bomb error too: decode_image will say what is wrong
        return None


def _too_large(what: str, size: str) -> str:
    return (
        f"{what}: claims {size}, over the limit of {MAX_IMAGE_PIXELS // 1_000_000} "
        "megapixels (inpaint_toolkit.core.images.MAX_IMAGE_PIXELS); shrink it first"
    )


def rgb_image(image: Image.Image, what: str) -> Image.Image:
    """``image`` as RGB; a one-line error for transparency or greyscale, which the
    face model cannot take as they are."""
    mode = image.mode
    if mode in _ALPHA_MODES or (mode == "P" and "transparency" in image.info):
        raise InpaintError(
            f"{what}: has an alpha channel ({mode}); the model takes RGB images, "
            "so flatten it onto a background first"
        )
    if mode in _GREY_MODES:
        raise InpaintError(
            f"{what}: is greyscale ({mode}); the model was trained on RGB colour images"
        )
    try:
        return image.convert("RGB")
    except (ValueError, OSError) as exc:  # a mode Pillow cannot convert
        raise InpaintError(f"{what}: cannot be converted from {mode} to RGB ({exc})") from None


def list_image_files(folder: str | Path) -> list[Path]:
    """Image files below ``folder``, recursively, in a stable order."""
    return sorted(
        p for p in Path(folder).rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
    )


def save_png(image: np.ndarray | Tensor, path: str | Path) -> Path:
    """Save one image (uint8 HWC array, or a (3, H, W) tensor in [-1, 1]) as PNG."""
    if isinstance(image, Tensor):
        image = to_uint8(image.unsqueeze(0) if image.dim() == 3 else image)[0]
    path = Path(path)
    atomic_write(path, lambda tmp: Image.fromarray(image).save(tmp, format="PNG"))
    return path


def save_grid(
    images: Tensor | Sequence[Tensor], path: str | Path, *, columns: int = 8, padding: int = 2
) -> Path:
    """Save a batch (or a list of equally sized batches, one per row) as one PNG grid."""
    if not isinstance(images, Tensor):
        columns = images[0].shape[0]
        images = torch.cat(list(images))
    grid = make_grid(
        images.detach().float().cpu().clamp(-1, 1),
        nrow=columns,
        padding=padding,
        normalize=True,
        value_range=(-1, 1),
        pad_value=1.0,
    )
    return save_png(grid * 2 - 1, path)


def atomic_write(path: str | Path, write: Callable[[str], object]) -> None:
    """Write through a temporary file in the same folder, then rename over ``path``.

    A reader (or a run killed halfway) never sees a half-written file, and a write that
    fails (a full disk) leaves any earlier ``path`` as it was and is a one-line error.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(handle)
    except OSError as exc:
        raise _not_written(path, exc) from None
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes files private; results are meant to be shared
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise _not_written(path, exc) from None
        raise


def _not_written(path: Path, exc: OSError) -> InpaintError:
    return InpaintError(
        f"{path}: could not be written ({exc.strerror or exc}); "
        "any earlier version of it is left as it was"
    )


def gaussian_blur(images: Tensor, sigma: float) -> Tensor:
    """``images`` ``(B, C, H, W)`` blurred by a Gaussian of ``sigma`` px (3 sigma a side,
    fewer on images too small to reflect that far), edges reflected."""
    from torchvision.transforms.functional import gaussian_blur as blur  # only when used

    radius = min(max(1, math.ceil(3 * sigma)), images.shape[-1] - 1, images.shape[-2] - 1)
    if radius < 1:
        return images
    return blur(images, [2 * radius + 1] * 2, [sigma, sigma])
