"""Built-in plugins. Each is registered exactly as a third-party plugin would be."""

BUILTIN_PLUGINS: tuple[str, ...] = (
    "inpaint_toolkit.plugins.dcgan",
    "inpaint_toolkit.plugins.progressive",
    "inpaint_toolkit.plugins.context_losses",
    "inpaint_toolkit.plugins.prior",
    "inpaint_toolkit.plugins.optimizers",
    "inpaint_toolkit.plugins.initializers",
    "inpaint_toolkit.plugins.adaptation",
    "inpaint_toolkit.plugins.zsearch",
    "inpaint_toolkit.plugins.masks",
    "inpaint_toolkit.plugins.damages",
    "inpaint_toolkit.plugins.classical",
)
