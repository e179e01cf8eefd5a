"""What every fuzz test shares: the property, a guard against hangs and stray writes, and
image files (valid ones of every kind, then broken in every way) as Hypothesis strategies.

The property, for every reader of user input: it returns a result, or raises one
:class:`InpaintError` whose message is one line; never another exception, a hang, or a
file written anywhere.
"""

from __future__ import annotations

import io
import os
import signal
import struct
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from PIL import Image

from inpaint_toolkit.core.errors import InpaintError
from inpaint_toolkit.core.images import MAX_IMAGE_PIXELS

HANG_SECONDS = 20  # no single read of these small files may take longer
# INPAINT_FUZZ_SCALE=20 python -m pytest tests/fuzz: twenty times the cases, for a soak.
SCALE = float(os.environ.get("INPAINT_FUZZ_SCALE", "1"))


def fuzz_settings(examples: int) -> settings:
    """``examples`` cases (times ``$INPAINT_FUZZ_SCALE``); no deadline (the machine is
    shared), no example database written into the repository."""
    return settings(
        max_examples=max(1, round(examples * SCALE)),
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


class Hang(Exception):
    pass


@contextmanager
def watched(folder: Path) -> Iterator[None]:
    """Fail on a hang, or on any file created or changed below ``folder``."""
    before = _snapshot(folder)

    def expire(signum: int, frame: Any) -> None:
        raise Hang(f"no answer in {HANG_SECONDS} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, HANG_SECONDS)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert _snapshot(folder) == before, "a reader wrote a file"


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(path): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in folder.rglob("*")
        if path.is_file()
    }


def result_or_error(read: Callable[..., Any], *args: Any, folder: Path, **kwargs: Any):
    """``(result, None)`` or ``(None, message)``; anything else fails the test."""
    with watched(folder):
        try:
            return read(*args, **kwargs), None
        except InpaintError as exc:
            message = str(exc)
            assert message.strip() and "\n" not in message and "\r" not in message, message
            assert "Traceback" not in message, message
            return None, message


def fresh_folder(root: Path) -> Path:
    """An empty folder of its own for one example (Hypothesis runs many per test)."""
    import tempfile

    return Path(tempfile.mkdtemp(dir=root))


# ---------------------------------------------------------------------------------------
# Image files

FORMATS_OF_MODE: dict[str, list[str]] = {}  # the (mode, format) pairs Pillow can write
_MODES = ("RGB", "RGBA", "L", "LA", "P", "PA", "1", "I;16", "I", "F", "CMYK", "YCbCr", "LAB")
_FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "TIFF", "GIF")
LOSSLESS = {"PNG", "BMP", "TIFF"}
ALPHA_MODES = {"RGBA", "LA", "PA"}
GREY_MODES = {"L", "1", "I;16", "I", "F"}


def make_image(mode: str, width: int, height: int, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    rgb = Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))
    if mode == "I;16":
        return Image.fromarray(rng.integers(0, 65536, (height, width), dtype=np.uint16))
    if mode == "P+transparency":
        image = rgb.convert("P")
        image.info["transparency"] = 0
        return image
    return rgb.convert(mode)


def _writable() -> None:
    for mode in _MODES:
        for file_format in _FORMATS:
            try:
                make_image(mode, 3, 2, 0).save(io.BytesIO(), file_format)
            except (OSError, ValueError, KeyError, TypeError):
                continue
            FORMATS_OF_MODE.setdefault(mode, []).append(file_format)


_writable()


