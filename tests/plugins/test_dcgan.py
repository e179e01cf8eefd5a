"""The seed paper's DCGAN: layer shapes, kernels, normalisation, sizes and the latent prior."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from inpaint_toolkit.core.errors import InpaintError
from inpaint_toolkit.plugins.dcgan import (
    DCGANDiscriminator,
    DCGANDiscriminatorOptions,
    DCGANGenerator,
    DCGANOptions,
)
from inpaint_toolkit.registry import get_registry


@pytest.fixture(scope="module")
def generator() -> DCGANGenerator:
    torch.manual_seed(0)
    return DCGANGenerator()


@pytest.fixture(scope="module")
def discriminator() -> DCGANDiscriminator:
    torch.manual_seed(0)
    return DCGANDiscriminator()


def output_shapes(model: nn.Module, layer_type: type, x: torch.Tensor) -> list[tuple]:
    """The output shape of every ``layer_type`` layer, in the order the forward pass runs."""
    shapes: list[tuple] = []
    handles = [
        layer.register_forward_hook(lambda _m, _i, out: shapes.append(tuple(out.shape)))
        for layer in model.modules()
        if isinstance(layer, layer_type)
    ]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for handle in handles:
            handle.remove()
    return shapes


def following(sequence: nn.Sequential, layer_type: type) -> list[type]:
    """For each ``layer_type`` layer of ``sequence``, the type of the layer after it."""
    layers = list(sequence)
    return [type(layers[i + 1]) for i, layer in enumerate(layers) if isinstance(layer, layer_type)]


def test_generator_maps_z_to_64x64_images_through_the_papers_shapes(generator):
    assert generator.z_dim == 100
    z = generator.sample_z(2, generator=torch.Generator().manual_seed(0))
    assert z.shape == (2, 100)

    # The projection's batch norm sees the 4x4x512 maps, then each up-convolution doubles.
    norm_shapes: list[tuple] = []
    handle = generator.project_norm.register_forward_hook(
        lambda _m, _i, out: norm_shapes.append(tuple(out.shape))
    )
    try:
        conv_shapes = output_shapes(generator, nn.ConvTranspose2d, z)
    finally:
        handle.remove()
    assert norm_shapes == [(2, 512, 4, 4)]
    assert conv_shapes == [(2, 256, 8, 8), (2, 128, 16, 16), (2, 64, 32, 32), (2, 3, 64, 64)]

    with torch.no_grad():
        images = generator.eval()(z)
    assert images.shape == (2, 3, 64, 64)
    assert images.min() >= -1 and images.max() <= 1
    assert images.std() > 0  # not a constant picture


def test_generator_uses_5x5_stride_2_and_batch_norm_except_on_the_output(generator):
    convs = [m for m in generator.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert len(convs) == 4
    assert all(c.kernel_size == (5, 5) and c.stride == (2, 2) for c in convs)
    assert isinstance(generator.project_norm, nn.BatchNorm2d)
    after_conv = following(generator.body, nn.ConvTranspose2d)
    assert after_conv == [nn.BatchNorm2d, nn.BatchNorm2d, nn.BatchNorm2d, nn.Tanh]
    batch_norms = [m for m in generator.modules() if isinstance(m, nn.BatchNorm2d)]
    assert [bn.num_features for bn in batch_norms] == [512, 256, 128, 64]


def test_discriminator_mirrors_the_generator(discriminator):
    images = torch.rand(3, 3, 64, 64) * 2 - 1
    shapes = output_shapes(discriminator, nn.Conv2d, images)
    assert shapes == [(3, 64, 32, 32), (3, 128, 16, 16), (3, 256, 8, 8), (3, 512, 4, 4)]
    convs = [m for m in discriminator.modules() if isinstance(m, nn.Conv2d)]
    assert all(c.kernel_size == (5, 5) and c.stride == (2, 2) for c in convs)

    # No batch norm on the input layer; LeakyReLU(0.2) after every layer.
    assert following(discriminator.body, nn.Conv2d) == [
        nn.LeakyReLU,
        nn.BatchNorm2d,
        nn.BatchNorm2d,
        nn.BatchNorm2d,
    ]
    leaky = [m for m in discriminator.modules() if isinstance(m, nn.LeakyReLU)]
    assert len(leaky) == 4 and all(m.negative_slope == 0.2 for m in leaky)
    assert not any(isinstance(m, nn.ReLU) for m in discriminator.modules())

    with torch.no_grad():
        logits = discriminator.eval()(images)
    assert logits.shape == (3,)  # one realness logit per image


def test_spectral_norm_can_be_switched_off():
    torch.manual_seed(0)
    options = {"image_size": 32, "widths": (8, 16, 32)}
    with_norm = DCGANDiscriminator(DCGANDiscriminatorOptions(**options)).eval()
    without = DCGANDiscriminator(DCGANDiscriminatorOptions(**options, spectral_norm=False))
    layers = [m for m in with_norm.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert len(layers) == 4
    assert all(parametrize.is_parametrized(layer, "weight") for layer in layers)
    assert not any(parametrize.is_parametrized(m) for m in without.modules())
    # The logit layer's weight is one row, so its largest singular value is exactly 1.
    sigma = torch.linalg.matrix_norm(with_norm.logit.weight.detach(), ord=2)
    assert sigma.item() == pytest.approx(1.0, abs=1e-4)


@pytest.mark.parametrize("size", [32, 128])
def test_other_image_sizes_work(size):
    torch.manual_seed(0)
    g = DCGANGenerator(DCGANOptions(image_size=size)).eval()
    d = DCGANDiscriminator(DCGANDiscriminatorOptions(image_size=size)).eval()
    with torch.no_grad():
        images = g(g.sample_z(2))
        logits = d(images)
    assert images.shape == (2, 3, size, size)
    assert logits.shape == (2,)


@pytest.mark.parametrize("kind", ["generator", "discriminator"])
def test_an_unsupported_image_size_names_image_size(kind):
    with pytest.raises(InpaintError, match="image_size") as caught:
        get_registry().build(kind, "dcgan", {"image_size": 48})
    assert "\n" not in str(caught.value)


def test_sample_z_is_uniform_in_minus_one_one_and_seeded(generator):
    z = generator.sample_z(4000, generator=torch.Generator().manual_seed(3))
    assert z.shape == (4000, 100)
    assert z.min() >= -1 and z.max() <= 1
    assert z.min() < -0.999 and z.max() > 0.999
    assert z.mean().item() == pytest.approx(0.0, abs=0.01)
    assert z.std().item() == pytest.approx(3**-0.5, abs=0.01)  # uniform on [-1, 1]
    shares = torch.histc(z, bins=10, min=-1, max=1) / z.numel()
    assert torch.allclose(shares, torch.full((10,), 0.1), atol=0.005)

    again = generator.sample_z(4000, generator=torch.Generator().manual_seed(3))
    other = generator.sample_z(4000, generator=torch.Generator().manual_seed(4))
    assert torch.equal(z, again)
    assert not torch.equal(z, other)
