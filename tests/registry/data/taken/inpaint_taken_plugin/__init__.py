"""A plugin installed under the name of a built-in one ('masks')."""

from inpaint_toolkit.core.specs import PluginSpec
from inpaint_toolkit.registry import hookimpl


@hookimpl
def inpaint_masks():
    return [PluginSpec("dots", object, description="never registered")]
