"""``inpaint-toolkit serve``: a local web page to paint the damage and see the repairs."""

from __future__ import annotations

import argparse
import ipaddress

LOOPBACK_NAMES = ("localhost",)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="a local web page: open a photo, paint the damage, see the repairs",
        description="Start a web server for the repair page and its JSON API (docs/serve.md). "
        "It binds to 127.0.0.1, so only this machine can reach it.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (8000)")
    parser.add_argument("--checkpoint", help="model checkpoint (default: the packaged model)")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument("--iterations", type=int, help="default z-search steps on the page (10)")
    parser.add_argument("--restarts", type=int, help="default starting codes per face (6)")
    parser.add_argument("--samples", type=int, help="default versions shown (3)")
    parser.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="another name the page may be opened by (repeatable; for --host 0.0.0.0)",
    )
    parser.set_defaults(handler=handle)


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def handle(args: argparse.Namespace) -> int:
    from inpaint_toolkit.core.notices import warning
    from inpaint_toolkit.serve.app import create_app
    from inpaint_toolkit.serve.server import run_server

    defaults = {
        key: getattr(args, key)
        for key in ("iterations", "restarts", "samples")
        if getattr(args, key) is not None
    }
    if not is_loopback(args.host):
        warning(
            f"binding to {args.host}: other machines on the network can open the page and use "
            "this computer's processor; there is no login. Bind to 127.0.0.1 unless you mean it"
        )
    app = create_app(
        args.checkpoint,
        defaults=defaults,
        device=args.device,
        host=args.host,
        port=args.port,
        allow_hosts=args.allow_host,
    )
    shown = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    print(f"open http://{shown}:{args.port}/ (Ctrl+C stops the server)", flush=True)
    run_server(app, args.host, args.port)
    return 0
