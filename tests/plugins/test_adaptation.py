"""Adapters: per-image tuning of the generator after the z-search, on a tiny DCGAN."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor

from inpaint_toolkit.core.errors import InpaintError
from inpaint_toolkit.core.interfaces import Adapter, Problem
from inpaint_toolkit.inpainting.search import Objective
from inpaint_toolkit.plugins.adaptation import (
    drift_gradient,
    held_out_l1,
    laid_out_like,
    split_known,
    weight_drift,
)
from inpaint_toolkit.registry import get_registry

SIZE = 32
Z_DIM = 16


@pytest.fixture(scope="module")
def models():
    torch.manual_seed(0)
    registry = get_registry()
    options = {"widths": [32, 16, 8], "z_dim": Z_DIM, "image_size": SIZE}
    generator = registry.build("generator", "dcgan", options)
    discriminator = registry.build("discriminator", "dcgan", {**options, "widths": [8, 16, 32]})
    return generator.eval(), discriminator.eval()


def blocky_faces(count: int, seed: int = 0) -> Tensor:
    """Images the untrained generator cannot draw: random 4x4 blocks of flat colour."""
    blocks = torch.rand(count, 3, 4, 4, generator=torch.Generator().manual_seed(seed))
    return (blocks * 2 - 1).repeat_interleave(SIZE // 4, 2).repeat_interleave(SIZE // 4, 3)


def centre_hole(count: int) -> Tensor:
    known = torch.ones(count, 1, SIZE, SIZE)
    known[:, :, 8:24, 8:24] = 0
    return known


def codes(generator, count: int) -> Tensor:
    return generator.sample_z(count, generator=torch.Generator().manual_seed(1))


def l1_objective(images: Tensor, problem: Problem) -> Tensor:
    """The l1 context loss: a sum over the known pixels, as the search's losses are."""
    return ((images - problem.target).abs() * problem.known).flatten(1).sum(1)


def adapter(**options) -> Adapter:
    # No pull unless asked: the default is sized for the 5M weights of the face model.
    return get_registry().build("adapter", "adapt", {"precision": "fp32", "pull": 0.0, **options})


def untuned(generator, z: Tensor, problem: Problem) -> Tensor:
    return get_registry().build("adapter", "none")(generator, z, problem, l1_objective, seed=0)


def test_the_built_ins_are_adapters():
    registry = get_registry()
    assert {"none", "adapt"} <= set(registry.names("adapter"))
    assert isinstance(registry.build("adapter", "none"), Adapter)
    assert isinstance(adapter(), Adapter)


def test_none_is_the_untuned_fp32_generator_output(models):
    generator, _ = models
    z = codes(generator, 2)
    problem = Problem(blocky_faces(2), centre_hole(2))
    result = untuned(generator, z, problem)
    with torch.no_grad():
        assert torch.equal(result.images, generator(z))
    assert result.images.dtype == torch.float32 and result.steps == 0


def test_the_generator_never_changes(models):
    generator, discriminator = models
    generator.train()  # a mode, and flags, that adaptation must leave as they are
    generator.project.weight.requires_grad_(False)
    before = {name: t.clone() for name, t in generator.state_dict().items()}
    flags = {name: p.requires_grad for name, p in generator.named_parameters()}
    try:
        objective = Objective.parse("weighted_l1+prior")
        problem = Problem(blocky_faces(2), centre_hole(2), discriminator)
        adapter(steps=5, pull=1e3)(generator, codes(generator, 2), problem, objective, seed=0)
        after = generator.state_dict()
        assert all(torch.equal(before[name], after[name]) for name in before)
        assert flags == {name: p.requires_grad for name, p in generator.named_parameters()}
        assert all(module.training for module in generator.modules())
        assert all(p.grad is None for p in generator.parameters())
        assert all(p.grad is None for p in discriminator.parameters())
    finally:
        generator.eval().requires_grad_(True)


def test_adaptation_fits_the_known_pixels_better_than_any_code(models):
    generator, _ = models
    target, known = blocky_faces(2), centre_hole(2)
    z, problem = codes(generator, 2), Problem(target, known)
    fit, _ = split_known(known, 0.1, seed=0)
    steps = 60
    tuned = adapter(steps=steps, patience=steps, lr=1e-2)(
        generator, z, problem, l1_objective, seed=0
    )
    before = l1_objective(untuned(generator, z, problem).images, Problem(target, fit))
    after = l1_objective(tuned.images, Problem(target, fit))
    assert (after < 0.5 * before).all(), (before, after)
    assert tuned.steps == steps


