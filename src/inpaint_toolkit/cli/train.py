"""``inpaint-toolkit train``: train a GAN (the paper's DCGAN by default) on face images."""

from __future__ import annotations

import argparse
import os


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train a generator and discriminator on face images",
        description="Train a GAN. Works as is under torchrun for several processes or GPUs.",
    )
    parser.add_argument(
        "--data",
        nargs="+",
        help="npz files, zip archives of images, image folders, CelebA roots (a source named "
        "twice is drawn twice as often)",
    )
    parser.add_argument("--out", help="run folder (default runs/train)")
    parser.add_argument("--config", help="TOML file with any of these settings")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--batch-size", type=int, dest="batch_size")
    parser.add_argument("--lr", type=float, help="Adam learning rate (2e-4; progressive: 1e-3)")
    parser.add_argument("--lr-g", type=float, dest="lr_g", help="G's own learning rate")
    parser.add_argument("--lr-d", type=float, dest="lr_d", help="D's own learning rate")
    parser.add_argument("--beta1", type=float, help="Adam beta1 (0.5; progressive: 0)")
    parser.add_argument("--beta2", type=float, help="Adam beta2 (0.999; progressive: 0.99)")
    parser.add_argument(
        "--ema",
        type=float,
        help="decay of the average of G's weights (0.999; 0: none; progressive: 0)",
    )
    parser.add_argument(
        "--augment", help="DiffAugment policy for D: none (default) or color,translation,cutout"
    )
    parser.add_argument("--r1", type=float, help="R1 penalty weight on reals (0.01; 0: off)")
    parser.add_argument("--init", metavar="MODEL", help="start from this model's weights")
    parser.add_argument(
        "--eval-data",
        nargs="+",
        dest="eval_data",
        metavar="FACES",
        help="held-out faces: the prior's SWD and judge score are logged every epoch",
    )
    parser.add_argument(
        "--score-every",
        type=int,
        dest="score_every",
        metavar="EPOCHS",
        help="score the prior every this many epochs (1), and at the run's end",
    )
    parser.add_argument("--seed", type=int)
    parser.add_argument("--image-size", type=int, dest="image_size", help="32, 64 or 128")
    parser.add_argument("--generator", help="generator plugin, e.g. dcgan[z_dim=100]")
    parser.add_argument("--discriminator", help="e.g. dcgan[spectral_norm=false]")
    parser.add_argument("--precision", choices=["auto", "fp32", "bf16"])
    parser.add_argument("--device", help="auto, cpu or cuda")
    parser.add_argument("--checkpoint-every", type=int, dest="checkpoint_every", metavar="STEPS")
    parser.add_argument(
        "--time-limit",
        type=float,
        dest="time_limit_minutes",
        metavar="MINUTES",
        help="stop cleanly (with a checkpoint) after this many minutes",
    )
    parser.add_argument("--resume", action="store_true", default=None, help="continue --out's run")
    parser.add_argument("--no-flip", dest="flip", action="store_false", default=None)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from inpaint_toolkit.core.config import load_config
    from inpaint_toolkit.core.expressions import parse_choice
    from inpaint_toolkit.training import train
    from inpaint_toolkit.training.config import TrainConfig

    overrides = {
        key: getattr(args, key)
        for key in (
            "data",
            "out",
            "epochs",
            "batch_size",
            "lr",
            "lr_g",
            "lr_d",
            "beta1",
            "beta2",
            "ema",
            "augment",
            "r1",
            "init",
            "eval_data",
            "score_every",
            "seed",
            "image_size",
            "precision",
            "device",
            "checkpoint_every",
            "time_limit_minutes",
            "resume",
            "flip",
        )
    }
    for kind in ("generator", "discriminator"):
        if getattr(args, kind):
            choice = parse_choice(getattr(args, kind))
            overrides[kind] = {"name": choice.name, "options": choice.options}
    config = load_config(TrainConfig, args.config, overrides)
    result = train(config, progress=not args.quiet)
    if os.environ.get("RANK", "0") == "0":  # under torchrun, one report, not one per process
        state = "finished" if result.finished else "stopped early"
        print(f"{state} at step {result.step}; checkpoint: {result.checkpoint}")
    return 0
