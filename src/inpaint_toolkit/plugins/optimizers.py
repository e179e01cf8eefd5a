"""Optimisers of the latent code z. The search clips z to the prior's range after every
step, so these need not know about it."""

from __future__ import annotations

import torch
from pydantic import Field
from torch import Tensor

from inpaint_toolkit.core.specs import Options, PluginSpec, hookimpl

# Chosen by measurement on held-out faces with the packaged model: see docs/method.md.
DEFAULT_ADAM_LR = 0.03


class AdamOptions(Options):
    lr: float = Field(DEFAULT_ADAM_LR, gt=0, description="learning rate")
    beta1: float = Field(0.9, ge=0, lt=1)
    beta2: float = Field(0.999, ge=0, lt=1)


class NesterovOptions(Options):
    lr: float = Field(0.5, gt=0, description="learning rate")
    momentum: float = Field(0.9, ge=0, lt=1)


class Adam:
    def __init__(self, options: AdamOptions):
        self.options = options

    def build(self, params: list[Tensor]) -> torch.optim.Optimizer:
        o = self.options
        return torch.optim.Adam(params, lr=o.lr, betas=(o.beta1, o.beta2))


class Nesterov:
    def __init__(self, options: NesterovOptions):
        self.options = options

    def build(self, params: list[Tensor]) -> torch.optim.Optimizer:
        o = self.options
        return torch.optim.SGD(params, lr=o.lr, momentum=o.momentum, nesterov=True)


@hookimpl
def inpaint_optimizers() -> list[PluginSpec]:
    return [
        PluginSpec("adam", Adam, AdamOptions, "Adam on z (the default)"),
        PluginSpec("nesterov", Nesterov, NesterovOptions, "SGD with Nesterov momentum on z"),
    ]
