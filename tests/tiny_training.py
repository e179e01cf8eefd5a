"""Tiny, deterministic training runs shared by the training tests and the model plugins'.

Everything runs in fp32 on the CPU, where the loop is deterministic, so "resume is exact"
can be checked with ``torch.equal`` on every tensor of the checkpoint.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from inpaint_toolkit.core.checkpoint import read_checkpoint
from inpaint_toolkit.training import CHECKPOINT_NAME
from inpaint_toolkit.training.config import TrainConfig

TINY_DCGAN_G = {"name": "dcgan", "options": {"widths": [32, 16, 8], "z_dim": 16}}
TINY_DCGAN_D = {"name": "dcgan", "options": {"widths": [8, 16, 32], "z_dim": 16}}


def write_smooth_faces(path: Path, count: int) -> Path:
    """``count`` smooth random 32x32 'faces' in the shared data's .npz format."""
    rng = np.random.default_rng(0)
    blocks = rng.integers(0, 256, size=(count, 4, 4, 3), dtype=np.uint8)
    np.savez(path, images=blocks.repeat(8, axis=1).repeat(8, axis=2))
    return path


def tiny_config(
    data: Path,
    out: Path,
    *,
    generator: dict[str, Any] = TINY_DCGAN_G,
    discriminator: dict[str, Any] = TINY_DCGAN_D,
    **changes: Any,
) -> TrainConfig:
    settings = {
        "data": [str(data)],
        "out": out,
        "epochs": 1,
        "batch_size": 8,
        "image_size": 32,
        "generator": generator,
        "discriminator": discriminator,
        "precision": "fp32",
        "device": "cpu",
        # Every part of the recipe, so that resuming is shown exact with each of them.
        "augment": "color,translation,cutout",
        **changes,
    }
    return TrainConfig(**settings)


def metrics(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


def deterministic(records: list[dict]) -> list[dict]:
    """The metrics without the throughput, which is timing and never repeats."""
    return [{k: v for k, v in r.items() if k != "images_per_s"} for r in records]


def assert_same_training_state(expected: Path, actual: Path) -> None:
    """Every model, optimiser and RNG tensor equal, bit for bit, and the same step."""
    want, want_meta = read_checkpoint(expected / CHECKPOINT_NAME)
    got, got_meta = read_checkpoint(actual / CHECKPOINT_NAME)
    for prefix in ("generator.", "discriminator.", "optimizer_g.", "optimizer_d.", "rng."):
        assert any(key.startswith(prefix) for key in want), f"no {prefix} tensors saved"
    assert sorted(got) == sorted(want)
    differing = [key for key in want if not torch.equal(want[key], got[key])]
    assert not differing, f"{len(differing)} tensors differ, e.g. {differing[:5]}"
    for key in ("step", "optimizer_g", "optimizer_d", "generator", "discriminator"):
        assert got_meta[key] == want_meta[key], key
