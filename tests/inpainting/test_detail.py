"""The detail stage: an unsharp mask on the fill alone, before blending."""

import torch

from inpaint_toolkit.core.images import gaussian_blur
from inpaint_toolkit.evaluation.realism import high_frequency_energy
from inpaint_toolkit.inpainting.detail import restore_detail
from inpaint_toolkit.inpainting.inpaint import SearchOptions, inpaint
from inpaint_toolkit.plugins.dcgan import DCGANGenerator, DCGANOptions


def _texture(seed: int = 0) -> torch.Tensor:
    noise = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(seed)) * 2 - 1
    return gaussian_blur(noise, 1.0) * 0.5


def test_blur_keeps_a_flat_image_and_the_mean():
    flat = torch.full((1, 3, 16, 16), 0.25)
    assert torch.allclose(gaussian_blur(flat, 1.0), flat, atol=1e-6)
    texture = _texture()
    assert torch.allclose(gaussian_blur(texture, 1.0).mean(), texture.mean(), atol=1e-3)


def test_detail_raises_high_frequency_energy_by_the_gain():
    texture = _texture()
    everywhere = torch.ones(2, 1, 32, 32, dtype=torch.bool)
    before = high_frequency_energy(texture, everywhere)
    assert torch.equal(restore_detail(texture, 0.0), texture)
    after = high_frequency_energy(restore_detail(texture, 1.0), everywhere)
    assert (after > 1.5 * before).all()  # the finest band doubled: well above 1.5x
    flat = torch.full((1, 3, 16, 16), -0.5)
    assert torch.allclose(restore_detail(flat, 2.0), flat, atol=1e-6)  # nothing to raise


def test_detail_never_changes_a_known_pixel_and_paper_preset_turns_it_off():
    torch.manual_seed(0)
    generator = DCGANGenerator(DCGANOptions(image_size=32, z_dim=8, widths=(16, 8, 4))).eval()
    images = torch.rand(2, 3, 32, 32) * 2 - 1
    known = torch.ones(2, 1, 32, 32)
    known[:, :, 8:24, 8:24] = 0
    options = dict(init="random", adapt="none", loss="weighted_l1", iterations=3, restarts=1)
    sharp = inpaint(
        generator, None, images, known, SearchOptions(**options, detail=1.0), progress=False
    )
    plain = inpaint(
        generator, None, images, known, SearchOptions(**options, detail=0.0), progress=False
    )
    for result in (sharp, plain):
        assert torch.equal(result.blended[:, 0] * known, images * known)
    hole = known < 0.5
    assert (
        high_frequency_energy(sharp.blended[:, 0], hole)
        > high_frequency_energy(plain.blended[:, 0], hole)
    ).all()
    assert SearchOptions(preset="paper").detail == 0.0
