"""Export a generator to ONNX, with a dynamic batch axis, and prove the file right.

The graph is ``z (batch, z_dim) -> images (batch, 3, H, W)`` in fp32, traced from the
generator in eval mode (batch norm folded from its running statistics). We use the
``torch.export``-based exporter (``dynamo=True``, the default since torch 2.9) with a named
``dynamic_shapes`` batch dimension; the TorchScript exporter and its ``dynamic_axes`` are
deprecated. What the file needs to be used on its own (z_dim, z_range, image size, the
generator plugin and its options, where the weights came from) goes into the model's
``metadata_props``, every value JSON-encoded, as checkpoints store theirs.

Before the file appears under its name, onnxruntime runs it on random codes at two batch
sizes (so the batch axis is shown to be dynamic) against torch in fp32; a difference
above :data:`PARITY_TOLERANCE` is an error and leaves no file behind.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from inpaint_toolkit.core.errors import InpaintError
from inpaint_toolkit.core.images import atomic_write

ONNX_FORMAT = "inpaint-toolkit-onnx/1"
INPUT_NAME = "z"
OUTPUT_NAME = "images"
PARITY_TOLERANCE = 1e-4
VERIFY_BATCH_SIZES = (1, 5)
EXPORTER = "torch.onnx.export(dynamo=True)"
# What of a training checkpoint's metadata says where the weights came from.
PROVENANCE_KEYS = ("step", "epoch", "world_size")
TRAIN_CONFIG_KEYS = ("data", "seed", "epochs", "batch_size", "lr", "precision")


@dataclass(frozen=True)
class ExportReport:
    path: Path
    max_abs_difference: float  # onnxruntime vs torch fp32, over all verified batches
    tolerance: float
    batch_sizes: tuple[int, ...]
    opset: int
    metadata: dict[str, Any]  # decoded metadata_props

    @property
    def passed(self) -> bool:
        return self.max_abs_difference <= self.tolerance


def export_generator(
    generator: nn.Module,
    path: str | Path,
    *,
    metadata: Mapping[str, Any],
    source: str | Path | None = None,
    tolerance: float = PARITY_TOLERANCE,
) -> ExportReport:
    """Write ``generator`` as ONNX to ``path`` and verify it against torch.

    ``metadata`` is the checkpoint's metadata (as :func:`load_models` returns it); its
    ``generator`` record (plugin name and options) is required, its training provenance
    (step, data, ...) is copied where present. ``source``, the checkpoint file, adds its
    name and SHA-256. The caller's module is not changed (a CPU fp32 copy is exported).
    """
    import onnx

    path = Path(path)
    model = _fp32_eval_copy(generator)
    props = onnx_metadata(model, metadata, source)
    example = model.sample_z(2, generator=torch.Generator().manual_seed(0))
    try:
        program = torch.onnx.export(
            model,
            (example,),
            dynamo=True,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_shapes={"z": {0: torch.export.Dim("batch", min=1)}},
            external_data=False,  # a DCGAN is ~20 MB: one self-contained file
            verbose=False,
        )
    except Exception as exc:  # the exporter raises many types; the cause is in the text
        raise InpaintError(
            f"ONNX export of the {props['generator']} generator failed: "
            f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        ) from exc
    proto = program.model_proto
    onnx.helper.set_model_props(proto, props)
    opset = next(entry.version for entry in proto.opset_import if entry.domain in ("", "ai.onnx"))

    difference = float("nan")

    def write_and_verify(tmp: str) -> None:
        nonlocal difference
        onnx.save_model(proto, tmp)
        difference = max_difference_from_torch(tmp, model)
        if not difference <= tolerance:  # also catches NaN
            raise InpaintError(
                f"ONNX export does not match torch: max |onnx - torch| = {difference:.3g} "
                f"> {tolerance:g}; {path} was not written"
            )

    atomic_write(path, write_and_verify)
    decoded = {key: json.loads(value) for key, value in props.items()}
    return ExportReport(path, difference, tolerance, VERIFY_BATCH_SIZES, opset, decoded)


def export_checkpoint(checkpoint: str | Path | None, path: str | Path) -> ExportReport:
    """Export the generator of a checkpoint file (``None``: the packaged model)."""
    from inpaint_toolkit.models import default_model_path, load_models

    generator, _, metadata = load_models(checkpoint, need_discriminator=False)
    source = checkpoint if checkpoint is not None else default_model_path()
    return export_generator(generator, path, metadata=metadata, source=source)


def onnx_metadata(
    generator: nn.Module, metadata: Mapping[str, Any], source: str | Path | None = None
) -> dict[str, str]:
    """The ``metadata_props`` of an exported generator: JSON strings by key."""
    record = metadata.get("generator")
    if not record or "name" not in record:
        raise InpaintError(
            "cannot export: the metadata names no generator plugin (pass the checkpoint's "
            "metadata, or {'generator': model_record(name, generator)})"
        )
    train_config = metadata.get("train_config") or {}
    provenance: dict[str, Any] = {key: metadata[key] for key in PROVENANCE_KEYS if key in metadata}
    provenance.update({key: train_config[key] for key in TRAIN_CONFIG_KEYS if key in train_config})
    if source is not None:
        source = Path(source)
        provenance["checkpoint"] = source.name
        provenance["checkpoint_sha256"] = _sha256(source)
    values: dict[str, Any] = {
        "format": ONNX_FORMAT,
        "z_dim": int(generator.z_dim),
        "z_range": [float(bound) for bound in generator.z_range],
        "image_size": int(generator.image_size),
        "generator": {"name": record["name"], "options": record.get("options", {})},
        "provenance": provenance,
        "torch_version": torch.__version__,
        "exporter": EXPORTER,
    }
    return {key: json.dumps(value) for key, value in values.items()}


def max_difference_from_torch(
    onnx_path: str | Path, generator: nn.Module, batch_sizes: tuple[int, ...] = VERIFY_BATCH_SIZES
) -> float:
    """Largest ``|onnxruntime - torch fp32|`` over random codes at each batch size.

    onnxruntime runs on the CPU here whatever the machine has: the check is of the graph,
    and the CPU provider is exact fp32 everywhere (a GPU's TF32 would blur it).
    """
    import onnxruntime as ort

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    model = _fp32_eval_copy(generator)
    rng = torch.Generator().manual_seed(1234)
    worst = 0.0
    for batch in batch_sizes:
        z = model.sample_z(batch, generator=rng)
        with torch.no_grad():
            expected = model(z)
        (got,) = session.run([OUTPUT_NAME], {INPUT_NAME: z.numpy()})
        if got.shape != tuple(expected.shape):
            raise InpaintError(
                f"ONNX output at batch {batch} has shape {got.shape}, torch's is "
                f"{tuple(expected.shape)}: the batch axis is not dynamic"
            )
        worst = max(worst, float(np.abs(got - expected.numpy()).max()))
    return worst


def _fp32_eval_copy(generator: nn.Module) -> nn.Module:
    model = copy.deepcopy(generator)
    model = model.to("cpu", torch.float32).to(memory_format=torch.contiguous_format)
    model.requires_grad_(False)
    return model.eval()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def describe(report: ExportReport) -> str:
    """Two lines for people: where the file is, and how well it matched torch."""
    batches = " and ".join(str(b) for b in report.batch_sizes)
    verdict = "passed" if report.passed else "FAILED"
    return (
        f"wrote {report.path} (ONNX opset {report.opset}, dynamic batch axis)\n"
        f"verify {verdict}: max |onnxruntime - torch fp32| = {report.max_abs_difference:.2e} "
        f"(tolerance {report.tolerance:.0e}) at batch {batches}"
    )
