"""Image conversions and files: uint8 HWC arrays <-> model tensors, reading, grids."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torch import Tensor
from torchvision.utils import make_grid

from inpaint_toolkit.core.errors import InpaintError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")


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
    """Open an RGB image file; a one-line error for a missing, unreadable or non-RGB file."""
    path = Path(path)
    try:
        with Image.open(path) as opened:
            opened.load()
            image = opened
    except FileNotFoundError:
        raise InpaintError(f"{path}: no such file") from None
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise InpaintError(f"{path}: not a readable image ({exc.__class__.__name__})") from None
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        raise InpaintError(
            f"{path}: has an alpha channel ({image.mode}); the model takes RGB images, "
            "so flatten it onto a background first"
        )
    if image.mode in ("L", "1", "I", "I;16", "F"):
        raise InpaintError(
            f"{path}: is greyscale ({image.mode}); the model was trained on RGB colour images"
        )
    return image.convert("RGB")


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

    A reader (or a run killed halfway) never sees a half-written file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes files private; results are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
