"""The exponential moving average of G's weights: the generator that is sampled and shipped.

Averaging the weights over the last ~1/(1 - decay) steps smooths out the oscillation of
adversarial training, and the average is a visibly better generator than the live one
(Karras et al. 2018; Yazici et al. 2019). Only parameters are averaged. Batch-norm
statistics of an average of weights are not the average of the statistics, so they are
recomputed (``recalibrate``) from fixed codes whenever the average is about to be used;
that is deterministic, so a resumed run stays bit for bit equal to an unbroken one.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

CALIBRATION_BATCHES = 4
CALIBRATION_BATCH = 128


def make_average(g: nn.Module) -> nn.Module:
    average = copy.deepcopy(g)
    average.requires_grad_(False)
    return average


@torch.no_grad()
def update_average(average: nn.Module, live: nn.Module, decay: float) -> None:
    """average <- decay * average + (1 - decay) * live, parameter by parameter."""
    averaged = list(average.parameters())
    current = [p.detach() for p in live.parameters()]
    torch._foreach_lerp_(averaged, current, 1.0 - decay)


@torch.no_grad()
def recalibrate(g: nn.Module, *, seed: int = 0) -> None:
    """Recompute every batch-norm's running statistics for ``g``'s current weights.

    The cumulative mean over a few fixed batches of codes (momentum None), in fp32, in
    train mode; ``g`` is left in eval mode, as inference uses it. A model without batch
    norm is only switched to eval mode.
    """
    norms = [m for m in g.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if norms:
        momenta = [m.momentum for m in norms]
        for norm in norms:
            norm.reset_running_stats()
            norm.momentum = None
        g.train()
        noise = torch.Generator().manual_seed(seed)
        device = next(g.parameters()).device
        for _ in range(CALIBRATION_BATCHES):
            g(g.sample_z(CALIBRATION_BATCH, generator=noise, device=device))
        for norm, momentum in zip(norms, momenta, strict=True):
            norm.momentum = momentum
    g.eval()
