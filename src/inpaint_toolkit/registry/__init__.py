"""The plugin registry: hook specifications, the plugin manager and the name -> spec map."""

from inpaint_toolkit.registry.hookspecs import hookimpl
from inpaint_toolkit.registry.manager import (
    BrokenPlugin,
    Registered,
    Registry,
    create_plugin_manager,
    get_registry,
)

__all__ = [
    "BrokenPlugin",
    "Registered",
    "Registry",
    "create_plugin_manager",
    "get_registry",
    "hookimpl",
]