def encode(image: Image.Image, file_format: str, orientation: int | None) -> bytes:
    buffer = io.BytesIO()
    options: dict[str, Any] = {}
    if orientation is not None and file_format in ("JPEG", "PNG", "WEBP", "TIFF"):
        exif = Image.Exif()
        exif[0x0112] = orientation
        options["exif"] = exif.tobytes()
    if image.info.get("transparency") is not None and file_format in ("PNG", "GIF"):
        options["transparency"] = image.info["transparency"]
    image.save(buffer, file_format, **options)
    return buffer.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_16bit(width: int, height: int, channels: int, seed: int) -> bytes:
    """A 48-bit RGB or 64-bit RGBA PNG, written by hand (Pillow cannot write these)."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 65536, (height, width * channels), dtype=np.uint16).astype(">u2")
    rows = b"".join(b"\0" + row.tobytes() for row in pixels)
    header = struct.pack(">IIBBBBB", width, height, 16, 2 if channels == 3 else 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(rows))
        + png_chunk(b"IEND", b"")
    )


class ImageCase:
    """One generated file: its bytes, what it was before any damage, and the damage."""

    def __init__(self, data: bytes, mode: str, file_format: str, size: tuple[int, int]):
        self.data = data
        self.mode = mode
        self.format = file_format
        self.size = size  # (width, height) as written
        self.pixels: np.ndarray | None = None  # the RGB pixels, where the file is lossless RGB
        self.orientation: int | None = None
        self.damage = "none"
        self.claimed: tuple[int, int] | None = None  # the size a forged header claims

    @property
    def intact(self) -> bool:
        return self.damage == "none"

    def __repr__(self) -> str:
        return (
            f"ImageCase({self.format} {self.mode} {self.size} orientation={self.orientation} "
            f"damage={self.damage} claimed={self.claimed} bytes={len(self.data)})"
        )


FORGEABLE = ("PNG", "JPEG", "BMP")  # formats whose header forge_size can rewrite


@st.composite
def valid_images(draw: st.DrawFn, formats: tuple[str, ...] = _FORMATS) -> ImageCase:
    width, height = draw(st.integers(1, 24)), draw(st.integers(1, 24))
    seed = draw(st.integers(0, 2**16))
    modes = [m for m in FORMATS_OF_MODE if set(FORMATS_OF_MODE[m]) & set(formats)]
    modes += ["P+transparency"] if "PNG" in formats else []
    modes += ["RGB;16", "RGBA;16"] if "PNG" in formats else []
    mode = draw(st.sampled_from(modes))
    if mode.endswith(";16"):  # 16-bit colour PNGs: Pillow reads them but cannot write them
        data = png_16bit(width, height, 3 if mode == "RGB;16" else 4, seed)
        return ImageCase(data, mode, "PNG", (width, height))
    usable = [f for f in FORMATS_OF_MODE[mode.split("+")[0]] if f in formats]
    file_format = draw(st.sampled_from(usable))
    orientation = draw(st.none() | st.integers(1, 8))
    image = make_image(mode, width, height, seed)
    case = ImageCase(encode(image, file_format, orientation), mode, file_format, (width, height))
    case.orientation = orientation
    if mode == "RGB" and file_format in LOSSLESS:
        case.pixels = np.asarray(image)
    return case


DAMAGES = ("claim", "truncate", "flip", "splice", "none", "garbage", "claim", "none", "empty")


@st.composite
def damaged_images(draw: st.DrawFn) -> ImageCase:
    """A valid file, then broken: truncated, bytes flipped or spliced, garbage, or a header
    forged to claim another (often enormous) size."""
    damage = draw(st.sampled_from(DAMAGES))
    case = draw(valid_images(FORGEABLE if damage == "claim" else _FORMATS))
    data = bytearray(case.data)
    if damage == "truncate":
        data = data[: draw(st.integers(0, max(0, len(data) - 1)))]
    elif damage == "flip":
        for _ in range(draw(st.integers(1, 8))):
            position = draw(st.integers(0, len(data) - 1))
            data[position] ^= draw(st.integers(1, 255))
    elif damage == "splice":
        position = draw(st.integers(0, len(data)))
        data[position:position] = draw(st.binary(min_size=1, max_size=64))
    elif damage == "garbage":
        data = bytearray(draw(st.binary(max_size=256)))
    elif damage == "empty":
        data = bytearray()
    elif damage == "claim":
        claimed = draw(
            st.sampled_from([(20000, 20000), (12000, 12000), (7000, 6000), (6325, 6325)])
            | st.tuples(st.integers(6400, 2**16 - 1), st.integers(6400, 2**16 - 1))
            | st.tuples(st.integers(1, 64), st.integers(1, 64))
        )
        forged = forge_size(bytes(data), case.format, claimed)
        if forged is None:
            damage = "none"
        else:
            data, case.claimed = bytearray(forged), claimed
    case.data, case.damage = bytes(data), damage
    if damage != "none":
        case.pixels = None
    return case


def forge_size(data: bytes, file_format: str, size: tuple[int, int]) -> bytes | None:
    """``data`` with its header claiming ``size`` (width, height); None where not done."""
    width, height = size
    if file_format == "PNG":
        header = struct.pack(">II", width, height) + data[24:29]
        return data[:8] + png_chunk(b"IHDR", header) + data[33:]
    if file_format == "JPEG":
        for marker in (b"\xff\xc0", b"\xff\xc1", b"\xff\xc2"):
            at = data.find(marker)
            if at >= 0:
                return data[: at + 5] + struct.pack(">HH", height, width) + data[at + 9 :]
        return None
    if file_format == "BMP":
        return data[:18] + struct.pack("<ii", width, height) + data[26:]
    return None


def over_the_limit(case: ImageCase) -> bool:
    return case.claimed is not None and case.claimed[0] * case.claimed[1] > MAX_IMAGE_PIXELS


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    os.utime(path, ns=(0, 0))  # so that a rewrite shows in the snapshot
    return path
