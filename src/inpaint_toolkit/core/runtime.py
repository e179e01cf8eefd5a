"""Where and how fast to compute: device choice and the mixed-precision fast path.

One place decides this for training, the z-search and the benchmarks. On a CPU with
bf16 support (AVX-512 BF16 / AMX) bf16 autocast with channels_last runs the DCGAN about
3x faster than fp32, so ``auto`` picks it there. On CUDA ``auto`` stays fp32: on an H200
the bf16 path was slower for this small model in every benchmark (training step 0.77x,
z-search 0.73x, G forward 0.61x; docs/performance.md), as cuDNN already runs fp32
convolutions on the tensor cores (TF32). Parameters, optimiser states and the latent codes
stay fp32 throughout, so only the convolutions lose precision.
"""

from __future__ import annotations

import contextlib
from typing import Literal

import torch

from inpaint_toolkit.core.errors import InpaintError


def resolve_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise InpaintError(f"unknown device {name!r}; use auto, cpu or cuda[:N]") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise InpaintError("device 'cuda' asked for, but no CUDA GPU is available")
    return device


def cpu_has_fast_bf16() -> bool:
    """True where the CPU computes bf16 natively (otherwise bf16 is emulated and slower)."""
    checks = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
    return any(getattr(torch.cpu, check, lambda: False)() for check in checks)


def resolve_precision(precision: str, device: torch.device) -> Literal["fp32", "bf16"]:
    if precision == "auto":
        if device.type == "cuda":
            return "fp32"  # measured faster than bf16 on an H200 (see above)
        return "bf16" if cpu_has_fast_bf16() else "fp32"
    if precision not in ("fp32", "bf16"):
        raise InpaintError(f"unknown precision {precision!r}; use auto, fp32 or bf16")
    return precision  # type: ignore[return-value]


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager:
    """The autocast region for ``precision`` ('bf16' or 'fp32', i.e. none)."""
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def memory_format(device: torch.device, precision: str) -> torch.memory_format:
    # channels_last is what oneDNN's and cuDNN's fast bf16 convolutions want.
    return torch.channels_last if precision == "bf16" else torch.contiguous_format


def to_device(tensor: torch.Tensor, device: torch.device | str) -> torch.Tensor:
    """``tensor`` (on the CPU) moved to ``device`` without making the host wait.

    A copy from ordinary CPU memory to a GPU blocks the host until the GPU has finished
    all the work queued before it, so the host stops running ahead; a training step makes
    a dozen such small copies (codes, augmentation draws, the batch). Through page-locked
    memory the copy is queued like a kernel instead. Elsewhere it is a plain ``.to``.
    """
    device = torch.device(device)
    if device.type == "cuda" and tensor.device.type == "cpu":
        try:
            locked = tensor.pin_memory()
        except RuntimeError:  # no page-locked memory to be had (some sandboxes): the plain copy
            return tensor.to(device)
        return locked.to(device, non_blocking=True)
    return tensor.to(device)