def test_a_runaway_tuning_stops_early_and_never_returns_worse_held_out_pixels(models):
    generator, _ = models
    target, known = blocky_faces(3), centre_hole(3)
    z, problem = codes(generator, 3), Problem(target, known)
    _, held = split_known(known, 0.1, seed=0)
    # lr 0.5 on weights of scale 0.02 wrecks the generator within a step or two.
    result = adapter(steps=200, patience=3, lr=0.5)(generator, z, problem, l1_objective, seed=0)
    assert result.steps < 20
    no_tuning = untuned(generator, z, problem).images
    assert (held_out_l1(result.images, target, held) <= held_out_l1(no_tuning, target, held)).all()


def test_the_held_out_pixels_are_never_fitted(models):
    generator, _ = models
    target, known = blocky_faces(2), centre_hole(2)
    fit, held = split_known(known, 0.1, seed=0)
    assert torch.equal(fit + held, known) and held.sum() > 0 and (fit * held).sum() == 0
    moved = torch.where(held.bool(), -target, target)  # another image on the held-out pixels

    def fitted_images(target: Tensor) -> list[Tensor]:
        seen: list[Tensor] = []

        def spy(images: Tensor, problem: Problem) -> Tensor:
            seen.append(images.detach().clone())
            return l1_objective(images, problem)

        adapter(steps=6, patience=6, lr=3e-3)(
            generator, codes(generator, 2), Problem(target, known), spy, seed=0
        )
        return seen

    original, changed = fitted_images(target), fitted_images(moved)
    assert len(original) == len(changed) == 6
    # Same fitted pixels, same path: the images the objective saw never depended on them ...
    assert all(torch.equal(a, b) for a, b in zip(original, changed, strict=True))
    assert not torch.equal(original[0], original[-1])  # ... though the weights did move


def test_an_image_with_too_little_known_is_returned_untuned(models):
    generator, _ = models
    known = centre_hole(2)
    known[1] = 0
    known[1, :, 0, :3] = 1  # three known pixels: none can be held out
    z, problem = codes(generator, 2), Problem(blocky_faces(2), known)
    result = adapter(steps=5)(generator, z, problem, l1_objective, seed=0)
    no_tuning = untuned(generator, z, problem).images
    assert torch.equal(result.images[1], no_tuning[1])
    assert not torch.equal(result.images[0], no_tuning[0])


def test_an_images_result_depends_on_neither_its_batch_mates_nor_the_run(models):
    generator, discriminator = models
    target = blocky_faces(3)
    known = centre_hole(3)
    known[1] = (torch.rand(1, SIZE, SIZE, generator=torch.Generator().manual_seed(5)) > 0.8).float()
    z = codes(generator, 3)
    objective = Objective.parse("weighted_l1+prior")
    tune = adapter(steps=12, patience=4, lr=3e-3, chunk=2)

    together = tune(generator, z, Problem(target, known, discriminator), objective, seed=7)
    again = tune(generator, z, Problem(target, known, discriminator), objective, seed=7)
    assert torch.equal(together.images, again.images) and together.steps == again.steps
    steps = []
    for b in range(3):
        rows = slice(b, b + 1)
        alone = tune(
            generator, z[rows], Problem(target[rows], known[rows], discriminator), objective,
            seed=7 + b,
        )  # fmt: skip
        # Not bit for bit: vmap makes the convolutions grouped ones, summing in another order.
        torch.testing.assert_close(alone.images, together.images[rows], rtol=0, atol=1e-5)
        steps.append(alone.steps)
    assert together.steps == max(steps)


def test_bf16_tuning_runs_and_fits(models):
    generator, _ = models
    target, known = blocky_faces(1), centre_hole(1)
    z, problem = codes(generator, 1), Problem(target, known)
    fit, _ = split_known(known, 0.1, seed=0)
    result = adapter(steps=30, patience=30, lr=1e-2, precision="bf16")(
        generator, z, problem, l1_objective, seed=0
    )
    before = l1_objective(untuned(generator, z, problem).images, Problem(target, fit))
    assert result.images.dtype == torch.float32
    assert l1_objective(result.images, Problem(target, fit)) < 0.8 * before


