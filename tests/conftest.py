"""Shared fixtures: tiny random-weight models (fast on a CPU), the shared face data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from inpaint_toolkit.plugins.dcgan import (
    DCGANDiscriminator,
    DCGANDiscriminatorOptions,
    DCGANGenerator,
    DCGANOptions,
)

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
TINY = {"image_size": 32, "z_dim": 16}


@pytest.fixture
def tiny_generator() -> DCGANGenerator:
    torch.manual_seed(0)
    return DCGANGenerator(DCGANOptions(**TINY, widths=(32, 16, 8))).eval()


@pytest.fixture
def tiny_discriminator() -> DCGANDiscriminator:
    torch.manual_seed(1)
    return DCGANDiscriminator(DCGANDiscriminatorOptions(**TINY, widths=(8, 16, 32))).eval()


@pytest.fixture
def faces_npz(tmp_path: Path) -> Path:
    """A small .npz of smooth synthetic 'images' in the shared data's format."""
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, size=(40, 4, 4, 3)).astype(np.float32)
    images = base.repeat(16, axis=1).repeat(16, axis=2).astype(np.uint8)  # (40, 64, 64, 3)
    path = tmp_path / "faces.npz"
    np.savez(path, images=images, names=np.array([f"{i}.png" for i in range(len(images))]))
    return path


@pytest.fixture
def celeba_test_faces() -> np.ndarray:
    """Real held-out CelebA faces from ../shared/data, or a skip saying why."""
    path = SHARED_DATA / "celeba_subset_test_64.npz"
    if not path.exists():
        pytest.skip(f"real face data not found at {path}")
    with np.load(path) as archive:
        return archive["images"]


@pytest.fixture
def tiny_checkpoint(tmp_path: Path, tiny_generator, tiny_discriminator) -> Path:
    """The tiny random models saved as a real checkpoint, as training would."""
    from inpaint_toolkit.core.checkpoint import model_record, prefixed, save_checkpoint

    path = tmp_path / "tiny.safetensors"
    save_checkpoint(
        path,
        {
            **prefixed("generator", tiny_generator.state_dict()),
            **prefixed("discriminator", tiny_discriminator.state_dict()),
        },
        {
            "generator": model_record("dcgan", tiny_generator),
            "discriminator": model_record("dcgan", tiny_discriminator),
        },
    )
    return path
