"""Built-in damages: things drawn over a picture (noise, text, scratches, objects).

A mask takes pixels away; a damage paints over them, as a caption written over a photo
does. Each returns :class:`~inpaint_toolkit.core.interfaces.Damaged` with the images as
drawn over and ``known`` marking what the damage did not touch, so that the known pixels
are bit for bit the input's and the z-search treats the painted pixels as the hole.

Each image of a batch gets its own damage, and all randomness comes from the given
``torch.Generator`` (the Pillow drawings use a numpy generator seeded from it). Sizes are
fractions of the image side, so one setting fits 32, 64 and 128 pixel images.
"""

from __future__ import annotations

import math
import string
from collections.abc import Callable, Iterator
from functools import cache
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw, ImageFont
from pydantic import Field
from torch import Tensor

from inpaint_toolkit.core.interfaces import Damaged
from inpaint_toolkit.core.specs import Options, PluginSpec, hookimpl
from inpaint_toolkit.plugins.mask_drawing import (
    check_images,
    known_from_scores,
    numpy_rng,
    smooth_random_field,
)

# One painted layer: coverage (H, W) in [0, 1] (anti-aliased edges in between) and an RGB
# colour in [-1, 1].
Layer = tuple[np.ndarray, tuple[float, float, float]]
DrawLayers = Callable[[np.random.Generator, int, int], Iterator[Layer]]


def paint(
    images: Tensor, generator: torch.Generator, draw_layers: DrawLayers, *, grow: int = 0
) -> Damaged:
    """Composite the layers ``draw_layers(rng, H, W)`` yields over each image, in order.

    ``known`` is 0.0 wherever any layer has coverage, grown by ``grow`` pixels (for text,
    whose faint anti-aliased fringe is easy to miss); everywhere else the input is kept.
    """
    check_images(images)
    batch, _, height, width = images.shape
    rng = numpy_rng(generator)
    painted, covered = [], []
    for image in images:
        image_covered = torch.zeros(1, height, width, dtype=torch.bool, device=images.device)
        for coverage, colour in draw_layers(rng, height, width):
            alpha = torch.from_numpy(coverage).to(images.device, images.dtype)[None]
            colour_column = torch.tensor(colour, dtype=images.dtype, device=images.device)
            image = image * (1 - alpha) + colour_column.view(3, 1, 1) * alpha
            image_covered |= alpha > 0
        painted.append(image)
        covered.append(image_covered)
    covered_batch = torch.stack(covered).float()
    if grow:
        covered_batch = F.max_pool2d(covered_batch, 2 * grow + 1, stride=1, padding=grow)
    known = (1.0 - covered_batch).to(images.dtype)
    return Damaged(images=torch.where(known.bool(), images, torch.stack(painted)), known=known)


def random_colour(rng: np.random.Generator) -> tuple[float, float, float]:
    red, green, blue = rng.uniform(-1.0, 1.0, size=3)
    return float(red), float(green), float(blue)


def _layer_canvas(height: int, width: int) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    canvas = Image.new("L", (width, height), 0)
    return canvas, ImageDraw.Draw(canvas)


def _coverage(canvas: Image.Image) -> np.ndarray:
    return np.asarray(canvas, dtype=np.float32) / 255.0


# ---------------------------------------------------------------------------------------
# noise


class NoiseOptions(Options):
    fraction: float = Field(0.3, gt=0, lt=1, description="fraction of each image made noisy")
    kind: Literal["gaussian", "salt_pepper"] = Field(
        "gaussian",
        description="'gaussian' adds N(0, sigma) to each channel (clipped to [-1, 1]); "
        "'salt_pepper' sets the pixel to black or white",
    )
    layout: Literal["pixels", "regions"] = Field(
        "pixels", description="'pixels': scattered pixels; 'regions': random blotches"
    )
    sigma: float = Field(
        0.5, gt=0, le=2, description="gaussian noise level, in the images' [-1, 1] units"
    )


class NoiseDamage:
    """Noise over exactly ``fraction`` of each image, on scattered pixels or blotches."""

    def __init__(self, options: NoiseOptions | None = None):
        self.options = options or NoiseOptions()

    def __call__(self, images: Tensor, generator: torch.Generator) -> Damaged:
        check_images(images)
        batch, _, height, width = images.shape
        device = generator.device
        if self.options.layout == "regions":
            scores = smooth_random_field(batch, height, width, 0.2, generator)
        else:
            scores = torch.rand(batch, 1, height, width, generator=generator, device=device)
        known = known_from_scores(scores, self.options.fraction).to(images.device, images.dtype)
        if self.options.kind == "gaussian":
            noise = torch.randn(images.shape, generator=generator, device=device)
            noisy = (images + self.options.sigma * noise.to(images.device, images.dtype)).clamp(
                -1.0, 1.0
            )
        else:
            salt = torch.rand(batch, 1, height, width, generator=generator, device=device) < 0.5
            noisy = (salt.to(images.device, images.dtype) * 2 - 1).expand_as(images)
        return Damaged(images=torch.where(known.bool(), images, noisy), known=known)


# ---------------------------------------------------------------------------------------
# text


class TextOptions(Options):
    size: float = Field(
        0.2, gt=0, le=1, description="font size, as a fraction of the image side (6 px at least)"
    )
    lines: int = Field(3, ge=1, le=32, description="lines of random words, each its own colour")


@cache
def _font(pixels: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=pixels)  # Pillow >= 10.1: scalable, offline
    except TypeError:
        return ImageFont.load_default()


