"""The built-in damages: they paint over the image and mark exactly what they covered."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from pydantic import ValidationError

from inpaint_toolkit.plugins.damages import (
    NoiseDamage,
    NoiseOptions,
    ObjectsDamage,
    ObjectsOptions,
    ScratchesDamage,
    ScratchesOptions,
    TextDamage,
    TextOptions,
)
from inpaint_toolkit.testing import smooth_test_images

DAMAGES = {
    "noise": lambda: NoiseDamage(),
    "salt_pepper_regions": lambda: NoiseDamage(NoiseOptions(kind="salt_pepper", layout="regions")),
    "text": lambda: TextDamage(),
    "scratches": lambda: ScratchesDamage(),
    "objects": lambda: ObjectsDamage(),
}


def seeded(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def missing_share(known: torch.Tensor) -> torch.Tensor:
    """Share of each image the damage covered."""
    return 1 - known.mean(dim=(1, 2, 3))


def changed_pixels(before: torch.Tensor, after: torch.Tensor) -> torch.Tensor:
    """``(B, 1, H, W)``: True where any channel changed."""
    return (before != after).any(dim=1, keepdim=True)


@pytest.fixture
def images() -> torch.Tensor:
    return smooth_test_images(4, 64)


# --- every damage -----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(DAMAGES))
def test_known_pixels_are_the_input_bit_for_bit(name: str, images: torch.Tensor) -> None:
    result = DAMAGES[name]()(images, seeded())
    assert result.images.shape == images.shape and result.known.shape == (4, 1, 64, 64)
    assert set(result.known.unique().tolist()) == {0.0, 1.0}
    assert result.images.min() >= -1 and result.images.max() <= 1
    keep = result.known.bool().expand_as(images)
    assert torch.equal(result.images[keep], images[keep])
    # ... and the damage really drew over what it marked: most of it changed.
    changed = changed_pixels(images, result.images)
    assert changed.sum() > 0.5 * (result.known == 0).sum()


@pytest.mark.parametrize("name", sorted(DAMAGES))
def test_damage_follows_the_seed_and_varies_per_image(name: str, images: torch.Tensor) -> None:
    damage = DAMAGES[name]()
    first, again, other = (
        damage(images, seeded(5)),
        damage(images, seeded(5)),
        damage(images, seeded(6)),
    )
    assert torch.equal(first.images, again.images) and torch.equal(first.known, again.known)
    assert not torch.equal(first.known, other.known)
    assert len({tuple(k.flatten().tolist()) for k in first.known}) == 4


# --- noise ------------------------------------------------------------------------------


def test_gaussian_noise_over_exactly_the_fraction(images: torch.Tensor) -> None:
    result = NoiseDamage(NoiseOptions(fraction=0.4, sigma=0.3))(images, seeded())
    assert (result.known == 0).flatten(1).sum(1).tolist() == [round(0.4 * 4096)] * 4
    hole = (result.known == 0).expand_as(images)
    difference = (result.images - images)[hole]
    assert 0.2 < difference.std() < 0.35  # sigma 0.3, a little less where it is clipped
    assert abs(difference.mean()) < 0.05


def test_salt_and_pepper_is_black_or_white_in_all_channels(images: torch.Tensor) -> None:
    result = NoiseDamage(NoiseOptions(kind="salt_pepper"))(images, seeded())
    hole = (result.known == 0)[:, 0]
    noisy = result.images.permute(0, 2, 3, 1)[hole]  # (N, 3)
    assert set(noisy.unique().tolist()) == {-1.0, 1.0}
    assert torch.all(noisy == noisy[:, :1])  # grey: one value in all channels
    assert 0.4 < (noisy[:, 0] == 1).float().mean() < 0.6


def test_noise_in_regions_is_blotchy(images: torch.Tensor) -> None:
    scattered = NoiseDamage()(images, seeded()).known
    regions = NoiseDamage(NoiseOptions(layout="regions"))(images, seeded()).known

    def neighbour_agreement(known: torch.Tensor) -> float:
        missing = known[..., :-1] == 0
        return float((missing & (known[..., 1:] == 0)).sum() / missing.sum())

    assert neighbour_agreement(scattered) < 0.4 < 0.8 < neighbour_agreement(regions)


def test_noise_options_are_checked() -> None:
    with pytest.raises(ValidationError, match="fraction"):
        NoiseOptions(fraction=1.5)
    with pytest.raises(ValidationError, match="kind"):
        NoiseOptions(kind="pink")
    with pytest.raises(ValidationError, match="colour"):
        NoiseOptions(colour="red")  # unknown option: extra="forbid"


# --- text -------------------------------------------------------------------------------


def test_text_mask_holds_the_anti_aliased_fringe(images: torch.Tensor) -> None:
    result = TextDamage()(images, seeded())
    changed = changed_pixels(images, result.images).float()
    assert changed.flatten(1).sum(1).min() > 20  # some letters on every image
    # Every changed pixel and its eight neighbours are marked missing.
    grown = F.max_pool2d(changed, 3, stride=1, padding=1)
    assert torch.all(result.known[grown == 1] == 0)
    share = missing_share(result.known)
    assert share.min() > 0.05 and share.max() < 0.7


def test_text_edges_are_anti_aliased_blends() -> None:
    black = torch.full((2, 3, 64, 64), -1.0)
    result = TextDamage(TextOptions(lines=1))(black, seeded())
    for painted, known in zip(result.images, result.known, strict=True):
        # One line is one colour; its blends with the black background make many more.
        assert len(painted[:, known[0] == 0].T.unique(dim=0)) > 5


def test_more_and_larger_text_covers_more(images: torch.Tensor) -> None:
    small = TextDamage(TextOptions(size=0.12, lines=1))(images, seeded()).known
    large = TextDamage(TextOptions(size=0.3, lines=5))(images, seeded()).known
    assert missing_share(large).mean() > 2 * missing_share(small).mean()
    with pytest.raises(ValidationError, match="lines"):
        TextOptions(lines=0)


def test_text_draws_on_small_images_too() -> None:
    result = TextDamage()(smooth_test_images(2, 32), seeded())
    assert torch.all(missing_share(result.known) > 0)


# --- scratches --------------------------------------------------------------------------


def test_scratches_are_thin(images: torch.Tensor) -> None:
    result = ScratchesDamage()(images, seeded())
    share = missing_share(result.known)
    assert share.min() > 0.005 and share.max() < 0.15
    # Thin: most covered pixels have a known pixel among their four neighbours.
    missing = (result.known == 0).float()
    interior = -F.max_pool2d(-missing, 3, stride=1, padding=1)  # erosion
    assert interior.sum() < 0.2 * missing.sum()


def test_wider_scratches_cover_more(images: torch.Tensor) -> None:
    thin = ScratchesDamage(ScratchesOptions(width=0.02))(images, seeded()).known
    wide = ScratchesDamage(ScratchesOptions(width=0.08))(images, seeded()).known
    assert missing_share(wide).mean() > 2 * missing_share(thin).mean()
    with pytest.raises(ValidationError, match="count"):
        ScratchesOptions(count=0)


# --- objects ----------------------------------------------------------------------------


def test_objects_are_solid_shapes_of_one_colour(images: torch.Tensor) -> None:
    result = ObjectsDamage(ObjectsOptions(count=1))(images, seeded())
    for painted, known in zip(result.images, result.known, strict=True):
        colours = painted[:, known[0] == 0].T.unique(dim=0)
        assert len(colours) == 1  # one shape: one flat colour
        assert (known == 0).sum() >= 4


def test_larger_objects_cover_more(images: torch.Tensor) -> None:
    batch = smooth_test_images(8, 64)
    small = ObjectsDamage(ObjectsOptions(max_size=0.15))(batch, seeded()).known
    large = ObjectsDamage(ObjectsOptions(max_size=0.6))(batch, seeded()).known
    assert missing_share(large).mean() > 3 * missing_share(small).mean()
    with pytest.raises(ValidationError, match="max_size"):
        ObjectsOptions(max_size=1.2)
