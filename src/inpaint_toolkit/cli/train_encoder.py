"""``inpaint-toolkit train-encoder``: the learned initialiser for one generator."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train-encoder",
        help="train the encoder that gives the z-search its starting codes (--init encoder)",
        description="Train a network from a damaged face and its mask to the generator's code, "
        "on the generator's own samples and on real training faces, each damaged by the "
        "toolkit's mask plugins. The file records which generator it is for.",
    )
    parser.add_argument("--data", nargs="+", help="training faces (npz, zip, folders)")
    parser.add_argument("--checkpoint", help="the generator's model (default: packaged)")
    parser.add_argument("--out", help="the encoder's run file (runs/encoder.safetensors)")
    parser.add_argument(
        "--init",
        metavar="ENCODER",
        help="start from this encoder's weights, even one made for another generator (e.g. "
        "the packaged encoder, for a generator fine-tuned from the packaged one)",
    )
    parser.add_argument("--config", help="TOML file with any of these settings")
    parser.add_argument("--steps", type=int, help="optimiser steps (3000)")
    parser.add_argument("--batch-size", type=int, dest="batch_size", help="(64)")
    parser.add_argument("--lr", type=float, help="Adam learning rate (1e-3)")
    parser.add_argument("--masks", help="mask plugins to draw from, one per image")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--precision", choices=["auto", "fp32", "bf16"])
    parser.add_argument("--device", help="auto, cpu or cuda")
    parser.add_argument("--resume", action="store_true", default=None, help="continue --out")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from inpaint_toolkit.core.config import load_config
    from inpaint_toolkit.training.encoder import EncoderTrainConfig, train_encoder

    keys = (
        "data", "checkpoint", "out", "init", "steps", "batch_size", "lr", "masks", "seed",
        "precision", "device", "resume",
    )  # fmt: skip
    config = load_config(EncoderTrainConfig, args.config, {k: getattr(args, k) for k in keys})
    print(f"encoder written to {train_encoder(config, progress=not args.quiet)}")
    return 0
