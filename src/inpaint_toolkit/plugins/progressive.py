"""A progressively grown generator and discriminator (Karras et al. 2018, ProGAN).

Generator, for the default 64x64 faces and widths (256, 256, 256, 128, 64)::

    z (B, 100) uniform in [-1, 1]            pixel norm (z on the sphere)
    -> linear -> (B, 256, 4, 4)              LReLU(0.2), pixel norm
    -> conv 3x3 -> (B, 256, 4, 4)            LReLU, pixel norm       block 0 (4x4)
    -> x2 nearest, 2 x conv 3x3 -> (B, 256, 8, 8)                    block 1 (8x8)
    -> x2 nearest, 2 x conv 3x3 -> (B, 256, 16, 16)                  block 2
    -> x2 nearest, 2 x conv 3x3 -> (B, 128, 32, 32)                  block 3
    -> x2 nearest, 2 x conv 3x3 -> (B, 64, 64, 64)                   block 4 (64x64)
    -> to-RGB conv 1x1 -> (B, 3, 64, 64) -> tanh

Every resolution has its own to-RGB 1x1 convolution, used while that resolution is the top
one. The to-RGB output is linear and the tanh comes after the fade-in blend (below), so the
blend mixes unbounded colours and the image still lands in [-1, 1].

Discriminator, its mirror::

    image (B, 3, 64, 64) -> from-RGB conv 1x1 -> (B, 64, 64, 64)    LReLU
    -> 2 x conv 3x3, avg-pool /2 -> (B, 128, 32, 32)                 block 4
    -> ... -> (B, 256, 4, 4)                                         blocks 3, 2, 1
    -> minibatch std -> (B, 257, 4, 4)                               block 0 (4x4)
    -> conv 3x3 -> (B, 256, 4, 4) -> conv 4x4 -> (B, 256, 1, 1)      LReLU after each
    -> linear -> (B,) realness logit

Growing. Training starts with blocks 0 only (4x4) and adds one resolution at a time. A new
block is faded in: G shows ``(1 - alpha) * up2(old RGB) + alpha * new RGB`` and D mirrors
it, feeding ``(1 - alpha) * from_rgb_old(pool2(image)) + alpha * new_block(from_rgb(image))``
onwards, with alpha rising linearly from 0 to 1. The schedule (``growth_stage``) splits the
run into phases: stable at 4x4, then a fade and a stable phase per new resolution; the last,
full-resolution stable phase takes ``final_share`` of the run, the others share the rest
equally. Everything is a pure function of the progress fraction the training loop passes
to ``set_training_progress``, so a resumed run continues exactly; a fresh model is at
progress 1, the finished full-resolution network, and a loaded one where its run stopped.

At every stage the interface is the full-size one: G upsamples its current low-resolution
image (nearest neighbour) to ``image_size``, and D average-pools its full-size input down
to its current resolution, so the training loop and all inference code need no special
case. All resolutions' parameters exist from construction, so a checkpoint has the same
keys at any stage; parameters not yet (or no longer) in use simply get no gradient.

Equalised learning rate: weights are stored N(0, 1) and multiplied by the He constant
``gain / sqrt(fan_in)`` in every forward pass, so Adam's step size is the same for every
layer. With ``equalized_lr=false`` that constant is baked into the initial weights instead
(plain He initialisation). No batch norm anywhere: G uses pixel norm, D nothing.

Give G and D the same ``final_share`` (and image size), or they grow out of step.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from pydantic import Field, model_validator
from torch import Tensor, nn

from inpaint_toolkit.core.runtime import to_device
from inpaint_toolkit.core.specs import Options, PluginSpec, hookimpl

START = 4  # the first resolution
MAX_WIDTH = 256  # default widths: min(MAX_WIDTH, WIDTH_BASE / resolution), as ProGAN's nf()
WIDTH_BASE = 4096
HE_GAIN = math.sqrt(2.0)  # for layers followed by LReLU; to-RGB and the logit use 1
SLOPE = 0.2
EPSILON = 1e-8
MINIBATCH_GROUP = 4


class ProgressiveOptions(Options):
    image_size: int = Field(64, description="side of the square images: 32, 64 or 128")
    widths: tuple[int, ...] | None = Field(
        None,
        description="channels at each resolution 4, 8, ..., image_size (4x4 first); default "
        "min(256, 4096 / resolution): 256 up to 16x16, then halved at each doubling",
    )
    equalized_lr: bool = Field(True, description="He-constant weight scaling at run time")
    final_share: float = Field(
        0.3,
        ge=0.0,
        lt=1.0,
        description="share of training in the last, full-resolution stable phase; the other "
        "phases (stable 4x4, then fade and stable per resolution) split the rest equally",
    )

    @model_validator(mode="after")
    def _widths_fit_size(self) -> ProgressiveOptions:
        if self.image_size not in (32, 64, 128):
            raise ValueError(f"image_size must be 32, 64 or 128, not {self.image_size}")
        wanted = len(self.resolutions())
        if self.widths is not None and len(self.widths) != wanted:
            raise ValueError(
                f"widths needs one width per resolution {self.resolutions()}: "
                f"{wanted} values, not {len(self.widths)}"
            )
        if self.widths is not None and min(self.widths) < 1:
            raise ValueError("widths must be positive")
        return self

    def resolutions(self) -> list[int]:
        """4, 8, ..., image_size."""
        return [START << level for level in range(int(math.log2(self.image_size // START)) + 1)]

    def level_widths(self) -> tuple[int, ...]:
        if self.widths is not None:
            return self.widths
        return tuple(min(MAX_WIDTH, WIDTH_BASE // size) for size in self.resolutions())


class ProgressiveGeneratorOptions(ProgressiveOptions):
    z_dim: int = Field(100, ge=1, description="size of the latent code z")
    pixel_norm: bool = Field(True, description="pixel norm of z and after every convolution")


class ProgressiveDiscriminatorOptions(ProgressiveOptions):
    minibatch_std: bool = Field(
        True, description="minibatch standard deviation feature map before the last block"
    )


def growth_stage(fraction: float, doublings: int, final_share: float) -> tuple[int, float]:
    """The (level, alpha) of training progress ``fraction``: level 0 is 4x4, ``doublings``
    is full size; alpha in [0, 1] is how far the level's block has faded in (1: stable).

    Phases, each ``(1 - final_share) / (2 * doublings)`` of the run: stable 4x4, then per
    new level a fade and a stable phase; the final stable phase gets ``final_share``.
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"training progress must be in [0, 1], not {fraction}")
    position = fraction / ((1.0 - final_share) / (2 * doublings))  # in phases
    phase = math.floor(position + 1e-9)  # a fraction on a boundary, up to rounding, starts it
    if phase >= 2 * doublings:  # the final stable phase
        return doublings, 1.0
    if phase % 2 == 0:  # stable: phase 0 is 4x4, phase 2k is level k
        return phase // 2, 1.0
    return (phase + 1) // 2, min(max(position - phase, 0.0), 1.0)


