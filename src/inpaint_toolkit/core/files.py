"""Only regular files are read from the user.

A named pipe blocks its reader until something writes to it (a hang), a device such as
``/dev/zero`` never ends, and a socket cannot be opened at all. Each is refused in one
line before anything opens it; a symbolic link to a regular file is fine.
"""

from __future__ import annotations

import stat
from pathlib import Path

from inpaint_toolkit.core.errors import InpaintError

_KINDS = (
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def regular_file(path: str | Path, what: str, *, noun: str = "file") -> Path:
    """``path``, if it names a regular file; else a one-line error starting with ``what``
    (``noun`` says what was looked for: ``{what}: no such checkpoint``)."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise InpaintError(f"{what}: no such {noun}") from None
    except ValueError:  # a NUL in the name
        raise InpaintError(f"{what}: not a valid file name") from None
    except OSError as exc:  # a name too long, a folder on the way that may not be entered
        raise InpaintError(f"{what}: cannot be read ({exc.strerror or exc})") from None
    if stat.S_ISDIR(mode):
        raise InpaintError(f"{what}: is a folder, not a {noun}")
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in _KINDS if test(mode)), "a special file")
        raise InpaintError(f"{what}: is {kind}, not a regular file")
    return path
