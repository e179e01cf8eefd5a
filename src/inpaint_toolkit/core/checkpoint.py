"""Checkpoints in safetensors: the models, and for training runs the optimisers and RNGs.

Tensors are stored under prefixes (``generator.``, ``discriminator.``, ``optimizer_g.``,
...) and everything else as JSON in the file's string metadata, so a checkpoint is one
self-describing file that loads without pickle. Which architecture it holds is in the
metadata (``generator`` / ``discriminator``: plugin name and options), so the loader
builds the right model and a mismatch is a one-line error rather than a wall of keys.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file
from torch import Tensor, nn

from inpaint_toolkit.core.images import atomic_write
from inpaint_toolkit.errors import InpaintError

FORMAT = "inpaint-toolkit/1"
DEFAULT_MODEL_FILE = "dcgan_faces_64.safetensors"


def default_model_path() -> Path:
    """The face model that ships inside the package."""
    return Path(str(resources.files("inpaint_toolkit") / "models" / DEFAULT_MODEL_FILE))


def save_checkpoint(
    path: str | Path, tensors: Mapping[str, Tensor], metadata: Mapping[str, Any]
) -> None:
    """Write ``tensors`` and JSON ``metadata`` atomically (never a half-written file)."""
    flat = {key: t.detach().contiguous().cpu() for key, t in tensors.items()}
    text = {key: json.dumps(value) for key, value in metadata.items()}
    text["format"] = json.dumps(FORMAT)
    atomic_write(path, lambda tmp: save_file(flat, tmp, metadata=text))


def read_checkpoint(path: str | Path) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """Tensors and decoded metadata; a one-line error if it is not one of ours."""
    path = Path(path)
    if not path.is_file():
        raise InpaintError(f"{path}: no such checkpoint")
    try:
        with safe_open(str(path), framework="pt") as handle:
            raw = handle.metadata() or {}
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise InpaintError(f"{path}: not a safetensors checkpoint ({exc})") from None
    if raw.get("format") != json.dumps(FORMAT):
        raise InpaintError(f"{path}: not an inpaint-toolkit checkpoint (no '{FORMAT}' metadata)")
    return tensors, {key: json.loads(value) for key, value in raw.items()}


def prefixed(prefix: str, state: Mapping[str, Tensor]) -> dict[str, Tensor]:
    return {f"{prefix}.{key}": value for key, value in state.items()}


def unprefixed(prefix: str, tensors: Mapping[str, Tensor]) -> dict[str, Tensor]:
    start = len(prefix) + 1
    return {key[start:]: value for key, value in tensors.items() if key.startswith(prefix + ".")}


def model_record(name: str, module: nn.Module) -> dict[str, Any]:
    """What the metadata says of a model: its plugin name and its options."""
    options = getattr(module, "options", None)
    return {"name": name, "options": options.model_dump(mode="json") if options else {}}


def load_state_strict(module: nn.Module, state: Mapping[str, Tensor], what: str) -> None:
    """``load_state_dict`` whose failure is one line naming the first mismatches."""
    expected = module.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    wrong_shape = [
        f"{k} {tuple(state[k].shape)} vs {tuple(v.shape)}"
        for k, v in expected.items()
        if k in state and state[k].shape != v.shape
    ]
    problems = []
    if missing:
        problems.append(f"missing {', '.join(missing[:3])}{' ...' if len(missing) > 3 else ''}")
    if unexpected:
        problems.append(
            f"unexpected {', '.join(unexpected[:3])}" + (" ..." * (len(unexpected) > 3))
        )
    if wrong_shape:
        problems.append(f"shape of {', '.join(wrong_shape[:3])} (checkpoint vs model)")
    if problems:
        raise InpaintError(f"{what} does not fit the model: {'; '.join(problems)}")
    with torch.no_grad():
        module.load_state_dict({k: v.to(expected[k].dtype) for k, v in state.items()})


def load_models(
    path: str | Path | None = None,
    *,
    generator: str | None = None,
    need_discriminator: bool = True,
    device: str | torch.device = "cpu",
) -> tuple[nn.Module, nn.Module | None, dict[str, Any]]:
    """Build and load the generator (and discriminator) a checkpoint describes.

    ``path=None`` means the packaged default model. ``generator``, if given, must match the
    checkpoint's generator plugin. Models come back in eval mode (batch norm uses its
    running statistics, so one image's result never depends on its batch-mates).
    """
    from inpaint_toolkit.registry import get_registry

    path = Path(path) if path is not None else default_model_path()
    if not path.is_file() and path == default_model_path():
        raise InpaintError(
            "the packaged default model is missing; train one with 'inpaint-toolkit train' "
            "and pass --checkpoint"
        )
    tensors, metadata = read_checkpoint(path)
    registry = get_registry()
    record = metadata.get("generator")
    if not record:
        raise InpaintError(f"{path}: holds no generator")
    if generator is not None and generator != record["name"]:
        raise InpaintError(
            f"{path}: holds a {record['name']!r} generator, not {generator!r}; "
            "pass a checkpoint of that architecture"
        )
    g = registry.build("generator", record["name"], record["options"])
    load_state_strict(g, unprefixed("generator", tensors), f"{path} (generator {record['name']!r})")
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


if __name__ == "__main__":
    import sys

    print(package_models(sys.argv[1], sys.argv[2]))