# --- layers --------------------------------------------------------------------------------


def _he_init(layer: nn.Conv2d | nn.Linear, gain: float, equalized: bool) -> float:
    """Initialise ``layer``; returns the factor its weight is multiplied by at run time."""
    he = gain / math.sqrt(layer.weight[0].numel())  # fan_in = in_channels * kernel area
    nn.init.normal_(layer.weight, 0.0, 1.0 if equalized else he)
    nn.init.zeros_(layer.bias)
    return he if equalized else 1.0


class ScaledConv2d(nn.Conv2d):
    """A convolution with an equalised learning rate (or He init): see the module notes."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel: int,
        *,
        equalized: bool,
        gain: float = HE_GAIN,
        padding: int | None = None,
    ):
        super().__init__(
            in_channels, out_channels, kernel, padding=kernel // 2 if padding is None else padding
        )
        self.scale = _he_init(self, gain, equalized)

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.weight * self.scale, self.bias, padding=self.padding)


class ScaledLinear(nn.Linear):
    """A linear layer with an equalised learning rate (or He init)."""

    def __init__(
        self, in_features: int, out_features: int, *, equalized: bool, gain: float = HE_GAIN
    ):
        super().__init__(in_features, out_features)
        self.scale = _he_init(self, gain, equalized)

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight * self.scale, self.bias)


class PixelNorm(nn.Module):
    """Each pixel's feature vector scaled to unit root-mean-square (ProGAN's G normaliser)."""

    def forward(self, x: Tensor) -> Tensor:
        return x * torch.rsqrt(x.square().mean(dim=1, keepdim=True) + EPSILON)


class MinibatchStd(nn.Module):
    """One extra feature map: the standard deviation of the features across groups of up to
    four images, averaged to one number per group, so D can see a lack of variety.

    The group is the largest size up to four that divides the batch; images ``m``,
    ``m + M``, ``m + 2M``, ... (``M = B / group``) form one group, as in ProGAN.
    """

    def forward(self, x: Tensor) -> Tensor:
        batch, channels, height, width = x.shape
        group = next(g for g in range(min(MINIBATCH_GROUP, batch), 0, -1) if batch % g == 0)
        grouped = x.reshape(group, batch // group, channels, height, width)
        spread = (grouped.var(dim=0, unbiased=False) + EPSILON).sqrt().mean(dim=(1, 2, 3))
        feature = spread.view(1, -1, 1, 1, 1).expand(group, -1, 1, height, width)
        return torch.cat([x, feature.reshape(batch, 1, height, width)], dim=1)


def _leaky() -> nn.LeakyReLU:
    return nn.LeakyReLU(SLOPE)


# --- the growing pair ----------------------------------------------------------------------


class _Growing(nn.Module):
    """What G and D share: the stage (level, alpha) derived from the training progress,
    and ProGAN's optimiser settings (``TrainingRecipe``)."""

    @property
    def training_defaults(self) -> dict[str, Any]:
        # No weight average: averaged across growth stages it was noise after 1,835 steps
        # while the live G drew faces (measured: docs/model.md). Weights stored N(0, 1)
        # make Adam's steps relative to unit-scale weights, so the DCGAN's lr 2e-4 learns
        # several times slower here; ProGAN's 1e-3 with betas (0, 0.99) is what it needs.
        if not self.options.equalized_lr:
            return {"ema": 0.0}
        return {"ema": 0.0, "lr": 1e-3, "beta1": 0.0, "beta2": 0.99}

    def __init__(self, options: ProgressiveOptions):
        super().__init__()
        self.options = options
        self.image_size = options.image_size
        self.doublings = len(options.resolutions()) - 1
        self.set_training_progress(1.0)  # a fresh or loaded model is a finished one

    def set_training_progress(self, fraction: float) -> None:
        self.progress = float(fraction)
        self.level, self.alpha = growth_stage(
            self.progress, self.doublings, self.options.final_share
        )

    @property
    def resolution(self) -> int:
        """The side of the images the top active block works at."""
        return START << self.level


