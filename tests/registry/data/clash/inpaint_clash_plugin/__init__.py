"""A second plugin that also provides a mask named 'corner', and one of its own."""

from inpaint_toolkit.core.specs import PluginSpec
from inpaint_toolkit.registry import hookimpl


class Hidden:
    def __init__(self, options):
        pass


@hookimpl
def inpaint_masks():
    return [
        PluginSpec("corner", Hidden, description="another corner"),
        PluginSpec("diagonal", Hidden, description="below the diagonal"),
    ]
