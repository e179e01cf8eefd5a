"""Every hook of inpaint-toolkit, one per plugin kind.

A plugin is any module or object with functions marked ``@hookimpl`` whose names match
these. Each hook takes no argument and returns a list of :class:`PluginSpec` records; it
must not change any state, so that the registry can be rebuilt at will (in tests, say).

Third-party plugins declare an entry point in the ``inpaint_toolkit`` group::

    [project.entry-points.inpaint_toolkit]
    my_masks = "my_package.masks"
"""

from __future__ import annotations

import pluggy

from inpaint_toolkit.core.specs import PROJECT_NAME, PluginSpec, hookimpl

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
__all__ = ["PROJECT_NAME", "hookimpl", "hookspec"]


@hookspec
def inpaint_generators() -> list[PluginSpec]:
    """Generators: ``factory(options)`` returns an ``nn.Module`` satisfying
    :class:`inpaint_toolkit.core.interfaces.Generator` (z -> images in [-1, 1])."""


@hookspec
def inpaint_discriminators() -> list[PluginSpec]:
    """Discriminators: ``factory(options)`` returns an ``nn.Module`` satisfying
    :class:`inpaint_toolkit.core.interfaces.Discriminator` (images -> one logit each)."""


@hookspec
def inpaint_losses() -> list[PluginSpec]:
    """Terms of the z-search objective: ``factory(options)`` returns a
    :class:`inpaint_toolkit.core.interfaces.Loss` (one value per image)."""


@hookspec
def inpaint_masks() -> list[PluginSpec]:
    """Masks and damages: ``factory(options)`` returns a
    :class:`inpaint_toolkit.core.interfaces.MaskSource`."""


@hookspec
def inpaint_optimizers() -> list[PluginSpec]:
    """Optimisers of the latent code: ``factory(options)`` returns a
    :class:`inpaint_toolkit.core.interfaces.Optimizer`."""


@hookspec
def inpaint_initializers() -> list[PluginSpec]:
    """Starting codes of the z-search: ``factory(options)`` returns an
    :class:`inpaint_toolkit.core.interfaces.Initializer`."""


@hookspec
def inpaint_adapters() -> list[PluginSpec]:
    """What follows the z-search: ``factory(options)`` returns an
    :class:`inpaint_toolkit.core.interfaces.Adapter` (per-image generator fine-tuning)."""


@hookspec
def inpaint_inpainters() -> list[PluginSpec]:
    """Whole inpainting methods compared by ``inpaint-toolkit eval``: ``factory(options)``
    returns a :class:`inpaint_toolkit.core.interfaces.Inpainter`."""