class ProgressiveGenerator(_Growing):
    z_range = (-1.0, 1.0)

    def __init__(self, options: ProgressiveGeneratorOptions | None = None):
        options = options or ProgressiveGeneratorOptions()
        super().__init__(options)
        self.z_dim = options.z_dim
        widths = options.level_widths()
        eq = options.equalized_lr

        def norm() -> nn.Module:
            return PixelNorm() if options.pixel_norm else nn.Identity()

        first = widths[0]
        blocks: list[nn.Module] = [
            nn.Sequential(  # z -> (B, first, 4, 4)
                norm(),
                ScaledLinear(options.z_dim, first * START**2, equalized=eq),
                nn.Unflatten(1, (first, START, START)),
                _leaky(),
                norm(),
                ScaledConv2d(first, first, 3, equalized=eq),
                _leaky(),
                norm(),
            )
        ]
        for wide, narrow in zip(widths, widths[1:], strict=False):
            blocks.append(
                nn.Sequential(  # (B, wide, r, r) -> (B, narrow, 2r, 2r)
                    nn.Upsample(scale_factor=2, mode="nearest"),
                    ScaledConv2d(wide, narrow, 3, equalized=eq),
                    _leaky(),
                    norm(),
                    ScaledConv2d(narrow, narrow, 3, equalized=eq),
                    _leaky(),
                    norm(),
                )
            )
        self.blocks = nn.ModuleList(blocks)
        self.to_rgb = nn.ModuleList(ScaledConv2d(w, 3, 1, equalized=eq, gain=1.0) for w in widths)

    def forward(self, z: Tensor) -> Tensor:
        level, alpha = self.level, self.alpha
        fading = level > 0 and alpha < 1.0
        x = self.blocks[0](z)
        for block in self.blocks[1 : level if fading else level + 1]:
            x = block(x)
        if fading:  # the new block's colours blended over the old ones, upsampled
            old = F.interpolate(self.to_rgb[level - 1](x), scale_factor=2, mode="nearest")
            new = self.to_rgb[level](self.blocks[level](x))
            rgb = old + alpha * (new - old)
        else:
            rgb = self.to_rgb[level](x)
        images = torch.tanh(rgb)  # (B, 3, r, r)
        if self.resolution < self.image_size:  # every pixel repeated: still a full-size image
            images = F.interpolate(images, scale_factor=self.image_size // self.resolution)
        return images

    def sample_z(
        self, n: int, *, generator: torch.Generator | None = None, device: Any = None
    ) -> Tensor:
        low, high = self.z_range
        # Drawn where the random generator lives (the CPU unless a CUDA one is given), then
        # moved: the same seed gives the same codes on every device.
        drawn_on = generator.device if generator is not None else "cpu"
        z = torch.rand(n, self.z_dim, generator=generator, device=drawn_on)
        return to_device(z * (high - low) + low, device or self.to_rgb[0].weight.device)


class ProgressiveDiscriminator(_Growing):
    def __init__(self, options: ProgressiveDiscriminatorOptions | None = None):
        options = options or ProgressiveDiscriminatorOptions()
        super().__init__(options)
        widths = options.level_widths()
        eq = options.equalized_lr
        first = widths[0]
        extra = int(options.minibatch_std)
        blocks: list[nn.Module] = [
            nn.Sequential(  # (B, first, 4, 4) -> (B, 1)
                MinibatchStd() if options.minibatch_std else nn.Identity(),
                ScaledConv2d(first + extra, first, 3, equalized=eq),
                _leaky(),
                ScaledConv2d(first, first, START, equalized=eq, padding=0),  # -> (B, first, 1, 1)
                _leaky(),
                nn.Flatten(),
                ScaledLinear(first, 1, equalized=eq, gain=1.0),
            )
        ]
        for narrow, wide in zip(widths, widths[1:], strict=False):
            blocks.append(
                nn.Sequential(  # (B, wide, 2r, 2r) -> (B, narrow, r, r)
                    ScaledConv2d(wide, wide, 3, equalized=eq),
                    _leaky(),
                    ScaledConv2d(wide, narrow, 3, equalized=eq),
                    _leaky(),
                    nn.AvgPool2d(2),
                )
            )
        self.blocks = nn.ModuleList(blocks)
        self.from_rgb = nn.ModuleList(
            nn.Sequential(ScaledConv2d(3, w, 1, equalized=eq), _leaky()) for w in widths
        )

    def forward(self, images: Tensor) -> Tensor:
        if tuple(images.shape[-2:]) != (self.image_size, self.image_size):
            raise ValueError(
                f"discriminator for {self.image_size}x{self.image_size} images got "
                f"{tuple(images.shape)}"
            )
        level, alpha = self.level, self.alpha
        if self.resolution < self.image_size:  # the full-size image seen at this stage's size
            images = F.avg_pool2d(images, self.image_size // self.resolution)
        x = self.blocks[level](self.from_rgb[level](images))
        if level > 0 and alpha < 1.0:  # the new block blended over the old path, halved image
            old = self.from_rgb[level - 1](F.avg_pool2d(images, 2))
            x = old + alpha * (x - old)
        for lower in range(level - 1, -1, -1):
            x = self.blocks[lower](x)
        return x.squeeze(1)  # (B,)


@hookimpl
def inpaint_generators() -> list[PluginSpec]:
    return [
        PluginSpec(
            "progressive",
            ProgressiveGenerator,
            ProgressiveGeneratorOptions,
            "progressively grown generator (ProGAN): 4x4 up to full size, faded in",
        )
    ]


@hookimpl
def inpaint_discriminators() -> list[PluginSpec]:
    return [
        PluginSpec(
            "progressive",
            ProgressiveDiscriminator,
            ProgressiveDiscriminatorOptions,
            "progressively grown discriminator (ProGAN), minibatch standard deviation",
        )
    ]