def test_the_written_out_pull_gradient_is_that_of_the_drift(models):
    generator, _ = models
    originals = {name: p.detach() for name, p in generator.named_parameters()}
    total = sum(p.numel() for p in originals.values())
    noise = torch.Generator().manual_seed(3)
    weights = {
        name: (p + 0.01 * torch.randn(2, *p.shape, generator=noise)).requires_grad_(True)
        for name, p in originals.items()
    }
    drift = weight_drift(weights, originals)
    assert drift.shape == (2,) and (drift > 0).all()
    grads = torch.autograd.grad(drift.sum(), list(weights.values()))
    for (name, weight), grad in zip(weights.items(), grads, strict=True):
        expected = drift_gradient(weight.detach(), originals[name], total)
        torch.testing.assert_close(expected, grad, rtol=1e-4, atol=1e-12)


def test_the_pull_holds_the_weights_back(models):
    generator, _ = models
    target, known = blocky_faces(1), centre_hole(1)
    z, problem = codes(generator, 1), Problem(target, known)
    start = untuned(generator, z, problem).images

    def moved(pull: float) -> float:
        tuned = adapter(steps=20, patience=20, lr=1e-2, pull=pull)(
            generator, z, problem, l1_objective, seed=0
        )
        return (tuned.images - start).abs().mean().item()

    assert moved(1e5) < 0.5 * moved(0.0)


@pytest.mark.parametrize(
    "options",
    [
        {"holdout": 0},
        {"holdout": 1},
        {"holdout": -0.1},
        {"steps": 0},
        {"lr": 0},
        {"pull": -1},
        {"patience": 0},
        {"chunk": 0},
        {"precision": "fp16"},
        {"learning_rate": 0.1},
    ],
)
def test_bad_options_are_refused_by_name(options):
    with pytest.raises(InpaintError, match=next(iter(options))):
        get_registry().build("adapter", "adapt", options)


def test_adaptation_brings_real_held_out_faces_closer_in_the_hole(celeba_test_faces):
    """The packaged model on 8 held-out faces with 80 % of the pixels missing: after a
    short search, tuning G to each face lowers the error in the hole (against the truth,
    which the tuning never sees)."""
    from inpaint_toolkit.core.images import to_tensor
    from inpaint_toolkit.inpainting.inpaint import build_optimizer
    from inpaint_toolkit.inpainting.search import search
    from inpaint_toolkit.models import load_models
    from inpaint_toolkit.plugins.masks import PixelsMask

    generator, discriminator, _ = load_models()
    truth = to_tensor(celeba_test_faces[:8])
    damaged = PixelsMask()(truth, torch.Generator().manual_seed(0))
    objective = Objective.parse("weighted_l1+prior")
    found = search(
        generator, damaged.images, damaged.known, objective, build_optimizer("adam"),
        discriminator=discriminator, iterations=50, precision="fp32", progress=False,
    )  # fmt: skip
    problem = Problem(damaged.images, damaged.known, discriminator)
    hole = 1 - damaged.known
    errors = {}
    for name in ("none", "adapt"):
        adapter = get_registry().build("adapter", name, {"steps": 20} if name == "adapt" else {})
        images = adapter(generator, found.z[:, 0], problem, objective, seed=0).images
        errors[name] = ((images - truth).abs() * hole).sum() / (3 * hole.sum())
    assert errors["adapt"] < 0.9 * errors["none"]


def test_gradients_are_laid_out_like_the_permuted_weight_copies():
    # A channels_last model's per-image copies are dense but permuted; fused Adam on CUDA
    # refuses a gradient in any other layout (seen on an H200).
    weight = torch.randn(8, 4, 5, 5).to(memory_format=torch.channels_last)
    copies = weight.expand(3, *weight.shape).clone()
    grad = torch.randn(copies.shape)  # contiguous, as autograd may return it
    assert grad.stride() != copies.stride()
    laid_out = laid_out_like(copies, grad)
    assert laid_out.stride() == copies.stride() and torch.equal(laid_out, grad)
    assert laid_out_like(copies, laid_out) is laid_out  # already right: no copy
