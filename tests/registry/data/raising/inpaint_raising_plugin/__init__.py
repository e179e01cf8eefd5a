"""A plugin whose masks hook works but whose losses hook raises, as a half-finished one."""

import torch

from inpaint_toolkit.core.interfaces import Damaged
from inpaint_toolkit.core.specs import PluginSpec
from inpaint_toolkit.registry import hookimpl


class Stripes:
    def __init__(self, options):
        pass

    def __call__(self, images, generator):
        known = torch.ones(images.shape[0], 1, *images.shape[-2:])
        known[..., ::2, :] = 0
        return Damaged(images * known, known)


@hookimpl
def inpaint_masks():
    return [PluginSpec("stripes", Stripes, description="every other row missing")]


@hookimpl
def inpaint_losses():
    raise RuntimeError("the losses are not written yet")
