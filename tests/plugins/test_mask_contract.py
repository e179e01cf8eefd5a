"""Every registered mask and damage keeps the MaskSource contract, on 32 and 64 px images.

The checks are :func:`inpaint_toolkit.testing.check_mask_source`, which plugin authors
call from their own tests; the last tests here make sure it catches broken sources.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from inpaint_toolkit.core.interfaces import Damaged
from inpaint_toolkit.registry.manager import Registry, create_plugin_manager
from inpaint_toolkit.testing import check_mask_source, smooth_test_images

REGISTRY = Registry(*create_plugin_manager(load_entry_points=False))
MASK_NAMES = REGISTRY.names("mask")
BUILT_IN = {"center", "half", "eyes", "pixels", "pattern", "blocks", "strokes", "file"}
BUILT_IN |= {"noise", "text", "scratches", "objects"}


def build(name: str, tmp_path: Path) -> object:
    if name == "file":  # the one mask that needs an option: give it a real file
        array = np.zeros((50, 70), np.uint8)
        array[10:30, 20:45] = 255
        Image.fromarray(array).save(tmp_path / "mask.png")
        return REGISTRY.build("mask", "file", {"path": str(tmp_path / "mask.png")})
    return REGISTRY.build("mask", name)


def test_the_built_in_masks_and_damages_are_registered() -> None:
    assert BUILT_IN <= set(MASK_NAMES)
    for name in BUILT_IN:
        assert REGISTRY.get("mask", name).source == "built-in"


@pytest.mark.parametrize("image_size", [32, 64])
@pytest.mark.parametrize("name", MASK_NAMES)
def test_mask_source_contract(name: str, image_size: int, tmp_path: Path) -> None:
    check_mask_source(build(name, tmp_path), image_size=image_size, batch=3)


@pytest.mark.parametrize("name", MASK_NAMES)
def test_mask_options_are_documented(name: str) -> None:
    spec = REGISTRY.get("mask", name).spec
    assert spec.description and "\n" not in spec.description
    for field_name, field in spec.options.model_fields.items():
        assert field.description, f"mask {name!r}: option {field_name!r} has no description"


# --- the checker catches broken sources ---------------------------------------------------


class GreyCorner:
    """A correct little mask, which the broken ones below spoil one way each."""

    def known(self, images: torch.Tensor) -> torch.Tensor:
        known = torch.ones(images.shape[0], 1, *images.shape[-2:])
        known[..., :4, :4] = 0.0
        return known

    def __call__(self, images: torch.Tensor, generator: torch.Generator) -> Damaged:
        known = self.known(images)
        return Damaged(images=images * known, known=known)


class ChangesKnownPixels(GreyCorner):
    def __call__(self, images: torch.Tensor, generator: torch.Generator) -> Damaged:
        return Damaged(images=images * 0.5, known=self.known(images))


class SoftMask(GreyCorner):
    def __call__(self, images: torch.Tensor, generator: torch.Generator) -> Damaged:
        known = self.known(images) * 0.5 + 0.5
        return Damaged(images=images, known=known)


class MaskWithoutChannelAxis(GreyCorner):
    def __call__(self, images: torch.Tensor, generator: torch.Generator) -> Damaged:
        return Damaged(images=images, known=self.known(images)[:, 0])


class IgnoresTheGenerator(GreyCorner):
    def __call__(self, images: torch.Tensor, generator: torch.Generator) -> Damaged:
        known = (torch.rand(images.shape[0], 1, *images.shape[-2:]) > 0.5).float()
        return Damaged(images=images * known, known=known)


class NothingMissing(GreyCorner):
    def __call__(self, images: torch.Tensor, generator: torch.Generator) -> Damaged:
        return Damaged(images=images, known=torch.ones_like(self.known(images)))


class PaintsInPlace(GreyCorner):
    def __call__(self, images: torch.Tensor, generator: torch.Generator) -> Damaged:
        known = self.known(images)
        images.mul_(known)
        return Damaged(images=images, known=known)


class OutOfRange(GreyCorner):
    def __call__(self, images: torch.Tensor, generator: torch.Generator) -> Damaged:
        known = self.known(images)
        return Damaged(images=torch.where(known.bool(), images, 3.0), known=known)


class ReturnsATuple(GreyCorner):
    def __call__(self, images: torch.Tensor, generator: torch.Generator) -> Damaged:
        result = super().__call__(images, generator)
        return result.images, result.known  # type: ignore[return-value]


def test_the_checker_passes_a_correct_source() -> None:
    result = check_mask_source(GreyCorner(), image_size=32, batch=2)
    assert torch.equal(result.images, smooth_test_images(2, 32) * result.known)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (ChangesKnownPixels(), "values marked known differ from the input"),
        (SoftMask(), "known holds values other than 0.0 and 1.0"),
        (MaskWithoutChannelAxis(), r"known is \(2, 32, 32\)"),
        (IgnoresTheGenerator(), "not reproducible"),
        (NothingMissing(), r"images \[0, 1\] have no missing pixel"),
        (PaintsInPlace(), "modified its input images in place"),
        (OutOfRange(), r"images leave \[-1, 1\]"),
        (ReturnsATuple(), "returned tuple, not"),
    ],
    ids=lambda value: type(value).__name__ if not isinstance(value, str) else "",
)
def test_the_checker_catches_a_broken_source(source: object, message: str) -> None:
    with pytest.raises(AssertionError, match=message) as caught:
        check_mask_source(source, image_size=32, batch=2)  # type: ignore[arg-type]
    assert type(source).__name__ in str(caught.value)  # the message names the culprit
