"""Built-in masks: which pixels of a clean image are taken away.

The seed paper (Yeh et al. 2017, Sec. 4) tests four masks, all here: ``center`` (a 32x32
square of a 64x64 face), ``pixels`` (80% of the pixels missing at random), ``half`` and
``pattern`` (random blotches). ``blocks``, ``strokes`` (free-form brush strokes) and
``file`` (the user's own mask image) complete the set.

Every mask takes images ``(B, 3, H, W)`` in [-1, 1] and a ``torch.Generator`` and returns
:class:`~inpaint_toolkit.core.interfaces.Damaged`: the images with the hole set to 0.0
(mid-grey) and ``known`` ``(B, 1, H, W)``, 1.0 where the pixel is kept. The random kinds
draw a fresh mask for every image of the batch, and all their randomness comes from the
generator, so a seed gives the same masks again. Sizes are fractions of the image side,
so one setting fits 32, 64 and 128 pixel images; ``center``'s ``size`` is the one given in
pixels, as the paper gives it.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageOps
from pydantic import Field, model_validator
from torch import Tensor

from inpaint_toolkit.core.errors import InpaintError
from inpaint_toolkit.core.images import decode_image
from inpaint_toolkit.core.interfaces import Damaged
from inpaint_toolkit.core.notices import notice
from inpaint_toolkit.core.specs import Options, PluginSpec, hookimpl
from inpaint_toolkit.plugins.mask_drawing import (
    check_images,
    known_from_scores,
    mask_images,
    numpy_rng,
    smooth_random_field,
)


def rectangle_hole(images: Tensor, top: int, bottom: int, left: int, right: int) -> Tensor:
    """The known map (B, 1, H, W) of images missing rows top:bottom, columns left:right."""
    batch, _, height, width = images.shape
    known = torch.ones(batch, 1, height, width)
    known[:, :, top:bottom, left:right] = 0.0
    return known


# ---------------------------------------------------------------------------------------
# center


class CenterOptions(Options):
    size: int | None = Field(
        None,
        ge=1,
        description="side of the square hole in pixels; default half the image side "
        "(32 of 64, as in the paper)",
    )


class CenterMask:
    """A centred square hole, the same for every image."""

    def __init__(self, options: CenterOptions | None = None):
        self.options = options or CenterOptions()

    def __call__(self, images: Tensor, generator: torch.Generator) -> Damaged:
        check_images(images)
        height, width = images.shape[-2:]
        side = self.options.size if self.options.size is not None else min(height, width) // 2
        side = min(side, height, width)  # as large as the image: plain generation, allowed
        top, left = (height - side) // 2, (width - side) // 2
        return mask_images(images, rectangle_hole(images, top, top + side, left, left + side))


# ---------------------------------------------------------------------------------------
# half

HALF_SIDES = ("left", "right", "top", "bottom")


class HalfOptions(Options):
    side: Literal["left", "right", "top", "bottom", "random"] = Field(
        "left", description="which half is missing; 'random' picks a side for each image"
    )


class HalfMask:
    """One half of the image missing."""

    def __init__(self, options: HalfOptions | None = None):
        self.options = options or HalfOptions()

    def __call__(self, images: Tensor, generator: torch.Generator) -> Damaged:
        check_images(images)
        batch, _, height, width = images.shape
        rows = torch.arange(height).view(height, 1).expand(height, width)
        cols = torch.arange(width).view(1, width).expand(height, width)
        holes = torch.stack(  # (4, H, W), in the order of HALF_SIDES
            [
                cols < width // 2,
                cols >= width - width // 2,
                rows < height // 2,
                rows >= height - height // 2,
            ]
        )
        if self.options.side == "random":
            choice = torch.randint(0, 4, (batch,), generator=generator, device=generator.device)
            choice = choice.cpu()
        else:
            choice = torch.full((batch,), HALF_SIDES.index(self.options.side))
        return mask_images(images, (~holes[choice]).float().unsqueeze(1))


# ---------------------------------------------------------------------------------------
# eyes


class EyesOptions(Options):
    # The default band is the photo eye band of docs/photos.md (rows 98-124, columns 82-168
    # of a 250x250 LFW photo) carried through the 64 px crop: both eyes, brows to cheekbones.
    top: float = Field(0.40, ge=0, lt=1, description="band's top edge, a fraction of the height")
    bottom: float = Field(0.62, gt=0, le=1, description="band's bottom edge (fraction)")
    left: float = Field(0.14, ge=0, lt=1, description="band's left edge (fraction of the width)")
    right: float = Field(0.86, gt=0, le=1, description="band's right edge (fraction)")

    @model_validator(mode="after")
    def _band_is_not_empty(self) -> EyesOptions:
        if self.bottom <= self.top or self.right <= self.left:
            raise ValueError("the band needs top < bottom and left < right")
        return self


class EyesMask:
    """A band over both eyes of an aligned face: the commonest repair of a photo."""

    def __init__(self, options: EyesOptions | None = None):
        self.options = options or EyesOptions()

    def __call__(self, images: Tensor, generator: torch.Generator) -> Damaged:
        check_images(images)
        height, width = images.shape[-2:]
        o = self.options
        top, left = round(o.top * height), round(o.left * width)
        bottom = max(round(o.bottom * height), top + 1)  # never empty, even at a few pixels
        right = max(round(o.right * width), left + 1)
        return mask_images(images, rectangle_hole(images, top, bottom, left, right))


# ---------------------------------------------------------------------------------------
# pixels


class PixelsOptions(Options):
    fraction: float = Field(
        0.8, gt=0, lt=1, description="fraction of the pixels missing (0.8 in the paper)"
    )


class PixelsMask:
    """Scattered missing pixels: exactly ``fraction`` of each image, chosen at random."""

    def __init__(self, options: PixelsOptions | None = None):
        self.options = options or PixelsOptions()

    def __call__(self, images: Tensor, generator: torch.Generator) -> Damaged:
        check_images(images)
        batch, _, height, width = images.shape
        scores = torch.rand(batch, 1, height, width, generator=generator, device=generator.device)
        return mask_images(images, known_from_scores(scores, self.options.fraction))


# ---------------------------------------------------------------------------------------
# pattern


class PatternOptions(Options):
    coverage: float = Field(
        0.25, gt=0, lt=1, description="fraction of each image the blotches cover"
    )
    blotch_size: float = Field(
        0.25, gt=0, le=1, description="typical blotch size, as a fraction of the image side"
    )


class PatternMask:
    """Random blotches: a smooth random field, cut at the level that covers ``coverage``."""

    def __init__(self, options: PatternOptions | None = None):
        self.options = options or PatternOptions()

    def __call__(self, images: Tensor, generator: torch.Generator) -> Damaged:
        check_images(images)
        batch, _, height, width = images.shape
        field = smooth_random_field(batch, height, width, self.options.blotch_size, generator)
        return mask_images(images, known_from_scores(field, self.options.coverage))


# ---------------------------------------------------------------------------------------
# blocks


class BlocksOptions(Options):
    count: int = Field(4, ge=1, le=64, description="number of rectangles (they may overlap)")
    min_size: float = Field(
        0.1, gt=0, lt=1, description="shortest rectangle side, as a fraction of the image side"
    )
    max_size: float = Field(
        0.35, gt=0, lt=1, description="longest rectangle side, as a fraction of the image side"
    )

    @model_validator(mode="after")
    def _min_below_max(self) -> BlocksOptions:
        if self.min_size > self.max_size:
            raise ValueError(f"min_size {self.min_size} is larger than max_size {self.max_size}")
        return self


class BlocksMask:
    """Several axis-aligned rectangles, each side drawn between ``min_size`` and
    ``max_size`` of the image side, placed anywhere inside the image."""

    def __init__(self, options: BlocksOptions | None = None):
        self.options = options or BlocksOptions()

    def __call__(self, images: Tensor, generator: torch.Generator) -> Damaged:
        check_images(images)
        batch, _, height, width = images.shape
        side, count, device = min(height, width), self.options.count, generator.device
        low = max(1, round(self.options.min_size * side))
        high = max(low, round(self.options.max_size * side))
        sizes = torch.randint(low, high + 1, (2, batch, count), generator=generator, device=device)
        sizes = sizes.cpu()
        starts = torch.rand(2, batch, count, generator=generator, device=device).cpu()
        # floor(u * (room + 1)) is uniform over the offsets that keep the block inside.
        tops = (starts[0] * (height - sizes[0] + 1)).long()
        lefts = (starts[1] * (width - sizes[1] + 1)).long()
        rows = torch.arange(height).view(1, 1, height, 1)
        cols = torch.arange(width).view(1, 1, 1, width)
        inside = (
            (rows >= tops[..., None, None])
            & (rows < (tops + sizes[0])[..., None, None])
            & (cols >= lefts[..., None, None])
            & (cols < (lefts + sizes[1])[..., None, None])
        )  # (B, count, H, W)
        return mask_images(images, (~inside.any(dim=1, keepdim=True)).float())


# ---------------------------------------------------------------------------------------
# strokes


class StrokesOptions(Options):
    count: int = Field(4, ge=1, le=64, description="number of brush strokes")
    width: float = Field(
        0.1,
        gt=0,
        lt=1,
        description="widest brush, as a fraction of the image side; each stroke takes a "
        "width between half this and this",
    )


class StrokesMask:
    """Free-form brush strokes, as in free-form inpainting: each a random walk of 4-9
    segments that turns a little at every vertex, drawn with a round brush."""

    def __init__(self, options: StrokesOptions | None = None):
        self.options = options or StrokesOptions()

    def __call__(self, images: Tensor, generator: torch.Generator) -> Damaged:
        check_images(images)
        batch, _, height, width = images.shape
        rng = numpy_rng(generator)
        missing = np.stack([self._draw(rng, height, width) for _ in range(batch)])
        known = torch.from_numpy(~missing).float().unsqueeze(1)
        return mask_images(images, known)

    def _draw(self, rng: np.random.Generator, height: int, width: int) -> np.ndarray:
        canvas = Image.new("L", (width, height), 0)
        draw = ImageDraw.Draw(canvas)
        side = min(height, width)
        for _ in range(self.options.count):
            brush = max(1, round(rng.uniform(0.5, 1.0) * self.options.width * side))
            x, y = rng.uniform(0, width), rng.uniform(0, height)
            heading = rng.uniform(0, 2 * math.pi)
            points = [(x, y)]
            for _ in range(rng.integers(4, 10)):
                heading += rng.normal(0.0, 0.7)
                length = rng.uniform(0.08, 0.25) * side
                x = float(np.clip(x + length * math.cos(heading), 0, width - 1))
                y = float(np.clip(y + length * math.sin(heading), 0, height - 1))
                points.append((x, y))
            draw.line(points, fill=255, width=brush, joint="curve")
            radius = brush / 2
            for px, py in (points[0], points[-1]):  # round ends, like a real brush
                draw.ellipse((px - radius, py - radius, px + radius, py + radius), fill=255)
        return np.asarray(canvas) > 0


# ---------------------------------------------------------------------------------------
# file


class FileOptions(Options):
    path: Path = Field(..., description="mask image, white = missing; any size, greyscale or RGB")


class FileMask:
    """The user's mask image, the same for every image of the batch.

    White (above half grey) is missing. A mask of another size is centre-cropped to the
    images' shape and resized with nearest neighbour, with a notice saying so.
    """

    def __init__(self, options: FileOptions):
        self.options = options
        self.path = options.path
        self.image = _read_mask_image(options.path)  # a bad path fails when the mask is built
        self._known_by_size: dict[tuple[int, int], Tensor] = {}

    def known_for(self, height: int, width: int) -> Tensor:
        """``(1, 1, H, W)`` known mask for images of this size (computed once per size)."""
        if (height, width) not in self._known_by_size:
            image = self.image
            if image.size != (width, height):
                image = ImageOps.fit(image, (width, height), method=Image.NEAREST)
                notice(
                    f"mask {self.path} is {self.image.width}x{self.image.height}; centre-cropped "
                    f"and resized to {width}x{height} (nearest neighbour)"
                )
            missing = np.asarray(image, dtype=np.float32) / 255.0 > 0.5
            # Nothing missing (the input is copied) and all missing (plain generation) are
            # both allowed; the runner says which it is.
            self._known_by_size[height, width] = torch.from_numpy(~missing).float()[None, None]
        return self._known_by_size[height, width]

    def __call__(self, images: Tensor, generator: torch.Generator) -> Damaged:
        check_images(images)
        batch, _, height, width = images.shape
        known = self.known_for(height, width).expand(batch, 1, height, width).clone()
        return mask_images(images, known)


def _read_mask_image(path: Path) -> Image.Image:
    """Open a mask file as greyscale ("L"); a one-line error naming the path otherwise."""
    what = f"mask file {path}"
    image = decode_image(path, what)  # the pixel limit and the formats of any image
    try:  # Pillow makes LAB grey only by way of RGB
        return image.convert("L") if image.mode != "LAB" else image.convert("RGB").convert("L")
    except (ValueError, OSError) as exc:  # a mode Pillow cannot make grey
        raise InpaintError(f"{what}: cannot be read as greyscale ({image.mode}: {exc})") from None


# ---------------------------------------------------------------------------------------


@hookimpl
def inpaint_masks() -> list[PluginSpec]:
    return [
        PluginSpec(
            "center", CenterMask, CenterOptions, "centred square hole (the paper's 32x32 of 64x64)"
        ),
        PluginSpec(
            "half", HalfMask, HalfOptions, "one half missing: left, right, top, bottom or random"
        ),
        PluginSpec("eyes", EyesMask, EyesOptions, "a band over both eyes of an aligned face"),
        PluginSpec("pixels", PixelsMask, PixelsOptions, "random missing pixels (80% in the paper)"),
        PluginSpec(
            "pattern",
            PatternMask,
            PatternOptions,
            "random blotches covering about 25% of the image",
        ),
        PluginSpec("blocks", BlocksMask, BlocksOptions, "several random rectangles"),
        PluginSpec("strokes", StrokesMask, StrokesOptions, "free-form random brush strokes"),
        PluginSpec("file", FileMask, FileOptions, "a mask image from a file, white = missing"),
    ]
