"""Giving a fill back the fine detail that the generator averages away.

The z-search and the adaptation both minimise an error against a face that the method
cannot know in the hole, so they pay off towards the mean of the faces that fit, which is
a blur: in the hole, the default fills held 0.30-0.42 of the real face's high-frequency
energy (docs/results.md). That detail is not lost in the code: the fill's finest band has
the right places (lids, nostrils, lips), only too little contrast. So before blending, the
fill's finest band (the image minus a Gaussian blur of ``DETAIL_SIGMA`` px) is raised by
``1 + gain``: an unsharp mask, applied to the generated image alone, so it never touches a
known pixel, and Poisson blending keeps its gradients in the hole.

The gain was chosen on the Pareto front of hole L1 against the realism distance and hole
sharpness (docs/results.md), on held-out faces apart from those the results report.
"""

from __future__ import annotations

from torch import Tensor

from inpaint_toolkit.core.images import gaussian_blur

DETAIL_SIGMA = 1.0  # px at 64x64: the finest octave, where the fills lack most
DEFAULT_DETAIL = 1.0


def restore_detail(generated: Tensor, gain: float) -> Tensor:
    """``generated + gain * (generated - blur(generated))``, clamped to [-1, 1], for images
    ``(..., C, H, W)``; ``gain`` 0 returns ``generated`` itself."""
    if gain == 0:
        return generated
    images = generated.reshape(-1, *generated.shape[-3:])
    fine = images - gaussian_blur(images, DETAIL_SIGMA)
    return (images + gain * fine).clamp(-1.0, 1.0).view_as(generated)
