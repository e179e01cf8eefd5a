"""The seed paper's whole method as an ``inpainter``: z-search in a GAN, then blending."""

from __future__ import annotations

from inpaint_toolkit.core.specs import PluginSpec, hookimpl
from inpaint_toolkit.inpainting.inpaint import ZSearchInpainter, ZSearchOptions


@hookimpl
def inpaint_inpainters() -> list[PluginSpec]:
    return [
        PluginSpec(
            "dcgan",
            ZSearchInpainter,
            ZSearchOptions,
            "semantic inpainting (Yeh et al. 2017): z-search in the DCGAN, Poisson blending",
        )
    ]
