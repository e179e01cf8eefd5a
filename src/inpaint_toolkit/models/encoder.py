"""The learned initialiser's network: a damaged face and its mask -> a starting code z.

Trained for one generator (``inpaint-toolkit train-encoder``), it lands the z-search near
the answer at once, so a few hundred steps do what 1,500 random-start steps did (Chai et
al. 2021 train such an encoder on the generator's own samples under random masks). A code
means something only to the generator it was trained with, so the encoder's file records
a fingerprint of that generator's weights and refuses to load against any other.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from inpaint_toolkit.core.checkpoint import (
    load_state_strict,
    prefixed,
    read_checkpoint,
    save_checkpoint,
    unprefixed,
)
from inpaint_toolkit.core.errors import InpaintError
from inpaint_toolkit.models import packaged_file

DEFAULT_ENCODER_FILE = "encoder_faces_64.safetensors"


def default_encoder_path() -> Path:
    """The encoder for the packaged face model, shipped beside it."""
    return packaged_file(DEFAULT_ENCODER_FILE)


def generator_fingerprint(generator: nn.Module) -> str:
    """A short hash of a generator's weights and buffers, in fp32: the same model file
    loaded anywhere gives the same fingerprint; any retraining changes it."""
    digest = hashlib.sha256()
    for name, tensor in sorted(generator.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().float().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


class Encoder(nn.Module):
    """``(damaged image, known mask) -> z``: the discriminator's shape (5x5 stride-2
    convolutions, batch norm after the first, LeakyReLU), on 4 channels (the image with
    its hole zeroed, and the mask), ending in a linear layer and a tanh scaled to the
    generator's code range, so every output is a valid code."""

    def __init__(
        self,
        *,
        z_dim: int = 100,
        image_size: int = 64,
        widths: tuple[int, ...] = (64, 128, 256, 512),
        z_range: tuple[float, float] = (-1.0, 1.0),
    ):
        super().__init__()
        if image_size % 2 ** len(widths):
            raise InpaintError(f"image size {image_size} is not divisible by 2^{len(widths)}")
        self.z_dim, self.image_size = z_dim, image_size
        self.widths, self.z_range = tuple(widths), tuple(z_range)
        layers: list[nn.Module] = []
        channels = 4
        for i, width in enumerate(widths):
            layers.append(nn.Conv2d(channels, width, 5, stride=2, padding=2, bias=i == 0))
            if i > 0:
                layers.append(nn.BatchNorm2d(width))
            layers.append(nn.LeakyReLU(0.2))
            channels = width
        self.features = nn.Sequential(*layers)
        side = image_size // 2 ** len(widths)
        self.to_z = nn.Linear(channels * side * side, z_dim)

    def options(self) -> dict[str, Any]:
        return {
            "z_dim": self.z_dim,
            "image_size": self.image_size,
            "widths": list(self.widths),
            "z_range": list(self.z_range),
        }

    def forward(self, images: Tensor, known: Tensor) -> Tensor:
        known = known.to(images.dtype)
        features = self.features(torch.cat([images * known, known], 1))
        low, high = self.z_range
        unit = torch.tanh(self.to_z(features.flatten(1)).float())  # in (-1, 1)
        return low + (unit + 1) * (high - low) / 2


def save_encoder(
    path: str | Path,
    encoder: Encoder,
    generator: nn.Module,
    *,
    extra_tensors: dict[str, Tensor] | None = None,
    metadata: dict[str, Any] | None = None,
    dtype: torch.dtype = torch.float32,
) -> None:
    """The encoder's weights (in ``dtype``: half for shipping), its options and the
    fingerprint of its generator (plus, for a resumable training file, the optimiser's
    state in ``extra_tensors``)."""
    weights = {
        key: value.to(dtype) if value.is_floating_point() else value
        for key, value in encoder.state_dict().items()
    }
    save_checkpoint(
        path,
        {**prefixed("encoder", weights), **(extra_tensors or {})},
        {
            "encoder": {"options": encoder.options()},
            "generator_fingerprint": generator_fingerprint(generator),
            **(metadata or {}),
        },
    )


def load_encoder(
    path: str | Path | None,
    generator: nn.Module,
    *,
    device: str | torch.device = "cpu",
    same_generator: bool = True,
) -> Encoder:
    """The encoder in ``path`` (``None``: the packaged one), checked against ``generator``
    (``same_generator=False``: only its code size, for starting another encoder's training
    from it)."""
    path = Path(path) if path is not None else default_encoder_path()
    if not path.is_file() and path == default_encoder_path():
        raise InpaintError(
            "the packaged encoder is missing; train one with 'inpaint-toolkit train-encoder' "
            "or start from random codes (--init random)"
        )
    tensors, metadata = read_checkpoint(path)
    record = metadata.get("encoder")
    if not isinstance(record, dict) or not isinstance(record.get("options"), dict):
        raise InpaintError(f"{path}: holds no encoder")
    expected = metadata.get("generator_fingerprint")
    actual = generator_fingerprint(generator)
    if same_generator and expected != actual:
        raise InpaintError(
            f"{path}: this encoder was trained for generator {expected}, not for the one "
            f"loaded ({actual}); train one for it with 'inpaint-toolkit train-encoder' or use "
            "--init random"
        )
    options = record["options"]
    try:
        encoder = Encoder(
            z_dim=int(options["z_dim"]),
            image_size=int(options["image_size"]),
            widths=tuple(int(w) for w in options["widths"]),
            z_range=tuple(float(v) for v in options["z_range"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InpaintError(f"{path}: its encoder options are unreadable ({exc})") from None
    if encoder.z_dim != getattr(generator, "z_dim", encoder.z_dim):
        raise InpaintError(f"{path}: the encoder gives {encoder.z_dim}-d codes, G takes others")
    state = unprefixed("encoder", tensors)
    load_state_strict(encoder, state, f"{path} (encoder)")  # checks keys, shapes, NaN first
    return encoder.to(device).eval()
