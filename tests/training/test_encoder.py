"""``train-encoder``: it learns, it resumes exactly, and its file knows its generator."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from inpaint_toolkit.cli import main
from inpaint_toolkit.core.errors import InpaintError
from inpaint_toolkit.models import load_models
from inpaint_toolkit.models.encoder import Encoder, load_encoder
from inpaint_toolkit.plugins.masks import CenterMask
from inpaint_toolkit.training.encoder import EncoderTrainConfig, train_encoder


@pytest.fixture
def lively_checkpoint(tmp_path: Path, tiny_generator) -> Path:
    """The tiny random generator with its batch-norm statistics taken from its own
    activations: untouched, its samples are nearly one flat image, with nothing to encode."""
    from inpaint_toolkit.core.checkpoint import model_record, prefixed, save_checkpoint

    tiny_generator.train()
    with torch.no_grad():
        for weight in tiny_generator.parameters():  # DCGAN's N(0, 0.02) start is near flat
            weight.mul_(10)
        for seed in range(30):
            tiny_generator(
                tiny_generator.sample_z(256, generator=torch.Generator().manual_seed(seed))
            )
    path = tmp_path / "lively.safetensors"
    state = prefixed("generator", tiny_generator.eval().state_dict())
    save_checkpoint(path, state, {"generator": model_record("dcgan", tiny_generator)})
    return path


def config(checkpoint: Path, data: Path, out: Path, **changes) -> EncoderTrainConfig:
    settings = {
        "data": [str(data)],
        "checkpoint": str(checkpoint),
        "out": out,
        "steps": 40,
        "batch_size": 16,
        "widths": [8, 16],
        "masks": "center,pixels",
        "save_every": 10,
        "precision": "fp32",
        "device": "cpu",
        **changes,
    }
    return EncoderTrainConfig(**settings)


def rebuild_error(encoder: Encoder, generator: torch.nn.Module) -> float:
    """Mean L1 of G(E(damaged sample)) to the whole sample, on fresh samples."""
    z = generator.sample_z(64, generator=torch.Generator().manual_seed(123))
    with torch.no_grad():
        clean = generator(z)
        damaged = CenterMask()(clean, torch.Generator().manual_seed(0))
        return (generator(encoder(damaged.images, damaged.known)) - clean).abs().mean().item()


def test_training_lowers_the_rebuild_error(lively_checkpoint, faces_npz, tmp_path) -> None:
    generator, _, _ = load_models(lively_checkpoint, need_discriminator=False)
    torch.manual_seed(0)
    untrained = Encoder(z_dim=16, image_size=32, widths=(8, 16)).eval()
    settings = config(
        lively_checkpoint, faces_npz, tmp_path / "e.pt", steps=150, real_fraction=0.25
    )
    out = train_encoder(settings, progress=False)
    trained = load_encoder(out, generator)
    assert rebuild_error(trained, generator) < 0.8 * rebuild_error(untrained, generator)


def test_resume_continues_bit_for_bit(tiny_checkpoint, faces_npz, tmp_path) -> None:
    whole = train_encoder(config(tiny_checkpoint, faces_npz, tmp_path / "a.pt"), progress=False)
    part = tmp_path / "b.safetensors"
    train_encoder(config(tiny_checkpoint, faces_npz, part, steps=20), progress=False)
    train_encoder(config(tiny_checkpoint, faces_npz, part, resume=True), progress=False)
    generator, _, _ = load_models(tiny_checkpoint, need_discriminator=False)
    a, b = load_encoder(whole, generator).state_dict(), load_encoder(part, generator).state_dict()
    assert all(torch.equal(a[key], b[key]) for key in a)


def test_an_encoder_refuses_another_generator(tiny_checkpoint, faces_npz, tmp_path) -> None:
    settings = config(tiny_checkpoint, faces_npz, tmp_path / "e.pt", steps=2)
    out = train_encoder(settings, progress=False)
    generator, _, _ = load_models(tiny_checkpoint, need_discriminator=False)
    with torch.no_grad():
        next(generator.parameters()).view(-1)[0] += 1e-3  # one weight: another generator
    with pytest.raises(InpaintError, match="trained for generator"):
        load_encoder(out, generator)


def test_init_starts_from_an_encoder_made_for_another_generator(
    tiny_checkpoint, faces_npz, tmp_path
) -> None:
    """A fine-tuned generator's encoder can start from its parent's (the fingerprint
    differs, the coordinates hardly)."""
    from inpaint_toolkit.core.checkpoint import read_checkpoint, save_checkpoint

    parent = train_encoder(config(tiny_checkpoint, faces_npz, tmp_path / "p.pt"), progress=False)
    tensors, metadata = read_checkpoint(tiny_checkpoint)
    nudged = tmp_path / "nudged.safetensors"
    save_checkpoint(
        nudged, {k: v * 1.01 if v.is_floating_point() else v for k, v in tensors.items()}, metadata
    )
    settings = config(nudged, faces_npz, tmp_path / "c.pt", steps=1, lr=1e-12, init=str(parent))
    child = train_encoder(settings, progress=False)
    generator, _, _ = load_models(nudged, need_discriminator=False)
    old = dict(load_encoder(parent, generator, same_generator=False).named_parameters())
    new = dict(load_encoder(child, generator).named_parameters())  # made for the nudged G now
    assert all(torch.allclose(old[key], new[key], atol=1e-6) for key in old)
    with pytest.raises(InpaintError, match="other options"):
        train_encoder(
            config(nudged, faces_npz, tmp_path / "w.pt", init=str(parent), widths=[8, 8]),
            progress=False,
        )


def test_the_packaged_encoder_fits_the_packaged_model() -> None:
    generator, _, _ = load_models(need_discriminator=False)
    encoder = load_encoder(None, generator)
    damaged = torch.zeros(2, 3, 64, 64)
    known = torch.zeros(2, 1, 64, 64)
    known[:, :, :32] = 1
    z = encoder(damaged, known)
    assert z.shape == (2, generator.z_dim) and z.abs().max() <= 1


def test_cli_errors_are_one_line(tiny_checkpoint, tmp_path, capsys) -> None:
    out = str(tmp_path / "e.safetensors")
    code = main(["train-encoder", "--checkpoint", str(tiny_checkpoint), "--masks", "nosuch",
                 "--out", out, "--quiet"])  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("error:") and "nosuch" in err and "\n" not in err
