"""The checkpoint file format: safetensors tensors plus JSON metadata.

Loading a model by the plugin name its metadata gives is an application of this, in
``inpaint_toolkit.models`` (it needs the registry); this module needs nothing but torch.

Tensors are stored under prefixes (``generator.``, ``discriminator.``, ``optimizer_g.``,
...) and everything else as JSON in the file's string metadata, so a checkpoint is one
self-describing file that loads without pickle. Which architecture it holds is in the
metadata (``generator`` / ``discriminator``: plugin name and options), so the loader
builds the right model and a mismatch is a one-line error rather than a wall of keys.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, safe_open, save_file
from torch import Tensor, nn

from inpaint_toolkit.core.errors import InpaintError
from inpaint_toolkit.core.files import regular_file
from inpaint_toolkit.core.images import atomic_write

FORMAT = "inpaint-toolkit/1"


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
    path = regular_file(path, str(path), noun="checkpoint")
    try:
        with safe_open(str(path), framework="pt") as handle:
            raw = handle.metadata() or {}
        tensors = load_file(str(path))
    except Exception as exc:  # SafetensorError and whatever else a forged header gives
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise InpaintError(f"{path}: not a safetensors checkpoint ({reason})") from None
    if raw.get("format") != json.dumps(FORMAT):
        raise InpaintError(f"{path}: not an inpaint-toolkit checkpoint (no '{FORMAT}' metadata)")
    metadata = {}
    for key, value in raw.items():
        try:
            metadata[key] = json.loads(value)
        except (ValueError, RecursionError):
            raise InpaintError(f"{path}: its metadata {key!r} is not JSON") from None
    return tensors, metadata


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
    check_state(module, state, what)
    expected = module.state_dict()
    with torch.no_grad():
        module.load_state_dict({k: v.to(expected[k].dtype) for k, v in state.items()})


def check_state(module: nn.Module, state: Mapping[str, Tensor], what: str) -> None:
    """A one-line error unless ``state`` fits ``module``: the same keys and shapes, numbers
    of the same kind (a float for a float, half precision too), and no NaN or infinity.

    ``module`` may live on the meta device: then nothing is allocated to check it.
    """
    expected = module.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    wrong_shape = [
        f"{k} {tuple(state[k].shape)} vs {tuple(v.shape)}"
        for k, v in expected.items()
        if k in state and state[k].shape != v.shape
    ]
    wrong_dtype = [
        f"{k} {state[k].dtype} vs {v.dtype}".replace("torch.", "")
        for k, v in expected.items()
        if k in state and _number_kind(state[k]) != _number_kind(v)
    ]
    not_finite = [  # as loaded: 1e300 in a float64 file is infinite in a float32 model
        k
        for k, v in state.items()
        if k in expected
        and _number_kind(v) == _number_kind(expected[k]) == "float"
        and not torch.isfinite(v.to(expected[k].dtype)).all()
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
    if wrong_dtype:
        problems.append(f"type of {', '.join(wrong_dtype[:3])} (checkpoint vs model)")
    if problems:
        raise InpaintError(f"{what} does not fit the model: {'; '.join(problems)}")
    if not_finite:
        more = f" and {len(not_finite) - 3} more" if len(not_finite) > 3 else ""
        raise InpaintError(
            f"{what} holds NaN or infinite weights: {', '.join(not_finite[:3])}{more}"
        )


def _number_kind(tensor: Tensor) -> str:
    """float (any precision: half-precision files are fine), complex, bool or integer."""
    if tensor.is_floating_point():
        return "float"
    if tensor.is_complex():
        return "complex"
    return "bool" if tensor.dtype == torch.bool else "integer"
