"""Where the z-search starts: ``random`` (the paper's) and ``encoder`` (learned)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from inpaint_toolkit.core.errors import InpaintError
from inpaint_toolkit.models.encoder import Encoder, save_encoder
from inpaint_toolkit.registry import get_registry


def damaged_batch(count: int, size: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    images = torch.rand(count, 3, size, size, generator=torch.Generator().manual_seed(0)) * 2 - 1
    known = torch.ones(count, 1, size, size)
    known[:, :, size // 4 : 3 * size // 4, size // 4 : 3 * size // 4] = 0
    return images * known, known


@pytest.fixture
def encoder_file(tmp_path: Path, tiny_generator) -> Path:
    torch.manual_seed(3)
    encoder = Encoder(z_dim=16, image_size=32, widths=(8, 16))
    path = tmp_path / "encoder.safetensors"
    save_encoder(path, encoder.eval(), tiny_generator)
    return path


def test_random_draws_each_images_codes_from_its_own_seed(tiny_generator) -> None:
    images, known = damaged_batch(3)
    start = get_registry().build("initializer", "random")
    codes = start(tiny_generator, images, known, restarts=4, seed=10)
    assert codes.shape == (12, 16)
    for b in range(3):
        own = tiny_generator.sample_z(4, generator=torch.Generator().manual_seed(10 + b))
        assert torch.equal(codes[4 * b : 4 * b + 4], own)


def test_encoder_start_is_the_encoders_code_then_nearby_ones(tiny_generator, encoder_file):
    images, known = damaged_batch(3)
    start = get_registry().build(
        "initializer", "encoder", {"checkpoint": str(encoder_file), "spread": 0.3}
    )
    codes = start(tiny_generator, images, known, restarts=5, seed=0).view(3, 5, 16)
    guess = start.encoder_for(tiny_generator)(images, known)
    assert torch.allclose(codes[:, 0], guess)
    moved = (codes[:, 1:] - guess[:, None]).abs()
    assert moved.max() > 0.05 and moved.mean() < 0.5  # near the guess, not on it
    assert codes.abs().max() <= 1  # inside the prior's range
    # An image's codes do not depend on its batch-mates.
    alone = start(tiny_generator, images[1:2], known[1:2], restarts=5, seed=1).view(1, 5, 16)
    assert torch.allclose(alone[0], codes[1], atol=1e-6)


def test_encoder_for_another_generator_is_a_one_line_error(tiny_generator, encoder_file) -> None:
    with torch.no_grad():
        next(tiny_generator.parameters()).view(-1)[0] += 0.01
    start = get_registry().build("initializer", "encoder", {"checkpoint": str(encoder_file)})
    images, known = damaged_batch(1)
    with pytest.raises(InpaintError, match="trained for generator") as caught:
        start(tiny_generator, images, known, restarts=1, seed=0)
    assert "\n" not in str(caught.value)


def test_spread_must_not_be_negative() -> None:
    with pytest.raises(InpaintError, match="spread"):
        get_registry().build("initializer", "encoder", {"spread": -1})


def test_auto_falls_back_to_random_codes_with_a_notice(tiny_generator, capsys) -> None:
    images, known = damaged_batch(2)
    start = get_registry().build("initializer", "auto")
    codes = start(tiny_generator, images, known, restarts=3, seed=5)
    random = get_registry().build("initializer", "random")
    assert torch.equal(codes, random(tiny_generator, images, known, restarts=3, seed=5))
    assert "no encoder was trained for this generator" in capsys.readouterr().err


def test_auto_uses_the_packaged_encoder_for_the_packaged_model() -> None:
    from inpaint_toolkit.models import load_models

    generator, _, _ = load_models(need_discriminator=False)
    images, known = damaged_batch(2, size=64)
    auto = get_registry().build("initializer", "auto")
    encoder = get_registry().build("initializer", "encoder")
    assert torch.equal(
        auto(generator, images, known, restarts=2, seed=0),
        encoder(generator, images, known, restarts=2, seed=0),
    )


def test_the_encoder_start_beats_random_codes_on_real_faces(celeba_test_faces) -> None:
    """Held-out faces, 30 search steps from each start: the learned start ends closer to
    the known pixels, and nearer the truth in the hole."""
    from inpaint_toolkit.core.images import to_tensor
    from inpaint_toolkit.inpainting.inpaint import build_optimizer
    from inpaint_toolkit.inpainting.search import Objective, search
    from inpaint_toolkit.models import load_models

    generator, discriminator, _ = load_models()
    truth = to_tensor(celeba_test_faces[:8])
    known = torch.ones(8, 1, 64, 64)
    known[:, :, 16:48, 16:48] = 0
    results = {}
    for name in ("random", "encoder"):
        results[name] = search(
            generator, truth * known, known, Objective.parse("weighted_l1+prior"),
            build_optimizer("adam"), discriminator=discriminator,
            initializer=get_registry().build("initializer", name), iterations=30,
            precision="fp32", progress=False,
        )  # fmt: skip
    hole = {
        name: ((r.generated[:, 0] - truth).abs() * (1 - known)).mean().item()
        for name, r in results.items()
    }
    assert results["encoder"].loss.mean() < results["random"].loss.mean()
    assert hole["encoder"] < hole["random"]