class TextDamage:
    """Lines of random words in random colours, written across the image with Pillow's
    built-in font. The mask is the text grown by one pixel, so it holds the whole
    anti-aliased fringe."""

    def __init__(self, options: TextOptions | None = None):
        self.options = options or TextOptions()

    def __call__(self, images: Tensor, generator: torch.Generator) -> Damaged:
        return paint(images, generator, self._layers, grow=1)

    def _layers(self, rng: np.random.Generator, height: int, width: int) -> Iterator[Layer]:
        pixels = max(6, round(self.options.size * min(height, width)))
        font = _font(pixels)
        for _ in range(self.options.lines):
            x = rng.uniform(-0.3, 0.3) * width
            # Tops from just above the image to just above its bottom: every line shows.
            y = rng.uniform(-0.25 * pixels, height - 0.75 * pixels)
            canvas, draw = _layer_canvas(height, width)
            draw.text((x, y), _random_words(rng, width - x, pixels), fill=255, font=font)
            yield _coverage(canvas), random_colour(rng)


def _random_words(rng: np.random.Generator, span: float, pixels: int) -> str:
    """Random letter groups, long enough to run past ``span`` pixels of ``pixels``-px text."""
    letters = np.array(list(string.ascii_letters))
    words, length = [], 0
    while length * 0.45 * pixels < span:  # a letter is roughly half the font size wide
        word = "".join(rng.choice(letters, size=rng.integers(2, 8)))
        words.append(word)
        length += len(word) + 1
    return " ".join(words)


# ---------------------------------------------------------------------------------------
# scratches


class ScratchesOptions(Options):
    count: int = Field(6, ge=1, le=64, description="number of scratches")
    width: float = Field(
        0.02, gt=0, lt=1, description="line width, as a fraction of the image side (1 px at least)"
    )


class ScratchesDamage:
    """Thin curved lines in random colours: quadratic Bezier curves between two random
    points, bent by a random control point, spanning 30-90% of the image side."""

    def __init__(self, options: ScratchesOptions | None = None):
        self.options = options or ScratchesOptions()

    def __call__(self, images: Tensor, generator: torch.Generator) -> Damaged:
        return paint(images, generator, self._layers)

    def _layers(self, rng: np.random.Generator, height: int, width: int) -> Iterator[Layer]:
        side = min(height, width)
        line_width = max(1, round(self.options.width * side))
        steps = np.linspace(0.0, 1.0, 24)[:, None]
        for _ in range(self.options.count):
            start = rng.uniform((0, 0), (width, height))
            angle, length = rng.uniform(0, 2 * math.pi), rng.uniform(0.3, 0.9) * side
            end = start + length * np.array([math.cos(angle), math.sin(angle)])
            bend = rng.normal(0.0, 0.25 * length) * np.array([-math.sin(angle), math.cos(angle)])
            control = (start + end) / 2 + bend
            curve = (1 - steps) ** 2 * start + 2 * (1 - steps) * steps * control + steps**2 * end
            canvas, draw = _layer_canvas(height, width)
            draw.line([tuple(point) for point in curve], fill=255, width=line_width, joint="curve")
            yield _coverage(canvas), random_colour(rng)


# ---------------------------------------------------------------------------------------
# objects


class ObjectsOptions(Options):
    count: int = Field(3, ge=1, le=32, description="number of shapes")
    max_size: float = Field(
        0.4,
        gt=0,
        lt=1,
        description="largest shape extent, as a fraction of the image side; each shape "
        "is between a third of this and this",
    )


class ObjectsDamage:
    """Filled ellipses, rectangles and polygons in random colours, centred anywhere in the
    image."""

    def __init__(self, options: ObjectsOptions | None = None):
        self.options = options or ObjectsOptions()

    def __call__(self, images: Tensor, generator: torch.Generator) -> Damaged:
        return paint(images, generator, self._layers)

    def _layers(self, rng: np.random.Generator, height: int, width: int) -> Iterator[Layer]:
        largest = max(2.0, self.options.max_size * min(height, width))
        for _ in range(self.options.count):
            cx, cy = rng.uniform(0, width), rng.uniform(0, height)
            half_w, half_h = rng.uniform(largest / 3, largest, size=2) / 2
            box = (cx - half_w, cy - half_h, cx + half_w, cy + half_h)
            canvas, draw = _layer_canvas(height, width)
            shape = rng.choice(("ellipse", "rectangle", "polygon"))
            if shape == "ellipse":
                draw.ellipse(box, fill=255)
            elif shape == "rectangle":
                draw.rectangle(box, fill=255)
            else:
                # Corners spread round the centre (jittered), so no polygon is a sliver.
                corners = int(rng.integers(3, 7))
                spacing = 2 * math.pi / corners
                jitter = rng.uniform(-0.35, 0.35, size=corners) * spacing
                angles = rng.uniform(0, spacing) + spacing * np.arange(corners) + jitter
                reach = rng.uniform(0.6, 1.0, size=corners)
                draw.polygon(
                    [
                        (cx + r * half_w * math.cos(a), cy + r * half_h * math.sin(a))
                        for a, r in zip(angles, reach, strict=True)
                    ],
                    fill=255,
                )
            yield _coverage(canvas), random_colour(rng)


# ---------------------------------------------------------------------------------------


@hookimpl
def inpaint_masks() -> list[PluginSpec]:
    return [
        PluginSpec(
            "noise",
            NoiseDamage,
            NoiseOptions,
            "gaussian or salt-and-pepper noise over a fraction of the image",
        ),
        PluginSpec("text", TextDamage, TextOptions, "random words written over the image"),
        PluginSpec("scratches", ScratchesDamage, ScratchesOptions, "thin random curved lines"),
        PluginSpec("objects", ObjectsDamage, ObjectsOptions, "random filled shapes over the image"),
    ]
