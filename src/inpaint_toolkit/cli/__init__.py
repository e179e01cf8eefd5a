"""The ``inpaint-toolkit`` command line: one module per subcommand.

Each subcommand module has ``add_parser(subparsers)``, which sets ``handler`` on its
parser. Heavy imports happen inside handlers so that ``--help`` is instant. A user error
(:class:`InpaintError`) becomes one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from inpaint_toolkit import __version__
from inpaint_toolkit.core.errors import InpaintError

SUBCOMMANDS = ("run", "train", "train-encoder", "plugins", "export", "sample", "eval", "serve")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="inpaint-toolkit",
        description="Semantic image inpainting with deep generative models (Yeh et al. 2017).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--block",
        action="append",
        default=[],
        metavar="PLUGIN",
        help="do not load this plugin (repeatable; also $INPAINT_TOOLKIT_BLOCK=a,b)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in SUBCOMMANDS:
        importlib.import_module(f"inpaint_toolkit.cli.{name.replace('-', '_')}").add_parser(
            subparsers
        )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.block:
        from inpaint_toolkit.registry.manager import BLOCK_ENV_VAR, get_registry

        blocked = [b for b in os.environ.get(BLOCK_ENV_VAR, "").split(",") if b] + args.block
        os.environ[BLOCK_ENV_VAR] = ",".join(blocked)
        get_registry.cache_clear()
    try:
        return int(args.handler(args) or 0)
    except InpaintError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
