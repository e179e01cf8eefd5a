"""A plugin that returns names instead of spec records."""

from inpaint_toolkit.registry import hookimpl


@hookimpl
def inpaint_masks():
    return ["center", "dots"]
