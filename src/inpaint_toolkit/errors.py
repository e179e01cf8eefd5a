"""Kept for this release so that older imports keep working; the home is ``core.errors``."""

from inpaint_toolkit.core.errors import InpaintError

__all__ = ["InpaintError"]
