"""The built-in masks: where the holes are, how big, and that a seed makes them again."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from pydantic import ValidationError

from inpaint_toolkit.core.errors import InpaintError
from inpaint_toolkit.plugins.masks import (
    BlocksMask,
    BlocksOptions,
    CenterMask,
    CenterOptions,
    EyesMask,
    EyesOptions,
    FileMask,
    FileOptions,
    HalfMask,
    HalfOptions,
    PatternMask,
    PatternOptions,
    PixelsMask,
    PixelsOptions,
    StrokesMask,
    StrokesOptions,
    mask_images,
)
from inpaint_toolkit.registry.manager import Registry, create_plugin_manager
from inpaint_toolkit.testing import smooth_test_images

RANDOM_MASKS = {
    "half": lambda: HalfMask(HalfOptions(side="random")),
    "pixels": lambda: PixelsMask(),
    "pattern": lambda: PatternMask(),
    "blocks": lambda: BlocksMask(),
    "strokes": lambda: StrokesMask(),
}
ALL_MASKS = {**RANDOM_MASKS, "center": lambda: CenterMask(), "half-left": lambda: HalfMask()}
ALL_MASKS["eyes"] = lambda: EyesMask()


def seeded(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def missing_count(known: torch.Tensor) -> torch.Tensor:
    """Missing pixels per image."""
    return (known == 0).flatten(1).sum(dim=1)


@pytest.fixture
def images() -> torch.Tensor:
    return smooth_test_images(4, 64)


# --- every mask --------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ALL_MASKS))
def test_hole_is_grey_and_the_rest_is_the_input(name: str, images: torch.Tensor) -> None:
    result = ALL_MASKS[name]()(images, seeded())
    assert result.images.shape == images.shape and result.images.dtype == images.dtype
    assert result.known.shape == (4, 1, 64, 64) and result.known.dtype == torch.float32
    assert set(result.known.unique().tolist()) == {0.0, 1.0}
    hole = (result.known == 0).expand_as(images)
    assert torch.all(result.images[hole] == 0.0)
    assert torch.equal(result.images[~hole], images[~hole])


@pytest.mark.parametrize("name", sorted(RANDOM_MASKS))
def test_random_masks_follow_the_seed(name: str, images: torch.Tensor) -> None:
    mask = RANDOM_MASKS[name]()
    first, again = mask(images, seeded(3)), mask(images, seeded(3))
    other = mask(images, seeded(4))
    assert torch.equal(first.known, again.known) and torch.equal(first.images, again.images)
    assert not torch.equal(first.known, other.known)


@pytest.mark.parametrize("name", sorted(RANDOM_MASKS))
def test_each_image_of_a_batch_gets_its_own_mask(name: str) -> None:
    known = RANDOM_MASKS[name]()(smooth_test_images(8, 32), seeded(1)).known
    assert len({tuple(k.flatten().tolist()) for k in known}) > 1
    if name != "half":  # only four halves exist; the others never repeat in practice
        assert len({tuple(k.flatten().tolist()) for k in known}) == 8


def test_mask_images_zeroes_exactly_the_hole() -> None:
    images = torch.full((1, 3, 2, 2), -0.5)
    known = torch.tensor([[[[1.0, 0.0], [0.0, 1.0]]]])
    result = mask_images(images, known)
    assert result.images[0, :, 0, 1].tolist() == [0.0, 0.0, 0.0]
    assert result.images[0, :, 0, 0].tolist() == [-0.5, -0.5, -0.5]
    assert torch.equal(result.known, known)


def test_a_single_image_without_batch_axis_is_refused() -> None:
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        CenterMask()(torch.zeros(3, 64, 64), seeded())


# --- center -----------------------------------------------------------------------------


def test_center_default_is_the_papers_32x32_hole(images: torch.Tensor) -> None:
    known = CenterMask()(images, seeded()).known
    assert missing_count(known).tolist() == [1024] * 4
    expected = torch.ones(64, 64)
    expected[16:48, 16:48] = 0.0
    assert all(torch.equal(k[0], expected) for k in known)


def test_center_scales_with_the_image_and_takes_a_size_in_pixels() -> None:
    known_32 = CenterMask()(smooth_test_images(1, 32), seeded()).known[0, 0]
    assert (known_32 == 0).nonzero().min(0).values.tolist() == [8, 8]
    assert (known_32 == 0).nonzero().max(0).values.tolist() == [23, 23]
    known_10 = CenterMask(CenterOptions(size=10))(smooth_test_images(1, 64), seeded()).known
    assert missing_count(known_10).tolist() == [100]
    assert known_10[0, 0, 27:37, 27:37].sum() == 0 and known_10[0, 0, 26, 27] == 1


def test_center_as_large_as_the_image_hides_everything(images: torch.Tensor) -> None:
    assert (CenterMask(CenterOptions(size=80))(images, seeded()).known == 0).all()
    with pytest.raises(ValidationError, match="size"):
        CenterOptions(size=0)


# --- half -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("side", "hole"),
    [
        ("left", (slice(None), slice(0, 32))),
        ("right", (slice(None), slice(32, 64))),
        ("top", (slice(0, 32), slice(None))),
        ("bottom", (slice(32, 64), slice(None))),
    ],
)
def test_half_takes_away_the_named_side(side: str, hole: tuple, images: torch.Tensor) -> None:
    known = HalfMask(HalfOptions(side=side))(images, seeded()).known[:, 0]
    expected = torch.ones(64, 64)
    expected[hole] = 0.0
    assert all(torch.equal(k, expected) for k in known)


def test_half_random_picks_one_whole_half_per_image() -> None:
    known = HalfMask(HalfOptions(side="random"))(smooth_test_images(16, 32), seeded()).known
    assert missing_count(known).tolist() == [512] * 16
    sides = set()
    for k in known[:, 0]:
        left, top = k[:, :16].sum() == 0, k[:16].sum() == 0
        right, bottom = k[:, 16:].sum() == 0, k[16:].sum() == 0
        assert int(left) + int(right) + int(top) + int(bottom) == 1
        sides.add((bool(left), bool(right), bool(top)))
    assert len(sides) >= 3  # 16 draws of 4 sides


def test_half_rejects_an_unknown_side() -> None:
    with pytest.raises(ValidationError, match="side"):
        HalfOptions(side="middle")


# --- eyes -------------------------------------------------------------------------------


def test_eyes_hides_one_band_across_both_eyes(images: torch.Tensor) -> None:
    known = EyesMask()(images, seeded()).known[:, 0]
    expected = torch.ones(64, 64)
    expected[26:40, 9:55] = 0.0  # rows 0.40-0.62, columns 0.14-0.86 of 64 px
    assert all(torch.equal(k, expected) for k in known)


def test_eyes_band_scales_with_the_image_and_is_never_empty() -> None:
    known = EyesMask()(smooth_test_images(1, 32), seeded()).known[0, 0]
    assert missing_count(known[None, None]).item() == (20 - 13) * (28 - 4)
    thin = EyesMask(EyesOptions(top=0.5, bottom=0.501, left=0.5, right=0.501))
    assert missing_count(thin(smooth_test_images(1, 8), seeded()).known).item() == 1


def test_eyes_band_edges_in_the_wrong_order_are_refused() -> None:
    with pytest.raises(ValidationError, match="top < bottom"):
        EyesOptions(top=0.6, bottom=0.4)


# --- pixels -----------------------------------------------------------------------------


def test_pixels_removes_exactly_the_fraction_scattered(images: torch.Tensor) -> None:
    known = PixelsMask()(images, seeded()).known
    assert missing_count(known).tolist() == [round(0.8 * 4096)] * 4
    known_30 = PixelsMask(PixelsOptions(fraction=0.3))(images, seeded()).known
    assert missing_count(known_30).tolist() == [round(0.3 * 4096)] * 4
    # Scattered: every 8x8 tile loses some but not all of its pixels.
    tiles = (known == 0).float().unfold(2, 8, 8).unfold(3, 8, 8).mean(dim=(-1, -2))
    assert tiles.min() > 0.4 and tiles.max() < 1.0


@pytest.mark.parametrize("fraction", [1.5, 1.0, 0.0, -0.2])
def test_pixels_fraction_must_be_between_0_and_1(fraction: float) -> None:
    with pytest.raises(ValidationError, match="fraction"):
        PixelsOptions(fraction=fraction)


def test_a_bad_option_through_the_registry_names_the_field() -> None:
    registry = Registry(*create_plugin_manager(load_entry_points=False))
    with pytest.raises(InpaintError, match="mask 'pixels'.*fraction"):
        registry.build("mask", "pixels", {"fraction": 1.5})
    with pytest.raises(InpaintError, match="fractoin"):
        registry.build("mask", "pixels", {"fractoin": 0.5})


# --- pattern ----------------------------------------------------------------------------


def neighbour_agreement(known: torch.Tensor) -> float:
    """Of the missing pixels, the share whose right-hand neighbour is missing too."""
    missing = known[..., :-1] == 0
    return float((missing & (known[..., 1:] == 0)).sum() / missing.sum())


def test_pattern_covers_a_quarter_in_blotches(images: torch.Tensor) -> None:
    known = PatternMask()(images, seeded()).known
    assert missing_count(known).tolist() == [1024] * 4
    # Blotches, not noise: scattered pixels at 25% would agree about a quarter of the time.
    assert neighbour_agreement(known) > 0.85
    coverage_40 = PatternMask(PatternOptions(coverage=0.4))(images, seeded()).known
    assert missing_count(coverage_40).tolist() == [round(0.4 * 4096)] * 4


def test_pattern_blotch_size_changes_the_grain(images: torch.Tensor) -> None:
    fine = PatternMask(PatternOptions(blotch_size=0.05))(images, seeded()).known
    coarse = PatternMask(PatternOptions(blotch_size=0.5))(images, seeded()).known
    assert neighbour_agreement(fine) < neighbour_agreement(coarse)
    with pytest.raises(ValidationError, match="coverage"):
        PatternOptions(coverage=1.2)


# --- blocks -----------------------------------------------------------------------------


def test_one_block_of_fixed_size_is_exactly_that_rectangle(images: torch.Tensor) -> None:
    mask = BlocksMask(BlocksOptions(count=1, min_size=0.25, max_size=0.25))
    known = mask(images, seeded()).known
    assert missing_count(known).tolist() == [256] * 4
    for k in known[:, 0]:
        rows, cols = (k == 0).nonzero().unbind(1)
        assert rows.max() - rows.min() == 15 and cols.max() - cols.min() == 15


def test_blocks_cover_between_one_and_count_blocks(images: torch.Tensor) -> None:
    known = BlocksMask()(smooth_test_images(8, 64), seeded()).known
    smallest, largest = round(0.1 * 64) ** 2, round(0.35 * 64) ** 2
    counts = missing_count(known)
    assert counts.min() >= smallest and counts.max() <= 4 * largest


def test_blocks_min_size_above_max_size_is_refused() -> None:
    with pytest.raises(ValidationError, match="min_size 0.5 is larger than max_size 0.2"):
        BlocksOptions(min_size=0.5, max_size=0.2)
    with pytest.raises(ValidationError, match="count"):
        BlocksOptions(count=0)


# --- strokes ----------------------------------------------------------------------------


def test_strokes_are_connected_brush_marks(images: torch.Tensor) -> None:
    known = StrokesMask()(smooth_test_images(8, 64), seeded()).known
    share = 1 - known.mean(dim=(1, 2, 3))
    assert share.min() > 0.02 and share.max() < 0.6
    assert neighbour_agreement(known) > 0.6  # strokes several pixels wide, not dots


def test_a_wider_brush_covers_more(images: torch.Tensor) -> None:
    batch = smooth_test_images(8, 64)
    thin = StrokesMask(StrokesOptions(width=0.03))(batch, seeded()).known
    wide = StrokesMask(StrokesOptions(width=0.2))(batch, seeded()).known
    assert missing_count(wide).sum() > 2 * missing_count(thin).sum()
    with pytest.raises(ValidationError, match="width"):
        StrokesOptions(width=1.0)


# --- file -------------------------------------------------------------------------------


def write_mask(path: Path, array: np.ndarray) -> Path:
    Image.fromarray(array).save(path)
    return path


def test_file_mask_white_is_missing_and_shared_by_the_batch(
    tmp_path: Path, images: torch.Tensor, capsys: pytest.CaptureFixture[str]
) -> None:
    array = np.zeros((64, 64), np.uint8)
    array[10:20, 30:50] = 255
    array[40, 40] = 100  # darker than half grey: known
    mask = FileMask(FileOptions(path=write_mask(tmp_path / "mask.png", array)))
    known = mask(images, seeded()).known
    assert capsys.readouterr().err == ""  # the right size: nothing to say
    expected = torch.ones(64, 64)
    expected[10:20, 30:50] = 0.0
    assert all(torch.equal(k[0], expected) for k in known)


def test_file_mask_of_another_size_is_cropped_resized_and_noted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rgb = np.zeros((100, 200, 3), np.uint8)  # a 200x100 RGB image: its centre 100x100 is kept
    rgb[:, :50] = 255  # outside the centre square: cropped away
    rgb[25:75, 50:100] = (255, 255, 255)  # the left half of the middle of the centre square
    path = write_mask(tmp_path / "wide.png", rgb)
    known = FileMask(FileOptions(path=path))(smooth_test_images(2, 32), seeded()).known
    err = capsys.readouterr().err
    assert "note:" in err and str(path) in err and "200x100" in err and "32x32" in err
    expected = torch.ones(32, 32)
    expected[8:24, 0:16] = 0.0
    assert torch.equal(known[0, 0], expected) and torch.equal(known[1, 0], expected)


def test_file_mask_missing_or_unreadable_file_is_one_line_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.png"
    with pytest.raises(InpaintError, match=f"{missing}: no such file"):
        FileMask(FileOptions(path=missing))
    garbage = tmp_path / "mask.png"
    garbage.write_text("not a picture")
    with pytest.raises(InpaintError, match="not a readable image"):
        FileMask(FileOptions(path=garbage))
    with pytest.raises(ValidationError, match="path"):
        FileOptions()


def test_file_mask_all_black_or_all_white_is_allowed(tmp_path: Path, images: torch.Tensor) -> None:
    # Nothing missing (the input is copied) and all missing (plain generation) are valid.
    black = write_mask(tmp_path / "black.png", np.zeros((64, 64), np.uint8))
    assert (FileMask(FileOptions(path=black))(images, seeded()).known == 1).all()
    white = write_mask(tmp_path / "white.png", np.full((64, 64), 255, np.uint8))
    assert (FileMask(FileOptions(path=white))(images, seeded()).known == 0).all()
