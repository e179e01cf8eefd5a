"""Classical inpainting baselines, the yardstick for the DCGAN z-search.

* ``telea``: fast marching (Telea 2004), ``cv2.inpaint`` with ``INPAINT_TELEA``;
* ``ns``: Navier-Stokes fluid transport (Bertalmio et al. 2001), ``cv2.INPAINT_NS``;
* ``biharmonic``: smooth biharmonic fill, ``skimage.restoration.inpaint_biharmonic``.

None learns anything about faces: they propagate the colours around the hole inwards.
OpenCV works on 8-bit images, so its fill is quantised to 256 levels; scikit-image's
works on the floats directly. Either way the known pixels come back exactly as given,
and an image with no hole comes back unchanged. An image that is all hole has nothing to
propagate from and also comes back unchanged.
"""

from __future__ import annotations

import numpy as np
import torch
from pydantic import Field
from torch import Tensor

from inpaint_toolkit.core.images import to_tensor, to_uint8
from inpaint_toolkit.core.specs import NoOptions, Options, PluginSpec, hookimpl


class OpenCVOptions(Options):
    radius: float = Field(3.0, gt=0, description="neighbourhood radius in pixels")


class _PerImageInpainter:
    """Runs ``_fill`` on each image that has a hole and something known, then keeps the
    known pixels exactly (the fill may touch them: quantisation, smoothing)."""

    def inpaint(self, images: Tensor, known: Tensor, *, seed: int = 0) -> Tensor:
        if images.dim() != 4 or tuple(known.shape) != (images.shape[0], 1, *images.shape[-2:]):
            raise ValueError(
                f"expected images (B, C, H, W) and known (B, 1, H, W), not "
                f"{tuple(images.shape)} and {tuple(known.shape)}"
            )
        hole = known < 0.5  # (B, 1, H, W)
        filled = images.clone()
        for index in range(images.shape[0]):
            if hole[index].any() and not hole[index].all():
                fill = self._fill(images[index : index + 1], hole[index, 0].cpu().numpy())
                filled[index] = fill.to(images.device, images.dtype)[0]
        return torch.where(hole, filled, images)

    def _fill(self, image: Tensor, hole: np.ndarray) -> Tensor:
        """``image`` (1, 3, H, W) in [-1, 1], ``hole`` (H, W) bool -> (1, 3, H, W)."""
        raise NotImplementedError


class OpenCVInpainter(_PerImageInpainter):
    def __init__(self, flag: int, options: OpenCVOptions):
        self.flag = flag
        self.radius = options.radius

    def _fill(self, image: Tensor, hole: np.ndarray) -> Tensor:
        import cv2

        pixels = np.ascontiguousarray(to_uint8(image)[0])  # (H, W, 3) RGB; cv2 is indifferent
        repaired = cv2.inpaint(pixels, hole.astype(np.uint8), self.radius, self.flag)
        return to_tensor(repaired)


class BiharmonicInpainter(_PerImageInpainter):
    def _fill(self, image: Tensor, hole: np.ndarray) -> Tensor:
        from skimage.restoration import inpaint_biharmonic

        pixels = image[0].detach().cpu().double().permute(1, 2, 0).numpy()  # (H, W, 3)
        repaired = inpaint_biharmonic(pixels, hole, channel_axis=-1)
        return torch.from_numpy(repaired).permute(2, 0, 1)[None].float().clamp(-1.0, 1.0)


def _telea(options: OpenCVOptions) -> OpenCVInpainter:
    import cv2

    return OpenCVInpainter(cv2.INPAINT_TELEA, options)


def _navier_stokes(options: OpenCVOptions) -> OpenCVInpainter:
    import cv2

    return OpenCVInpainter(cv2.INPAINT_NS, options)


def _biharmonic(options: NoOptions) -> BiharmonicInpainter:
    return BiharmonicInpainter()


@hookimpl
def inpaint_inpainters() -> list[PluginSpec]:
    return [
        PluginSpec("telea", _telea, OpenCVOptions, "fast-marching fill (Telea 2004), OpenCV"),
        PluginSpec(
            "ns", _navier_stokes, OpenCVOptions, "Navier-Stokes fill (Bertalmio 2001), OpenCV"
        ),
        PluginSpec("biharmonic", _biharmonic, NoOptions, "smooth biharmonic fill, scikit-image"),
    ]
