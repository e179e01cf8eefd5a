"""Notices: one-line messages about something the toolkit did on the user's behalf
(resized an image, copied an undamaged input, ...). Not errors; printed to stderr."""

from __future__ import annotations

import sys


def notice(message: str) -> None:
    print(f"note: {message}", file=sys.stderr)


def warning(message: str) -> None:
    """Something is wrong but the toolkit carries on without it (a broken plugin, say)."""
    print(f"warning: {message}", file=sys.stderr)
