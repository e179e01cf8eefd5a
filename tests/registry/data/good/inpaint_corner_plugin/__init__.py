"""A third-party plugin, as an outside author would write it: a mask and a loss."""

import torch
from pydantic import Field

from inpaint_toolkit.core.interfaces import Damaged
from inpaint_toolkit.core.specs import Options, PluginSpec
from inpaint_toolkit.registry import hookimpl


class CornerOptions(Options):
    fraction: float = Field(0.5, gt=0, le=1, description="side of the hidden corner")


class CornerMask:
    """Hides the top-left corner."""

    def __init__(self, options):
        self.fraction = options.fraction

    def __call__(self, images, generator):
        side = round(images.shape[-1] * self.fraction)
        known = torch.ones(images.shape[0], 1, *images.shape[-2:])
        known[:, :, :side, :side] = 0
        return Damaged(images * known, known)


class TotalVariation:
    """Smoothness of the whole generated image: a prior any author might add."""

    default_weight = 0.1
    needs_discriminator = False

    def __init__(self, options):
        pass

    def __call__(self, generated, problem):
        dx = (generated[..., :, 1:] - generated[..., :, :-1]).abs().flatten(1).sum(1)
        dy = (generated[..., 1:, :] - generated[..., :-1, :]).abs().flatten(1).sum(1)
        return dx + dy


@hookimpl
def inpaint_masks():
    return [PluginSpec("corner", CornerMask, CornerOptions, "hides the top-left corner")]


@hookimpl
def inpaint_losses():
    return [PluginSpec("tv", TotalVariation, description="total variation of G(z)")]
