"""Classical baselines, and the inpainter contract over every model-free inpainter."""

from __future__ import annotations

import pytest
import torch

from inpaint_toolkit.core.interfaces import Inpainter
from inpaint_toolkit.plugins.classical import inpaint_inpainters
from inpaint_toolkit.registry.manager import Registry, create_plugin_manager

CLASSICAL = [spec.name for spec in inpaint_inpainters()]
NEEDS_A_MODEL = {"dcgan"}  # the z-search loads a trained checkpoint: tested on its own


def registry() -> Registry:
    return Registry(*create_plugin_manager(load_entry_points=False))


def model_free_inpainters() -> list[str]:
    return [name for name in registry().names("inpainter") if name not in NEEDS_A_MODEL]


def smooth_images(batch: int = 2, size: int = 32) -> torch.Tensor:
    ys, xs = torch.meshgrid(torch.linspace(-1, 1, size), torch.linspace(-1, 1, size), indexing="ij")
    channels = [0.5 * xs, 0.4 * ys, 0.3 * (xs + ys) / 2]
    return torch.stack([torch.stack(channels) + 0.3 + 0.1 * b for b in range(batch)])


def small_hole(batch: int = 2, size: int = 32) -> torch.Tensor:
    known = torch.ones(batch, 1, size, size)
    known[:, :, 13:19, 12:18] = 0.0
    return known


def test_the_three_baselines_are_registered():
    assert set(CLASSICAL) == {"telea", "ns", "biharmonic"}
    assert set(CLASSICAL) <= set(registry().names("inpainter"))


@pytest.mark.parametrize("name", CLASSICAL)
def test_small_hole_in_a_smooth_image_is_repaired_close_to_the_truth(name: str):
    truth = smooth_images()
    known = small_hole()
    repaired = registry().build("inpainter", name).inpaint(truth * known, known)
    hole = (known < 0.5).expand_as(truth)
    error = (repaired - truth)[hole].abs().mean().item()
    assert error < 0.03, f"{name}: mean error {error:.4f} in the hole (grey fill: 0.34)"


def test_radius_option_is_validated():
    from inpaint_toolkit.core.errors import InpaintError

    assert registry().build("inpainter", "telea", {"radius": 5}).radius == 5
    with pytest.raises(InpaintError, match="radius"):
        registry().build("inpainter", "ns", {"radius": 0})
    with pytest.raises(InpaintError, match="radious"):
        registry().build("inpainter", "telea", {"radious": 5})


@pytest.mark.parametrize("name", model_free_inpainters())
def test_inpainter_contract(name: str):
    """Every inpainter that needs no trained model: shape, range, known pixels kept."""
    inpainter = registry().build("inpainter", name)
    assert isinstance(inpainter, Inpainter)
    generator = torch.Generator().manual_seed(0)
    truth = torch.rand(3, 3, 32, 32, generator=generator) * 2 - 1
    known = (torch.rand(3, 1, 32, 32, generator=generator) > 0.3).float()
    known[1] = 1.0  # one image with no hole at all
    damaged = truth * known
    repaired = inpainter.inpaint(damaged, known, seed=0)
    assert repaired.shape == damaged.shape and repaired.dtype == damaged.dtype
    assert repaired.min() >= -1 and repaired.max() <= 1
    kept = known.expand_as(truth).bool()
    assert torch.equal(repaired[kept], damaged[kept])
    assert torch.equal(repaired[1], damaged[1])
    assert torch.equal(inpainter.inpaint(damaged, known, seed=0), repaired)  # deterministic


@pytest.mark.parametrize("name", CLASSICAL)
def test_an_image_that_is_all_hole_comes_back_unchanged(name: str):
    damaged = torch.zeros(1, 3, 16, 16)
    repaired = registry().build("inpainter", name).inpaint(damaged, torch.zeros(1, 1, 16, 16))
    assert torch.equal(repaired, damaged)
