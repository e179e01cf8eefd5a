"""``inpaint-toolkit eval``: compare inpainting methods on held-out faces, mask by mask."""

from __future__ import annotations

import argparse
import os


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "eval",
        help="compare inpainting methods on held-out faces",
        description=(
            "Damage the faces with each mask (the same holes for every method), repair them "
            "with each method and score the repairs: hole L1, PSNR, SSIM, and the faces and "
            "eyes that OpenCV's Haar cascades still find. Writes results.md, results.csv, "
            "results.json and a comparison picture per mask."
        ),
    )
    parser.add_argument("--data", nargs="+", help="npz files or image folders of test faces")
    parser.add_argument(
        "--masks",
        help="mask plugins, e.g. center,half[side=top] "
        "(default: center,half,pixels,pattern,blocks)",
    )
    parser.add_argument(
        "--methods", help="inpainters, e.g. dcgan,telea[radius=5] (default: every registered one)"
    )
    parser.add_argument("--limit", type=int, metavar="N", help="only the first N images")
    parser.add_argument(
        "--skip", type=int, metavar="N", help="leave out the first N images (then --limit)"
    )
    parser.add_argument("--seed", type=int, help="seeds the masks and the methods (0)")
    parser.add_argument("--out", help="folder for the results (default runs/eval)")
    parser.add_argument("--config", help="TOML file with any of these settings")
    parser.add_argument("--batch-size", type=int, dest="batch_size", help="images per call (64)")
    parser.add_argument("--image-size", type=int, dest="image_size", help="resize to this (64)")
    parser.add_argument(
        "--preset", choices=["paper"], help="the seed paper's z-search exactly, for dcgan"
    )
    parser.add_argument("--init", help="z-search initializer (random, encoder), for dcgan")
    parser.add_argument("--adapt", help="adapter after the search (none, adapt), for dcgan")
    parser.add_argument("--iterations", type=int, help="z-search steps, for dcgan")
    parser.add_argument("--restarts", type=int, help="z-search restarts, for dcgan")
    parser.add_argument("--checkpoint", help="model checkpoint, for dcgan")
    parser.add_argument(
        "--no-originals",
        dest="originals",
        action="store_false",
        default=None,
        help="leave ground truth and damaged faces out of the pictures (for publishing)",
    )
    parser.add_argument(
        "--calibrate",
        action="store_true",
        default=None,
        help="add rows of the real faces blurred in the hole, to read sharpness and realism by",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from inpaint_toolkit.core.config import load_config
    from inpaint_toolkit.evaluation.evaluate import EvalSettings, evaluate, markdown

    keys = (
        "data", "masks", "methods", "limit", "skip", "seed", "out", "batch_size", "image_size",
        "preset", "init", "adapt", "iterations", "restarts", "checkpoint", "originals",
        "calibrate",
    )  # fmt: skip
    settings = load_config(EvalSettings, args.config, {key: getattr(args, key) for key in keys})
    result = evaluate(settings, progress=not args.quiet)
    if os.environ.get("RANK", "0") != "0":  # under torchrun, one report, by the first process
        return 0
    if not args.quiet:
        print(markdown(result.rows, result.settings).split("\n## Settings")[0].rstrip())
    print(f"results in {settings.out}: " + ", ".join(path.name for path in result.files))
    return 0
