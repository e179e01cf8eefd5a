"""The z-search objective's terms, against hand-computed cases."""

from __future__ import annotations

import pytest
import torch

from inpaint_toolkit.core.interfaces import Problem
from inpaint_toolkit.plugins.context_losses import context_weights, weighted_context_loss
from inpaint_toolkit.plugins.prior import prior_loss
from inpaint_toolkit.registry.manager import Registry, create_plugin_manager


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry(*create_plugin_manager(load_entry_points=False))


def test_context_weights_by_hand() -> None:
    # 5x5 image, the single centre pixel missing, 3x3 window.
    known = torch.ones(1, 1, 5, 5)
    known[0, 0, 2, 2] = 0
    weights = context_weights(known, window=3)[0, 0]
    assert weights[2, 2] == 0  # in the hole
    assert weights[1, 1] == pytest.approx(1 / 9)  # its 3x3 neighbourhood has 1 of 9 missing
    assert weights[2, 1] == pytest.approx(1 / 9)
    assert weights[0, 0] == 0  # no missing neighbour
    assert weights[0, 2] == 0
    # At the border only the neighbours inside the image count: 1 missing of 6.
    known = torch.ones(1, 1, 5, 5)
    known[0, 0, 0, 2] = 0
    assert context_weights(known, window=3)[0, 0, 1, 2] == pytest.approx(1 / 9)
    assert context_weights(known, window=3)[0, 0, 0, 1] == pytest.approx(1 / 6)


def test_pixels_near_the_hole_weigh_more() -> None:
    known = torch.ones(1, 1, 32, 32)
    known[..., 8:24, 8:24] = 0
    weights = context_weights(known, window=7)[0, 0]
    assert weights[12, 7] > weights[12, 6] > weights[12, 5] > 0  # nearer the hole: heavier
    assert weights[12, 4] == 0  # 4 pixels from the hole: outside the 7x7 window


def test_weighted_l1_is_the_weighted_sum_of_absolute_differences(registry) -> None:
    generated = torch.zeros(2, 3, 5, 5)
    target = torch.full((2, 3, 5, 5), 0.5)
    known = torch.ones(2, 1, 5, 5)
    known[:, :, 2, 2] = 0
    loss = registry.build("loss", "weighted_l1", {"window": 3})
    values = loss(generated, Problem(target, known))
    expected = 0.5 * 3 * context_weights(known, 3)[0].sum()
    assert values.shape == (2,)
    assert torch.allclose(values, expected.expand(2))
    # The hole never counts, however wrong the fill there is.
    generated[:, :, 2, 2] = 100.0
    assert torch.allclose(loss(generated, Problem(target, known)), values)
    assert torch.allclose(
        weighted_context_loss(generated, target, context_weights(known, 3)), values
    )


def test_even_window_is_refused(registry) -> None:
    from inpaint_toolkit.core.errors import InpaintError

    with pytest.raises(InpaintError, match="window"):
        registry.build("loss", "weighted_l1", {"window": 4})


def test_l1_and_l2_over_known_pixels(registry) -> None:
    generated = torch.zeros(1, 3, 4, 4)
    target = torch.full((1, 3, 4, 4), 0.5)
    known = torch.ones(1, 1, 4, 4)
    known[..., :2, :] = 0  # half missing: 8 known pixels x 3 channels
    problem = Problem(target, known)
    assert registry.build("loss", "l1")(generated, problem).item() == pytest.approx(24 * 0.5)
    assert registry.build("loss", "l2")(generated, problem).item() == pytest.approx(24 * 0.25)


def test_prior_is_stable_and_pushes_towards_real() -> None:
    logits = torch.tensor([-200.0, 0.0, 200.0], requires_grad=True)
    values = prior_loss(logits)
    assert torch.isfinite(values).all()  # log(1 - sigmoid(200)) would be log(0) naively
    assert values[1].item() == pytest.approx(torch.log(torch.tensor(0.5)).item())
    values.sum().backward()
    # Minimising the loss raises the logit: gradient descent moves towards "real".
    assert (logits.grad <= 0).all() and logits.grad[1] < 0


def test_prior_gradient_moves_z_towards_what_d_finds_real(
    registry, tiny_generator, tiny_discriminator
) -> None:
    prior = registry.build("loss", "prior")
    assert prior.default_weight == 0.003 and prior.needs_discriminator
    z = tiny_generator.sample_z(8, generator=torch.Generator().manual_seed(0))
    z.requires_grad_(True)
    images = tiny_generator(z)
    problem = Problem(images.detach(), torch.ones(8, 1, 32, 32), tiny_discriminator)
    prior(images, problem).sum().backward()
    with torch.no_grad():
        before = tiny_discriminator(tiny_generator(z))
        after = tiny_discriminator(tiny_generator(z - 0.01 * z.grad / z.grad.norm()))
    assert (after > before).float().mean() >= 0.75  # a small step down the loss raises D(G(z))
