"""A plugin with a misspelt hook name (inpaint_mask, not inpaint_masks)."""

from inpaint_toolkit.registry import hookimpl


@hookimpl
def inpaint_mask():
    return []
