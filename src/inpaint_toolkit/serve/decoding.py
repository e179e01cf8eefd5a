"""Uploaded bytes -> checked arrays, and arrays -> PNG bytes; all in memory.

An upload is identified by its content, never its name or declared type: Pillow reads the
header, the format must be one of the toolkit's ``IMAGE_FORMATS`` (no other Pillow
plugin ever runs on an upload), and width x height is checked against the pixel limit
before a single pixel is decoded (so a small file that claims to be 50,000 x 50,000
pixels costs nothing). A photo too thin to hold a face is refused as well (422). The
photo then goes through the photo package's conversions (EXIF orientation, greyscale,
alpha, 16-bit).

The checks are those of :func:`inpaint_toolkit.core.images.decode_image`, done here
again because the server's answer depends on which one fails (413 for too many pixels,
415 for what is not an image) and its pixel limit is a setting (:class:`.Limits`).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from inpaint_toolkit.core.images import IMAGE_FORMATS
from inpaint_toolkit.photo import Photo, photo_from_image
from inpaint_toolkit.photo.detection import MIN_FACE_PIXELS

# A photo must be at least this many pixels each way (no smaller face is ever found), and
# at most this many times longer one way than the other (a strip holds no face either,
# and the face finder shrinks the longer side to 1,024 pixels).
MIN_PHOTO_SIDE = MIN_FACE_PIXELS
MAX_PHOTO_ASPECT = 100


@dataclass
class UploadRejected(Exception):
    """An upload the server will not take: ``status`` (413, 415 or 422) and one line."""

    status: int
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Transparency:
    """A photo's alpha channel and the colours under it, as they came in.

    The photo package repairs a transparent photo flattened onto white; the results get
    these back, so only the damaged pixels' colours differ from the photo sent.
    """

    alpha: np.ndarray  # (H, W) uint8
    colours: np.ndarray  # (H, W, 3) uint8, not flattened

    def applied_to(self, pixels: np.ndarray, damage: np.ndarray | None = None) -> np.ndarray:
        """``(H, W, 4)`` RGBA: ``pixels``' colours where damaged, the photo's elsewhere."""
        colours = (
            self.colours if damage is None else np.where(damage[..., None], pixels, self.colours)
        )
        return np.dstack([colours, self.alpha])


def decode_photo(data: bytes, max_pixels: int) -> tuple[Photo, Transparency | None, list[str]]:
    """The upright RGB photo in ``data``, its transparency (None where it has none), and
    the notices its conversion gave."""
    notes: list[str] = []
    with _opened(data, max_pixels, "photo") as image:
        width, height = image.size
        short, long = sorted(image.size)
        if short < MIN_PHOTO_SIDE or long > MAX_PHOTO_ASPECT * short:
            raise UploadRejected(
                422,
                f"the photo is {width}x{height} pixels, too thin to hold a face: it needs at "
                f"least {MIN_PHOTO_SIDE} pixels each way, and at most {MAX_PHOTO_ASPECT} "
                "times as long one way as the other",
            )
        orientation = image.getexif().get(0x0112, 1)  # the EXIF Orientation tag
        upright = ImageOps.exif_transpose(image)
        if orientation not in (1, None):
            notes.append(f"turned upright as its EXIF orientation ({orientation}) says")
        try:
            photo = photo_from_image(upright, "the photo", on_notice=notes.append)
        except Exception as exc:  # the photo package's one-line InpaintError
            raise UploadRejected(422, str(exc)) from None
        if not upright.has_transparency_data:
            return photo, None, notes
        rgba = np.asarray(upright.convert("RGBA"))
    # The photo package's colours where opaque (they are right for any bit depth), the
    # file's own under transparency (the photo package's are flattened onto white).
    alpha = rgba[..., 3].copy()
    colours = np.where(alpha[..., None] == 255, photo.pixels, rgba[..., :3])
    # Its note that the photo was flattened onto white is true of the repair only, and a
    # grey photo with transparency is still grey, to be given back so.
    notes = [note for note in notes if "flattened onto white" not in note]
    notes.append("the photo has transparency: the results keep it as it is")
    photo = replace(photo, greyscale=photo.greyscale or upright.mode in ("LA", "La"))
    return photo, Transparency(alpha, colours), notes


def decode_mask(data: bytes, size: tuple[int, int], max_pixels: int) -> np.ndarray:
    """``(H, W)`` bool, True = damaged: white (above mid-grey) and opaque pixels.

    ``size`` is the photo's ``(width, height)``; the mask must match it exactly, because
    the page draws it at the photo's own resolution.
    """
    with _opened(data, max_pixels, "mask") as image:
        if image.size != size:
            raise UploadRejected(
                422,
                f"the mask is {image.size[0]}x{image.size[1]} pixels, "
                f"the photo {size[0]}x{size[1]}",
            )
        rgba = np.asarray(image.convert("RGBA"))
    bright = rgba[..., :3].astype(np.uint16).sum(axis=2) > 3 * 127
    return bright & (rgba[..., 3] > 127)


def encode_png(pixels: np.ndarray, *, greyscale: bool = False, fast: bool = False) -> bytes:
    """PNG bytes of ``(H, W, 3)`` uint8 RGB or ``(H, W, 4)`` RGBA (as greyscale if asked),
    or of an ``(H, W)`` mask."""
    image = Image.fromarray(np.ascontiguousarray(pixels))
    if greyscale and image.mode in ("RGB", "RGBA"):
        image = image.convert("L" if image.mode == "RGB" else "LA")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1 if fast else 6)
    return buffer.getvalue()


def encode_mask_png(damaged: np.ndarray) -> bytes:
    """A damage mask as a PNG the page can draw straight onto its mask layer: white and
    opaque where damaged, transparent elsewhere."""
    alpha = np.where(damaged, 255, 0).astype(np.uint8)
    pixels = np.stack([alpha, alpha], axis=-1)  # grey and alpha: "LA"
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


@contextmanager
def _opened(data: bytes, max_pixels: int, what: str) -> Iterator[Image.Image]:
    """A fully loaded Pillow image whose content is a known format and whose pixel
    count is within ``max_pixels``; closed on leaving."""
    if not data:
        raise UploadRejected(422, f"the {what} is empty")
    try:
        image = Image.open(io.BytesIO(data), formats=IMAGE_FORMATS)
    except Image.DecompressionBombError:
        raise UploadRejected(413, f"the {what} has far too many pixels") from None
    except (UnidentifiedImageError, OSError, ValueError):
        raise UploadRejected(
            415, f"the {what} is not a PNG, JPEG, WebP, BMP or TIFF image"
        ) from None
    with image:
        width, height = image.size
        if width * height > max_pixels:
            raise UploadRejected(
                413,
                f"the {what} is {width}x{height} = {width * height / 1e6:.1f} megapixels; "
                f"the limit is {max_pixels / 1e6:g}",
            )
        try:
            image.load()
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            raise UploadRejected(
                415, f"the {what} could not be decoded ({exc.__class__.__name__})"
            ) from None
        yield image
