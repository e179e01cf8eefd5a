"""The seed paper's DCGAN (Yeh et al. 2017, Table 2; Radford et al. 2015).

Generator, for the default 64x64 faces::

    z (B, 100) uniform in [-1, 1]
    -> linear -> (B, 512, 4, 4)      batch norm, ReLU
    -> up-conv 5x5 /2 -> (B, 256, 8, 8)    batch norm, ReLU
    -> up-conv 5x5 /2 -> (B, 128, 16, 16)  batch norm, ReLU
    -> up-conv 5x5 /2 -> (B, 64, 32, 32)   batch norm, ReLU
    -> up-conv 5x5 /2 -> (B, 3, 64, 64)    tanh (no batch norm on the output)

Discriminator, its mirror::

    image (B, 3, 64, 64)
    -> conv 5x5 /2 -> (B, 64, 32, 32)    LeakyReLU(0.2) (no batch norm on the input layer)
    -> conv 5x5 /2 -> (B, 128, 16, 16)   batch norm, LeakyReLU(0.2)
    -> conv 5x5 /2 -> (B, 256, 8, 8)     batch norm, LeakyReLU(0.2)
    -> conv 5x5 /2 -> (B, 512, 4, 4)     batch norm, LeakyReLU(0.2)
    -> linear -> (B,) realness logit

The number of stride-2 stages is the number of widths, so other image sizes (32, 128)
work by changing ``image_size`` and, if wished, ``widths``.
"""

from __future__ import annotations

from typing import Any

import torch
from pydantic import Field, model_validator
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm

from inpaint_toolkit.core.runtime import to_device
from inpaint_toolkit.core.specs import Options, PluginSpec, hookimpl

KERNEL = 5
PADDING = KERNEL // 2  # keeps a stride-2 (de)convolution an exact x2 / /2 resize


class DCGANOptions(Options):
    image_size: int = Field(64, description="side of the square images: 32, 64 or 128")
    z_dim: int = Field(100, ge=1, description="size of the latent code z")
    widths: tuple[int, ...] = Field(
        (512, 256, 128, 64), min_length=1, description="generator widths, widest first"
    )
    channels: int = Field(3, ge=1, description="image channels")

    @model_validator(mode="after")
    def _size_fits_widths(self) -> DCGANOptions:
        if self.image_size not in (32, 64, 128):
            raise ValueError(f"image_size must be 32, 64 or 128, not {self.image_size}")
        if self.image_size % 2 ** len(self.widths) or self.image_size < 2 ** len(self.widths):
            raise ValueError(
                f"image_size {self.image_size} is not divisible by 2**{len(self.widths)} "
                "(one halving per width)"
            )
        return self


class DCGANDiscriminatorOptions(DCGANOptions):
    widths: tuple[int, ...] = Field(
        (64, 128, 256, 512), min_length=1, description="discriminator widths, narrowest first"
    )
    spectral_norm: bool = Field(True, description="spectral normalisation of every layer")


def init_dcgan_weights(module: nn.Module) -> None:
    """Radford et al.'s initialisation: N(0, 0.02) weights, BN scale N(1, 0.02)."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class DCGANGenerator(nn.Module):
    z_range = (-1.0, 1.0)

    def __init__(self, options: DCGANOptions | None = None):
        super().__init__()
        options = options or DCGANOptions()
        self.options = options
        self.z_dim = options.z_dim
        self.image_size = options.image_size
        self.start_size = options.image_size // 2 ** len(options.widths)
        first = options.widths[0]
        # z -> (first, start, start); batch norm over the projected feature maps.
        self.project = nn.Linear(options.z_dim, first * self.start_size**2, bias=False)
        self.project_norm = nn.BatchNorm2d(first)
        layers: list[nn.Module] = []
        for wide, narrow in zip(options.widths, options.widths[1:], strict=False):
            layers += [_up_conv(wide, narrow, bias=False), nn.BatchNorm2d(narrow), nn.ReLU(True)]
        layers += [_up_conv(options.widths[-1], options.channels, bias=True), nn.Tanh()]
        self.body = nn.Sequential(*layers)
        self.apply(init_dcgan_weights)

    def forward(self, z: Tensor) -> Tensor:
        x = self.project(z).view(z.shape[0], -1, self.start_size, self.start_size)
        return self.body(torch.relu(self.project_norm(x)))

    def sample_z(
        self, n: int, *, generator: torch.Generator | None = None, device: Any = None
    ) -> Tensor:
        low, high = self.z_range
        # Drawn where the random generator lives (the CPU unless a CUDA one is given), then
        # moved: the same seed gives the same codes on every device.
        drawn_on = generator.device if generator is not None else "cpu"
        z = torch.rand(n, self.z_dim, generator=generator, device=drawn_on)
        return to_device(z * (high - low) + low, device or self.project.weight.device)


class DCGANDiscriminator(nn.Module):
    def __init__(self, options: DCGANDiscriminatorOptions | None = None):
        super().__init__()
        options = options or DCGANDiscriminatorOptions()
        self.options = options
        self.image_size = options.image_size
        norm = spectral_norm if options.spectral_norm else (lambda layer: layer)
        layers: list[nn.Module] = []
        in_channels = options.channels
        for index, width in enumerate(options.widths):
            layers.append(norm(nn.Conv2d(in_channels, width, KERNEL, 2, PADDING, bias=index == 0)))
            if index > 0:  # no batch norm on the input layer
                layers.append(nn.BatchNorm2d(width))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            in_channels = width
        self.body = nn.Sequential(*layers)
        end_size = options.image_size // 2 ** len(options.widths)
        self.logit = norm(nn.Linear(in_channels * end_size**2, 1))
        self.apply(init_dcgan_weights)

    def forward(self, images: Tensor) -> Tensor:
        return self.logit(self.body(images).flatten(1)).squeeze(1)


def _up_conv(in_channels: int, out_channels: int, *, bias: bool) -> nn.ConvTranspose2d:
    # output_padding=1 makes a 5x5 stride-2 transposed convolution exactly double the size.
    return nn.ConvTranspose2d(in_channels, out_channels, KERNEL, 2, PADDING, 1, bias=bias)


@hookimpl
def inpaint_generators() -> list[PluginSpec]:
    return [
        PluginSpec(
            "dcgan", DCGANGenerator, DCGANOptions, "DCGAN generator of the seed paper (Table 2)"
        )
    ]


@hookimpl
def inpaint_discriminators() -> list[PluginSpec]:
    return [
        PluginSpec(
            "dcgan",
            DCGANDiscriminator,
            DCGANDiscriminatorOptions,
            "DCGAN discriminator of the seed paper, optional spectral norm",
        )
    ]
