"""The packaged face models, and loading or packaging any model file.

A model file is a checkpoint (``core/checkpoint.py``) whose metadata names the generator
and discriminator plugins and their options; ``load_models`` builds them by name from the
registry and loads the weights, so a wrong architecture is a one-line error.
``python -m inpaint_toolkit.models SOURCE TARGET`` slims a training checkpoint for shipping.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import torch
from torch import nn

from inpaint_toolkit.core.checkpoint import (
    load_state_strict,
    prefixed,
    read_checkpoint,
    save_checkpoint,
    unprefixed,
)
from inpaint_toolkit.core.errors import InpaintError
from inpaint_toolkit.registry import Registry, get_registry

DEFAULT_MODEL_FILE = "dcgan_faces_64.safetensors"


def default_model_path() -> Path:
    """The face model that ships inside the package."""
    return Path(str(resources.files("inpaint_toolkit") / "models" / DEFAULT_MODEL_FILE))


def load_models(
    path: str | Path | None = None,
    *,
    generator: str | None = None,
    need_discriminator: bool = True,
    device: str | torch.device = "cpu",
    registry: Registry | None = None,
) -> tuple[nn.Module, nn.Module | None, dict[str, Any]]:
    """Build and load the generator (and discriminator) a checkpoint describes.

    ``path=None`` means the packaged default model. ``generator``, if given, must match the
    checkpoint's generator plugin. Models come back in eval mode (batch norm uses its
    running statistics, so one image's result never depends on its batch-mates).
    """
    path = Path(path) if path is not None else default_model_path()
    if not path.is_file() and path == default_model_path():
        raise InpaintError(
            "the packaged default model is missing; train one with 'inpaint-toolkit train' "
            "and pass --checkpoint"
        )
    tensors, metadata = read_checkpoint(path)
    registry = registry or get_registry()
    record = metadata.get("generator")
    if not record:
        raise InpaintError(f"{path}: holds no generator")
    if generator is not None and generator != record["name"]:
        raise InpaintError(
            f"{path}: holds a {record['name']!r} generator, not {generator!r}; "
            "pass a checkpoint of that architecture"
        )
    g = registry.build("generator", record["name"], record["options"])
    # A training checkpoint's weight average is the generator that run is meant to give.
    weights = unprefixed("generator_ema", tensors) or unprefixed("generator", tensors)
    load_state_strict(g, weights, f"{path} (generator {record['name']!r})")
    d = None
    if need_discriminator:
        d_record = metadata.get("discriminator")
        if not d_record or not any(k.startswith("discriminator.") for k in tensors):
            raise InpaintError(f"{path}: holds no discriminator, which the prior loss needs")
        d = registry.build("discriminator", d_record["name"], d_record["options"])
        load_state_strict(
            d, unprefixed("discriminator", tensors), f"{path} (discriminator {d_record['name']!r})"
        )
        d = d.to(device).eval()
    return g.to(device).eval(), d, metadata


def package_models(
    source: str | Path,
    target: str | Path,
    *,
    dtype: torch.dtype = torch.float16,
    notes: Mapping[str, Any] | None = None,
) -> Path:
    """A training checkpoint slimmed for shipping: G and D only, floats in ``dtype`` (half
    by default: a quarter of the size), metadata and training provenance kept.

    ``python -m inpaint_toolkit.core.checkpoint SOURCE TARGET`` does this from a shell.
    """
    tensors, metadata = read_checkpoint(source)
    if any(key.startswith("generator_ema.") for key in tensors):  # ship the average
        tensors = {
            **{k: v for k, v in tensors.items() if not k.startswith("generator.")},
            **prefixed("generator", unprefixed("generator_ema", tensors)),
        }
    kept = {
        key: value.to(dtype) if value.is_floating_point() else value
        for key, value in tensors.items()
        if key.startswith(("generator.", "discriminator."))
    }
    config = metadata.get("train_config", {})
    provenance = {
        "step": metadata.get("step"),
        "epoch": metadata.get("epoch"),
        "data": [Path(p).name for p in config.get("data", [])],
        "batch_size": config.get("batch_size"),
        "lr": config.get("lr"),
        "seed": config.get("seed"),
        **dict(notes or {}),
    }
    save_checkpoint(
        target,
        kept,
        {
            "generator": metadata["generator"],
            "discriminator": metadata["discriminator"],
            "step": metadata.get("step"),
            "provenance": provenance,
        },
    )
    return Path(target)
