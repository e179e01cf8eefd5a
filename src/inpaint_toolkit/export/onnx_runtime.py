"""Render faces from an exported generator with onnxruntime: no torch model needed.

:class:`OnnxGenerator` has the shape of the :class:`~inpaint_toolkit.core.interfaces.Generator`
protocol (``z_dim``, ``image_size``, ``z_range``, ``__call__``, ``sample_z``), read from the
file's metadata, so code that only renders (sample grids, showing a found ``z``) takes
either. It has no gradients, so the z-search needs the torch generator.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from inpaint_toolkit.core import runtime
from inpaint_toolkit.core.errors import InpaintError
from inpaint_toolkit.core.files import regular_file
from inpaint_toolkit.export.onnx_export import INPUT_NAME, ONNX_FORMAT, OUTPUT_NAME

CPU_PROVIDER = "CPUExecutionProvider"
CUDA_PROVIDER = "CUDAExecutionProvider"


class OnnxGenerator:
    """An exported generator in an onnxruntime session.

    ``device``: ``auto`` takes CUDA where torch sees a GPU and this onnxruntime build has
    the CUDA provider, else the CPU; ``cpu``; or ``cuda[:N]``, an error if CUDA cannot be
    used. ``provider`` is the execution provider that was actually taken (onnxruntime
    falls back to the CPU quietly when the CUDA libraries fail to load). ``threads``: CPU
    threads of one run (default: onnxruntime's, one per physical core).
    """

    def __init__(self, path: str | Path, device: str = "auto", *, threads: int | None = None):
        import onnxruntime as ort

        self.path = regular_file(path, str(path), noun="ONNX file")
        wanted = runtime.resolve_device(device)  # 'cuda' without a GPU is an error here
        providers: list[Any] = [CPU_PROVIDER]
        if wanted.type == "cuda" and CUDA_PROVIDER in ort.get_available_providers():
            providers.insert(0, (CUDA_PROVIDER, {"device_id": wanted.index or 0}))
        options = ort.SessionOptions()
        options.log_severity_level = 3  # errors only; a CPU fallback shows in .provider
        if threads is not None:
            options.intra_op_num_threads = threads
        self.session = _open_session(ort, self.path, options, providers)
        self.provider: str = self.session.get_providers()[0]
        if device != "auto" and wanted.type == "cuda" and self.provider != CUDA_PROVIDER:
            raise InpaintError(
                f"device {device!r} asked for, but onnxruntime cannot use CUDA here (no CUDA "
                "provider in this build, or its CUDA/cuDNN libraries failed to load)"
            )
        self.metadata = read_onnx_metadata(self.path, self.session)
        self.z_dim: int = int(self.metadata["z_dim"])
        self.image_size: int = int(self.metadata["image_size"])
        low, high = self.metadata["z_range"]
        self.z_range: tuple[float, float] = (float(low), float(high))

    def __call__(self, z: Tensor | np.ndarray) -> Tensor:
        """``(B, z_dim)`` codes -> ``(B, 3, H, W)`` fp32 images in [-1, 1].

        A tensor's result comes back on that tensor's device; an array's on the CPU.
        """
        device = torch.device("cpu")
        if isinstance(z, Tensor):
            if z.requires_grad:
                raise InpaintError(
                    "the ONNX generator only renders (no gradients); run the z-search with "
                    "the torch generator (--checkpoint)"
                )
            device = z.device
            z = z.detach().to("cpu", torch.float32).numpy()
        codes = np.ascontiguousarray(z, dtype=np.float32)
        if codes.ndim != 2 or codes.shape[1] != self.z_dim:
            raise InpaintError(f"z must be (batch, {self.z_dim}), got {tuple(codes.shape)}")
        (images,) = self.session.run([OUTPUT_NAME], {INPUT_NAME: codes})
        return torch.from_numpy(images).to(device)

    def sample_z(
        self, n: int, *, generator: torch.Generator | None = None, device: Any = None
    ) -> Tensor:
        """Codes uniform in ``z_range``, drawn as the torch generator draws them (same
        seed, same codes: on the CPU, then moved)."""
        low, high = self.z_range
        z = torch.rand(n, self.z_dim, generator=generator, device="cpu")
        return (z * (high - low) + low).to(device or "cpu")

    def __repr__(self) -> str:
        name = self.metadata.get("generator", {}).get("name", "?")
        return f"OnnxGenerator({str(self.path)!r}, generator={name!r}, provider={self.provider!r})"


def read_onnx_metadata(path: str | Path, session: Any = None) -> dict[str, Any]:
    """The decoded ``metadata_props`` of an exported generator; an error if not ours."""
    if session is None:
        import onnxruntime as ort

        session = _open_session(ort, Path(path), ort.SessionOptions(), [CPU_PROVIDER])
    raw = session.get_modelmeta().custom_metadata_map
    try:
        metadata = {key: json.loads(value) for key, value in raw.items()}
    except json.JSONDecodeError:
        metadata = {}
    if metadata.get("format") != ONNX_FORMAT or not {"z_dim", "image_size", "z_range"} <= set(
        metadata
    ):
        raise InpaintError(
            f"{path}: an ONNX model, but not a generator exported by inpaint-toolkit "
            "(no z_dim/z_range metadata); make one with 'inpaint-toolkit export'"
        )
    return metadata


def _open_session(ort: Any, path: Path, options: Any, providers: list[Any]) -> Any:
    from onnxruntime.capi import onnxruntime_pybind11_state as errors

    unreadable = (
        errors.InvalidProtobuf,
        errors.InvalidGraph,
        errors.NoSuchFile,
        errors.NotImplemented,
        errors.Fail,
    )
    try:
        return ort.InferenceSession(str(path), sess_options=options, providers=providers)
    except unreadable as exc:
        reason = str(exc).split(" : ")[-1].splitlines()[0]
        raise InpaintError(f"{path}: not a readable ONNX model ({reason})") from None
