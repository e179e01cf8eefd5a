"""Built-in plugins. Each is registered exactly as a third-party plugin would be."""

BUILTIN_PLUGINS: tuple[str, ...] = ("inpaint_toolkit.plugins.dcgan",)
