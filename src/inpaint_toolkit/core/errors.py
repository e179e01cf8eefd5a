"""The one exception type that the command line turns into a one-line message."""


class InpaintError(Exception):
    """A problem the user can fix (bad input, unknown plugin, wrong checkpoint).

    The CLI prints ``error: <message>`` and exits with status 2 instead of a traceback,
    so the message must name the problem and, where it can, the way out.
    """
