"""Image-quality metrics, one value per image.

Inputs follow the toolkit's conventions (``(B, 3, H, W)`` in [-1, 1], ``known`` mask
``(B, 1, H, W)``, 1.0 = known), but every metric is computed on the [0, 1] scale, the
usual one for reporting: an L1 of 0.1 is a tenth of the full intensity range, and PSNR
uses a peak value of 1.

* ``hole_l1``: mean absolute error over the hole pixels (all channels).
* ``psnr``: over the whole image; ``hole_psnr``: over the hole pixels only. Identical
  images would give infinity; the mean squared error is floored at 1e-10 instead, which
  caps PSNR at :data:`PSNR_CAP_DB` = 100 dB and keeps tables and JSON finite.
* ``ssim``: the standard SSIM of Wang et al. (2004), implemented here in torch: an 11x11
  Gaussian window with sigma 1.5, K1 = 0.01, K2 = 0.03, data range 1, statistics over
  the window positions that fit inside the image ("valid"), each colour channel on its
  own, averaged over channels and positions. It equals scikit-image's
  ``structural_similarity(..., gaussian_weights=True, sigma=1.5,
  use_sample_covariance=False, data_range=1, channel_axis=-1)``.

An image with no hole has nothing to get wrong there: its ``hole_l1`` is 0 and its
``hole_psnr`` the cap.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

MSE_FLOOR = 1e-10
PSNR_CAP_DB = 10.0 * math.log10(1.0 / MSE_FLOOR)  # 100 dB

SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
SSIM_K1 = 0.01
SSIM_K2 = 0.03


def hole_l1(output: Tensor, truth: Tensor, known: Tensor) -> Tensor:
    """Mean absolute error over the hole pixels, on the [0, 1] scale: ``(B,)``."""
    _check(output, truth, known)
    hole = _hole(known, output)
    error = (_unit(output) - _unit(truth)).abs()
    return (error * hole).flatten(1).sum(1) / hole.flatten(1).sum(1).clamp_min(1.0)


def psnr(output: Tensor, truth: Tensor) -> Tensor:
    """Peak signal-to-noise ratio in dB over the whole image, [0, 1] scale: ``(B,)``."""
    _check(output, truth)
    mse = ((_unit(output) - _unit(truth)) ** 2).flatten(1).mean(1)
    return _psnr_from_mse(mse)


def hole_psnr(output: Tensor, truth: Tensor, known: Tensor) -> Tensor:
    """PSNR in dB over the hole pixels only, [0, 1] scale: ``(B,)``."""
    _check(output, truth, known)
    hole = _hole(known, output)
    squared = (_unit(output) - _unit(truth)) ** 2
    mse = (squared * hole).flatten(1).sum(1) / hole.flatten(1).sum(1).clamp_min(1.0)
    return _psnr_from_mse(mse)


def ssim(output: Tensor, truth: Tensor) -> Tensor:
    """Structural similarity over the whole image (Gaussian window, see above): ``(B,)``."""
    _check(output, truth)
    if min(output.shape[-2:]) < SSIM_WINDOW:
        raise ValueError(f"SSIM needs images of at least {SSIM_WINDOW}x{SSIM_WINDOW} pixels")
    x = _unit(output).double()
    y = _unit(truth).double()
    channels = x.shape[1]
    window = _gaussian_window(x.device).expand(channels, 1, SSIM_WINDOW, SSIM_WINDOW)

    def local_mean(values: Tensor) -> Tensor:
        return F.conv2d(values, window, groups=channels)  # "valid": no padding

    mean_x, mean_y = local_mean(x), local_mean(y)
    var_x = local_mean(x * x) - mean_x**2
    var_y = local_mean(y * y) - mean_y**2
    cov_xy = local_mean(x * y) - mean_x * mean_y
    c1, c2 = SSIM_K1**2, SSIM_K2**2  # data range 1
    index = ((2 * mean_x * mean_y + c1) * (2 * cov_xy + c2)) / (
        (mean_x**2 + mean_y**2 + c1) * (var_x + var_y + c2)
    )
    return index.flatten(1).mean(1).to(output.dtype)


def _gaussian_window(device: torch.device) -> Tensor:
    offsets = torch.arange(SSIM_WINDOW, dtype=torch.float64, device=device) - SSIM_WINDOW // 2
    profile = torch.exp(-(offsets**2) / (2 * SSIM_SIGMA**2))
    profile = profile / profile.sum()
    return torch.outer(profile, profile)[None, None]  # (1, 1, 11, 11), sums to 1


def _psnr_from_mse(mse: Tensor) -> Tensor:
    return 10.0 * torch.log10(1.0 / mse.clamp_min(MSE_FLOOR))


def _unit(images: Tensor) -> Tensor:
    """[-1, 1] -> [0, 1]."""
    return (images.float() + 1.0) / 2.0


def _hole(known: Tensor, images: Tensor) -> Tensor:
    """1.0 on hole pixels (known below 0.5), broadcast over the channels."""
    return (known < 0.5).float().expand(-1, images.shape[1], -1, -1)


def _check(output: Tensor, truth: Tensor, known: Tensor | None = None) -> None:
    if output.dim() != 4 or output.shape != truth.shape:
        raise ValueError(
            f"output {tuple(output.shape)} and truth {tuple(truth.shape)} must be the same "
            "(B, C, H, W)"
        )
    if known is not None:
        expected = (truth.shape[0], 1, *truth.shape[-2:])
        if tuple(known.shape) != expected:
            raise ValueError(f"known mask is {tuple(known.shape)}, expected {expected}")
