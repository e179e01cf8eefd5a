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
    check_state,
    load_state_strict,
    prefixed,
    read_checkpoint,
    save_checkpoint,
    unprefixed,
)
from inpaint_toolkit.core.errors import InpaintError
from inpaint_toolkit.core.interfaces import GrowingModel
from inpaint_toolkit.core.specs import Kind
from inpaint_toolkit.registry import Registry, get_registry

DEFAULT_MODEL_FILE = "dcgan_faces_64.safetensors"


def packaged_file(name: str) -> Path:
    """A file that ships inside the package, beside this module."""
    return Path(str(resources.files("inpaint_toolkit") / "models" / name))


def default_model_path() -> Path:
    """The face model that ships inside the package."""
    return packaged_file(DEFAULT_MODEL_FILE)


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
    name, options = _model_record(metadata, "generator", path)
    if generator is not None and generator != name:
        raise InpaintError(
            f"{path}: holds a {name!r} generator, not {generator!r}; "
            "pass a checkpoint of that architecture"
        )
    # A training checkpoint's weight average is the generator that run is meant to give.
    weights = unprefixed("generator_ema", tensors) or unprefixed("generator", tensors)
    g = _build_loaded(registry, "generator", name, options, weights, path)
    d = None
    if need_discriminator:
        if not metadata.get("discriminator") or not unprefixed("discriminator", tensors):
            raise InpaintError(f"{path}: holds no discriminator, which the prior loss needs")
        d_name, d_options = _model_record(metadata, "discriminator", path)
        discriminator_weights = unprefixed("discriminator", tensors)
        d = _build_loaded(registry, "discriminator", d_name, d_options, discriminator_weights, path)
        d = d.to(device).eval()
    progress = training_progress(metadata)
    if progress < 1:  # a run stopped mid-growth: the models as far as they had grown
        for model in (g, d):
            if isinstance(model, GrowingModel):
                model.set_training_progress(progress)
    return g.to(device).eval(), d, metadata


def training_progress(metadata: Mapping[str, Any]) -> float:
    """How far through its run a model file was taken, in [0, 1]; 1 for a finished run or
    a file that does not say. A growing model is loaded at that stage: at full size, a
    model stopped mid-growth would render through blocks it has not learnt yet."""
    recorded = metadata.get("training_progress")
    if isinstance(recorded, (int, float)) and 0 <= recorded <= 1:
        return float(recorded)
    epoch = metadata.get("epoch")
    epochs = (metadata.get("train_config") or {}).get("epochs")
    if isinstance(epoch, (int, float)) and isinstance(epochs, int) and epochs > 0:
        return min(1.0, max(0.0, epoch / epochs))
    return 1.0


def _model_record(metadata: Mapping[str, Any], kind: Kind, path: Path) -> tuple[str, dict]:
    """The plugin name and options a checkpoint gives for ``kind``, checked."""
    record = metadata.get(kind)
    if not record:
        raise InpaintError(f"{path}: holds no {kind}")
    if (
        not isinstance(record, dict)
        or not isinstance(record.get("name"), str)
        or not isinstance(record.get("options", {}), dict)
    ):
        raise InpaintError(f"{path}: its {kind} record is not a plugin name with options")
    return record["name"], record.get("options", {})


def _build_loaded(
    registry: Registry,
    kind: Kind,
    name: str,
    options: dict[str, Any],
    state: Mapping[str, torch.Tensor],
    path: Path,
) -> nn.Module:
    """The model the checkpoint describes, with its weights. Built first on the meta
    device, which allocates nothing, so that options forged to ask for a giant model
    fail against the file's tensors before any memory is spent."""
    what = f"{path} ({kind} {name!r})"
    try:
        with torch.device("meta"):
            skeleton = registry.build(kind, name, options)
    except InpaintError as exc:
        raise InpaintError(f"{path}: {exc}") from None
    except Exception:  # a plugin that cannot be built without memory: checked when loaded
        skeleton = None
    if skeleton is not None:
        check_state(skeleton, state, what)
    try:
        module = registry.build(kind, name, options)
    except InpaintError as exc:
        raise InpaintError(f"{path}: {exc}") from None
    except Exception as exc:
        reason = f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
        raise InpaintError(f"{what}: its options do not build the model ({reason})") from None
    load_state_strict(module, state, what)
    return module


def package_models(
    source: str | Path,
    target: str | Path,
    *,
    dtype: torch.dtype = torch.float16,
    notes: Mapping[str, Any] | None = None,
) -> Path:
    """A training checkpoint slimmed for shipping: G and D only, floats in ``dtype`` (half
    by default: a quarter of the size), metadata and training provenance kept.

    ``python -m inpaint_toolkit.models SOURCE TARGET`` does this from a shell.
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
            "training_progress": training_progress(metadata),
            "provenance": provenance,
        },
    )
    return Path(target)
