"""Context losses: how far G(z) is from the damaged image on the pixels that are known.

The seed's weighted context loss (Yeh et al. 2017, eq. 2)::

    L_context(z) = || W * (G(z) - y) ||_1,   W_i = fraction of missing pixels around i
                                             (0 in the hole),

so that known pixels next to the hole, which say most about what fills it, count most.
Plain ``l1`` and ``l2`` over every known pixel are there for comparison. All three are
sums (an L1 norm, as in the paper), which is the scale the prior's lambda = 0.003 assumes.
"""

from __future__ import annotations

import torch.nn.functional as F
from pydantic import Field, field_validator
from torch import Tensor

from inpaint_toolkit.core.interfaces import Problem
from inpaint_toolkit.core.specs import NoOptions, Options, PluginSpec, hookimpl


def context_weights(known: Tensor, window: int = 7) -> Tensor:
    """W of the weighted context loss: for each known pixel, the fraction of missing pixels
    in its ``window`` x ``window`` neighbourhood (counting only neighbours inside the image);
    zero in the hole. ``known`` is ``(B, 1, H, W)``."""
    missing = 1.0 - known.float()
    fraction = F.avg_pool2d(missing, window, stride=1, padding=window // 2, count_include_pad=False)
    return fraction * known.float()


def weighted_context_loss(generated: Tensor, target: Tensor, weights: Tensor) -> Tensor:
    """|| W * (G(z) - y) ||_1 per image: ``(B, C, H, W)`` x2, ``(B, 1, H, W)`` -> ``(B,)``."""
    return (weights * (generated - target).abs()).flatten(1).sum(1)


class WindowOptions(Options):
    window: int = Field(7, ge=1, description="side of the neighbourhood that weights a pixel")

    @field_validator("window")
    @classmethod
    def _odd(cls, window: int) -> int:
        if window % 2 == 0:
            raise ValueError("window must be odd, so that it is centred on its pixel")
        return window


class WeightedL1:
    default_weight = 1.0
    needs_discriminator = False

    def __init__(self, options: WindowOptions):
        self.window = options.window

    def __call__(self, generated: Tensor, problem: Problem) -> Tensor:
        key = f"context_weights/{self.window}"
        if key not in problem.cache:  # the mask is fixed for a whole search: compute W once
            problem.cache[key] = context_weights(problem.known, self.window)
        return weighted_context_loss(generated, problem.target, problem.cache[key])


class L1:
    default_weight = 1.0
    needs_discriminator = False

    def __init__(self, options: NoOptions):
        pass

    def __call__(self, generated: Tensor, problem: Problem) -> Tensor:
        return weighted_context_loss(generated, problem.target, problem.known)


class L2:
    default_weight = 1.0
    needs_discriminator = False

    def __init__(self, options: NoOptions):
        pass

    def __call__(self, generated: Tensor, problem: Problem) -> Tensor:
        return (problem.known * (generated - problem.target) ** 2).flatten(1).sum(1)


@hookimpl
def inpaint_losses() -> list[PluginSpec]:
    return [
        PluginSpec(
            "weighted_l1",
            WeightedL1,
            WindowOptions,
            "weighted context loss of the paper: known pixels near the hole count most",
        ),
        PluginSpec("l1", L1, NoOptions, "L1 distance over the known pixels"),
        PluginSpec("l2", L2, NoOptions, "squared L2 distance over the known pixels"),
    ]
