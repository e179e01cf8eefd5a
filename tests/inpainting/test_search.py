"""The z-search: it optimises, clips, keeps the best restarts, and is batch-independent."""

from __future__ import annotations

import pytest
import torch

from inpaint_toolkit.core.errors import InpaintError
from inpaint_toolkit.inpainting.search import Objective, search
from inpaint_toolkit.registry import get_registry


def centre_hole(batch: int, size: int = 32) -> torch.Tensor:
    known = torch.ones(batch, 1, size, size)
    known[..., size // 4 : 3 * size // 4, size // 4 : 3 * size // 4] = 0
    return known


def run(generator, discriminator, target, known, **kwargs):
    defaults = dict(iterations=30, restarts=2, precision="fp32", progress=False)
    return search(
        generator,
        target,
        known,
        Objective.parse("weighted_l1+prior"),
        get_registry().build("optimizer", "adam", {"lr": 0.05}),
        discriminator=discriminator,
        **{**defaults, **kwargs},
    )


@pytest.fixture
def targets(tiny_generator):
    """Images the generator can make exactly, so the search has a right answer."""
    with torch.no_grad():
        return tiny_generator(
            tiny_generator.sample_z(3, generator=torch.Generator().manual_seed(5))
        )


def test_search_lowers_the_objective(tiny_generator, tiny_discriminator, targets) -> None:
    known = centre_hole(3)
    result = run(tiny_generator, tiny_discriminator, targets * known, known, iterations=60)
    assert result.history.shape == (60, 3)
    assert (result.history[-1] < 0.7 * result.history[0]).all()
    assert result.generated.shape == (3, 1, 3, 32, 32) and result.z.shape == (3, 1, 16)


def test_z_stays_in_the_prior_range(tiny_generator, tiny_discriminator, targets) -> None:
    known = centre_hole(3)
    # A huge learning rate would throw z far out without the clipping.
    result = search(
        tiny_generator,
        targets * known,
        known,
        Objective.parse("l2"),
        get_registry().build("optimizer", "adam", {"lr": 5.0}),
        iterations=5,
        precision="fp32",
        progress=False,
    )
    assert result.z.abs().max() <= 1.0
    assert (result.z.abs() == 1.0).any()  # some coordinates were pushed to the edge


def test_an_image_result_does_not_depend_on_its_batch(
    tiny_generator, tiny_discriminator, targets
) -> None:
    known = centre_hole(3)
    known[1, :, :, :16] = 0  # different masks per image
    together = run(tiny_generator, tiny_discriminator, targets * known, known)
    alone = run(tiny_generator, tiny_discriminator, (targets * known)[2:], known[2:], seed=2)
    assert torch.allclose(together.z[2], alone.z[0], atol=1e-5)
    assert torch.allclose(together.loss[2], alone.loss[0], rtol=1e-4)


def test_best_restart_is_kept_and_samples_are_sorted(
    tiny_generator, tiny_discriminator, targets
) -> None:
    known = centre_hole(3)
    one = run(tiny_generator, tiny_discriminator, targets * known, known, restarts=4)
    many = run(tiny_generator, tiny_discriminator, targets * known, known, restarts=4, samples=3)
    assert many.loss.shape == (3, 3)
    assert (many.loss[:, :-1] <= many.loss[:, 1:] + 1e-6).all()  # best first
    assert torch.allclose(one.loss[:, 0], many.loss[:, 0])  # the best is the same restart
    with pytest.raises(InpaintError, match="samples"):
        run(tiny_generator, tiny_discriminator, targets * known, known, restarts=2, samples=3)


def test_prior_without_discriminator_is_an_error(tiny_generator, targets) -> None:
    with pytest.raises(InpaintError, match="discriminator"):
        run(tiny_generator, None, targets, centre_hole(3))


def test_bf16_fast_path_finds_as_good_fills(tiny_generator, tiny_discriminator, targets) -> None:
    known = centre_hole(3)
    fp32 = run(tiny_generator, tiny_discriminator, targets * known, known, iterations=60)
    bf16 = run(
        tiny_generator, tiny_discriminator, targets * known, known, iterations=60, precision="bf16"
    )
    assert bf16.precision == "bf16"
    # Final losses are evaluated in fp32 for both; bf16 may wander, but not be much worse.
    assert (bf16.loss <= fp32.loss * 1.25 + 0.5).all()


def test_early_stop_is_announced(tiny_generator, tiny_discriminator, targets, capsys) -> None:
    known = centre_hole(3)
    result = run(
        tiny_generator,
        tiny_discriminator,
        targets * known,
        known,
        iterations=2000,
        patience=50,
        restarts=1,
    )
    assert result.iterations < 2000
    assert "early stop" in capsys.readouterr().err
