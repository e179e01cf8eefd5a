"""Reading photos as people expect (EXIF, greyscale, alpha, 16-bit) and writing PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inpaint_toolkit.core.errors import InpaintError
from inpaint_toolkit.photo import read_photo, write_photo


def gradient(height: int = 40, width: int = 60) -> np.ndarray:
    ys, xs = np.mgrid[0:height, 0:width]
    return np.stack([xs * 4, ys * 6, (xs + ys) * 2], axis=2).astype(np.uint8)


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    pixels = gradient()  # 40 high, 60 wide as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to view"
    path = tmp_path / "phone.png"
    Image.fromarray(pixels).save(path, exif=exif)
    notes: list[str] = []
    photo = read_photo(path, on_notice=notes.append)
    assert photo.pixels.shape == (60, 40, 3)
    assert np.array_equal(photo.pixels, np.rot90(pixels, k=-1))
    assert any("EXIF" in note for note in notes)


def test_greyscale_is_read_as_rgb_and_written_back_grey(tmp_path: Path) -> None:
    grey = gradient()[..., 0]
    source = tmp_path / "grey.png"
    Image.fromarray(grey).save(source)
    notes: list[str] = []
    photo = read_photo(source, on_notice=notes.append)
    assert photo.greyscale and photo.pixels.shape == (40, 60, 3)
    assert any("greyscale" in note for note in notes)
    out = write_photo(photo.pixels, tmp_path / "out.png", greyscale=True)
    with Image.open(out) as written:
        assert written.mode == "L"
        assert np.array_equal(np.asarray(written), grey)  # grey converts back exactly


def test_transparency_is_flattened_onto_white(tmp_path: Path) -> None:
    rgba = np.zeros((20, 20, 4), np.uint8)
    rgba[..., :3] = (10, 20, 30)
    rgba[:10, :, 3] = 255  # top half opaque, bottom half transparent
    path = tmp_path / "cutout.png"
    Image.fromarray(rgba, "RGBA").save(path)
    notes: list[str] = []
    pixels = read_photo(path, on_notice=notes.append).pixels
    assert np.all(pixels[:10] == (10, 20, 30)) and np.all(pixels[10:] == 255)
    assert any("white" in note for note in notes)


def test_sixteen_bit_is_brought_to_eight(tmp_path: Path) -> None:
    deep = (np.arange(20 * 30).reshape(20, 30) * 100).astype(np.uint16)
    path = tmp_path / "deep.png"
    Image.fromarray(deep).save(path)
    notes: list[str] = []
    photo = read_photo(path, on_notice=notes.append)
    expected = np.rint(deep / 257.0).astype(np.uint8)
    assert np.array_equal(photo.pixels[..., 0], expected)
    assert any("16-bit" in note for note in notes)


def test_unreadable_and_floating_point_files_are_one_line_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not an image")
    floats = tmp_path / "floats.tif"
    Image.fromarray(np.ones((4, 4), np.float32)).save(floats)
    for path in (broken, floats, tmp_path / "missing.png"):
        with pytest.raises(InpaintError) as caught:
            read_photo(path, on_notice=lambda _: None)
        assert "\n" not in str(caught.value) and path.name in str(caught.value)


def test_the_output_is_a_lossless_png_at_full_size(tmp_path: Path) -> None:
    pixels = np.random.default_rng(0).integers(0, 256, (33, 47, 3), dtype=np.uint8)
    out = write_photo(pixels, tmp_path / "sub" / "repaired.png")
    with Image.open(out) as written:
        assert written.format == "PNG" and written.size == (47, 33)
        assert np.array_equal(np.asarray(written), pixels)
    with pytest.raises(InpaintError, match="PNG"):
        write_photo(pixels, tmp_path / "repaired.jpg")
