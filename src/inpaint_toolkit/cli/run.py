"""``inpaint-toolkit run``: repair damaged faces (with no argument: a demo face)."""

from __future__ import annotations

import argparse
import os


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run",
        help="inpaint images by searching the generator's latent space (the main job)",
        description="Semantic inpainting: find z whose G(z) matches the known pixels and "
        "looks real to D, then blend it into the hole. With no input, repairs a demo face.",
    )
    parser.add_argument(
        "input",
        nargs="*",
        help="photographs, face crops, folders or .npz files; photographs are repaired at "
        "their own size (faces found and aligned)",
    )
    parser.add_argument("--config", help="TOML file with any of these settings")
    parser.add_argument("--out", help="results folder (default: inpaint-results/<date-time>)")
    parser.add_argument("--generator", help="generator plugin (dcgan)")
    parser.add_argument("--checkpoint", help="model checkpoint (default: the packaged model)")
    parser.add_argument("--loss", help="loss expression (weighted_l1+prior)")
    parser.add_argument("--lambda", dest="prior_weight", type=float, help="prior weight (0.003)")
    parser.add_argument("--mask", help="mask or damage plugin, e.g. center, half[side=top], text")
    parser.add_argument(
        "--mask-file", help="a mask image, white = missing (for a photograph: at its size)"
    )
    parser.add_argument(
        "--no-align",
        dest="align",
        action="store_false",
        default=None,
        help="treat every input as a face crop: centre-crop and resize (no face finding)",
    )
    parser.add_argument("--face", type=int, help="repair only face N of a photo (0: largest)")
    parser.add_argument(
        "--preset",
        choices=["paper"],
        help="paper: the seed paper's method exactly (random starts, 1500 iterations, 8 "
        "restarts, no adaptation, Poisson blending); other flags still apply on top",
    )
    parser.add_argument("--init", help="where the search starts: encoder or random")
    parser.add_argument("--adapt", help="after the search: adapt[steps=N,lr=X] or none")
    parser.add_argument("--optimizer", help="z optimiser plugin, e.g. adam or nesterov[lr=0.5]")
    parser.add_argument("--lr", type=float, help="the z optimiser's learning rate")
    parser.add_argument("--iterations", type=int, help="z-search steps (1500)")
    parser.add_argument("--restarts", type=int, help="random starting codes per image (8)")
    parser.add_argument("--samples", type=int, help="distinct fills to keep per image (1)")
    parser.add_argument("--blend", choices=["poisson", "overlay"])
    parser.add_argument(
        "--detail", type=float, help="gain on the fill's finest band (1.0; 0: as generated)"
    )
    parser.add_argument("--patience", type=int, help="early stop after N steps without gain")
    parser.add_argument("--precision", choices=["auto", "fp32", "bf16"])
    parser.add_argument("--device", help="auto, cpu or cuda")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--batch-size", type=int, dest="batch_size")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from inpaint_toolkit.core.config import load_config
    from inpaint_toolkit.core.errors import InpaintError
    from inpaint_toolkit.core.expressions import parse_choice
    from inpaint_toolkit.inpainting.config import RunConfig
    from inpaint_toolkit.inpainting.runner import run

    keys = (
        "preset",
        "init",
        "adapt",
        "out",
        "generator",
        "checkpoint",
        "loss",
        "prior_weight",
        "mask",
        "optimizer",
        "iterations",
        "restarts",
        "samples",
        "blend",
        "detail",
        "patience",
        "precision",
        "device",
        "seed",
        "batch_size",
        "align",
        "face",
    )
    overrides = {key: getattr(args, key) for key in keys}
    overrides["input"] = args.input or None
    if args.mask_file:
        if args.mask:
            raise InpaintError("give --mask or --mask-file, not both")
        overrides["mask"] = f"file[path={args.mask_file}]"
    if args.lr is not None:
        choice = parse_choice(args.optimizer or "adam")
        options = ",".join(f"{k}={v}" for k, v in {**choice.options, "lr": args.lr}.items())
        overrides["optimizer"] = f"{choice.name}[{options}]"
    config = load_config(RunConfig, args.config, overrides)
    out = run(config, progress=not args.quiet)
    if os.environ.get("RANK", "0") == "0":  # under torchrun, one report, not one per process
        print(f"results written to {out}/")
    return 0
