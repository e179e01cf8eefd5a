"""``inpaint-toolkit export``: the generator as a verified ONNX file (dynamic batch axis)."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export",
        help="export the generator to ONNX and check it against torch",
        description=(
            "Export a checkpoint's generator to ONNX (fp32, dynamic batch axis, metadata "
            "with z_dim, z_range, image size and training provenance), then run it in "
            "onnxruntime at batch 1 and 5 against torch; a difference above 1e-4 is an "
            "error and writes nothing."
        ),
    )
    parser.add_argument(
        "--checkpoint", metavar="PATH", help="safetensors checkpoint (default: the packaged model)"
    )
    parser.add_argument("--out", required=True, metavar="PATH", help="ONNX file to write")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from inpaint_toolkit.export.onnx_export import describe, export_checkpoint

    print(describe(export_checkpoint(args.checkpoint, args.out)))
    return 0
