"""Fuzzed image files through every reader of them: the run inputs (``read_image``), the
photo reader, and the ``file`` mask. Valid PNG/JPEG/WebP/BMP/TIFF of every mode (palette,
alpha, 16-bit, CMYK, EXIF orientations), then truncated, flipped, spliced, garbage, or
with a header claiming an enormous size, which must be refused before decoding."""

from __future__ import annotations

import io
import struct
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from fuzz_support import (
    GREY_MODES,
    ImageCase,
    damaged_images,
    fresh_folder,
    fuzz_settings,
    over_the_limit,
    png_chunk,
    result_or_error,
    write,
)
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from inpaint_toolkit.core.errors import InpaintError
from inpaint_toolkit.core.images import MAX_IMAGE_PIXELS, read_image
from inpaint_toolkit.plugins.masks import FileMask, FileOptions

SUFFIXES = st.sampled_from([".png", ".jpg", ".webp", ".bmp", ".tif", ".dat"])
COLOUR_MODES = {"RGB", "RGB;16", "CMYK", "YCbCr", "LAB", "P"}
SIDEWAYS = (5, 6, 7, 8)  # EXIF orientations that swap width and height


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz_images")


def check_refusal(case: ImageCase, message: str | None, seconds: float) -> None:
    if over_the_limit(case):
        assert message is not None and "megapixels" in message, (case, message)
        assert seconds < 2, f"{case} took {seconds:.1f} s: decoded before it was refused?"


@fuzz_settings(200)
@given(case=damaged_images(), suffix=SUFFIXES)
def test_read_image(root: Path, case: ImageCase, suffix: str) -> None:
    folder = fresh_folder(root)
    path = write(folder, f"input{suffix}", case.data)
    started = time.perf_counter()
    image, message = result_or_error(read_image, path, folder=folder)
    check_refusal(case, message, time.perf_counter() - started)
    if image is None:
        assert message.startswith(str(path)), message
        # Any intact colour file in a supported format is read.
        assert not (case.intact and case.mode in COLOUR_MODES and case.format != "GIF"), message
        return
    assert image.mode == "RGB" and image.width * image.height <= MAX_IMAGE_PIXELS
    if case.intact:  # upright, as the EXIF orientation the file kept says
        assert image.size == upright_size(case)
        if case.pixels is not None and written_orientation(case) in (None, 1):  # lossless
            assert np.array_equal(np.asarray(image), case.pixels)


def written_orientation(case: ImageCase) -> int | None:
    with Image.open(io.BytesIO(case.data)) as written:  # did the format keep the tag?
        return written.getexif().get(0x0112)


def upright_size(case: ImageCase) -> tuple[int, int]:
    return case.size[::-1] if written_orientation(case) in SIDEWAYS else case.size


@fuzz_settings(100)
@given(case=damaged_images(), suffix=SUFFIXES)
def test_read_photo(root: Path, case: ImageCase, suffix: str) -> None:
    reading = pytest.importorskip("inpaint_toolkit.photo.reading")
    folder = fresh_folder(root)
    path = write(folder, f"photo{suffix}", case.data)
    notices: list[str] = []
    started = time.perf_counter()
    photo, message = result_or_error(
        reading.read_photo, path, on_notice=notices.append, folder=folder
    )
    check_refusal(case, message, time.perf_counter() - started)
    assert all("\n" not in note for note in notices)
    if photo is None:
        assert not (case.intact and case.format != "GIF" and case.mode != "F"), message
        return
    assert photo.pixels.dtype == np.uint8 and photo.pixels.ndim == 3
    assert photo.pixels.shape[2] == 3
    if case.intact:
        width, height = upright_size(case)
        assert photo.pixels.shape[:2] == (height, width)
    if case.pixels is not None and case.orientation in (None, 1):
        assert np.array_equal(photo.pixels, case.pixels)


@fuzz_settings(80)
@given(case=damaged_images(), size=st.sampled_from([16, 32]))
def test_mask_file(root: Path, case: ImageCase, size: int) -> None:
    folder = fresh_folder(root)
    path = write(folder, "mask.png", case.data)
    started = time.perf_counter()
    mask, message = result_or_error(FileMask, FileOptions(path=path), folder=folder)
    check_refusal(case, message, time.perf_counter() - started)
    if mask is None:
        assert message.startswith(f"mask file {path}"), message
        assert not (case.intact and case.format != "GIF"), message
        return
    images = torch.linspace(-1, 1, 2 * 3 * size * size).reshape(2, 3, size, size)
    damaged = mask(images, torch.Generator())
    known = damaged.known
    assert known.shape == (2, 1, size, size) and set(known.unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(damaged.images * known, images * known)  # no known pixel changed


def test_a_real_bomb_is_refused_before_decoding(tmp_path: Path) -> None:
    """7000 x 6000 black pixels: 126 MB once decoded, 130 kB on disk, and under Pillow's
    own limit (so Pillow would decode it without a word)."""
    width, height = 7000, 6000
    assert width * height > MAX_IMAGE_PIXELS
    packer = zlib.compressobj(9)
    row = b"\0" * (1 + 3 * width)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path = tmp_path / "bomb.png"
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )
    started = time.perf_counter()
    with pytest.raises(InpaintError) as caught:
        read_image(path)
    assert time.perf_counter() - started < 1
    assert str(caught.value) == (
        f"{path}: claims 7000x6000 pixels, over the limit of 40 megapixels "
        "(inpaint_toolkit.core.images.MAX_IMAGE_PIXELS); shrink it first"
    )


@pytest.mark.parametrize("mode", sorted(GREY_MODES - {"1"}))
def test_greyscale_run_inputs_are_refused_in_one_line(tmp_path: Path, mode: str) -> None:
    from fuzz_support import encode, make_image

    path = tmp_path / "grey.tif"
    path.write_bytes(encode(make_image(mode, 5, 4, 0), "TIFF", None))
    with pytest.raises(InpaintError, match="is greyscale"):
        read_image(path)
