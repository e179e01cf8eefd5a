"""The perceptual prior loss: lambda * log(1 - D(G(z))) (Yeh et al. 2017, eq. 3).

Minimising it pushes z towards images the discriminator finds real. With D's logit
``x``, ``D = sigmoid(x)`` and ``log(1 - sigmoid(x)) = -softplus(x)``: computed from the
logit this never takes the log of 0, however sure D is. lambda is the term's weight in
the loss expression, 0.003 by default as in the paper.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from inpaint_toolkit.core.interfaces import Problem
from inpaint_toolkit.core.specs import NoOptions, PluginSpec, hookimpl

PAPER_LAMBDA = 0.003


def prior_loss(logits: Tensor) -> Tensor:
    """log(1 - sigmoid(logits)), stably: ``(B,) -> (B,)``."""
    return -F.softplus(logits.float())


class Prior:
    default_weight = PAPER_LAMBDA
    needs_discriminator = True

    def __init__(self, options: NoOptions):
        pass

    def __call__(self, generated: Tensor, problem: Problem) -> Tensor:
        if problem.discriminator is None:
            raise ValueError("the prior loss needs a discriminator")
        return prior_loss(problem.discriminator(generated))


@hookimpl
def inpaint_losses() -> list[PluginSpec]:
    return [
        PluginSpec(
            "prior",
            Prior,
            NoOptions,
            "perceptual prior log(1 - D(G(z))), weight lambda = 0.003 as in the paper",
        )
    ]
