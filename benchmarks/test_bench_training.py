"""One GAN training step (D update, then G update) at batch 64: fp32 vs the fast path, and
the fast path with the training recipe (DiffAugment on all D sees, the EMA update of G)."""

from __future__ import annotations

import pytest
import torch
from bench_support import PATHS, prepare

from inpaint_toolkit.core import runtime
from inpaint_toolkit.training import ema, train_step
from inpaint_toolkit.training.augment import augmenter, parse_policy

BATCH = 64


@pytest.mark.parametrize("path", ["fp32", "fast", "recipe"])
def test_training_step(path, device, generator, discriminator, measure):
    """``recipe`` is the fast path plus the default recipe of ``train``, as its loop runs it."""
    recipe = path == "recipe"
    g = prepare(generator, device, path).train()
    d = prepare(discriminator, device, path).train()
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    rng = torch.Generator().manual_seed(0)
    memory_format = runtime.memory_format(device, PATHS[path])
    real = (torch.rand(BATCH, 3, 64, 64, generator=rng) * 2 - 1).to(
        device, memory_format=memory_format
    )
    z = g.sample_z(BATCH, generator=rng, device=device)
    apply = augmenter(parse_policy("color,translation,cutout")) if recipe else None
    average = ema.make_average(g) if recipe else None

    def step() -> None:
        augment = (lambda images: apply(images, rng)) if apply else None
        train_step(g, d, opt_g, opt_d, real, z, device, PATHS[path], augment=augment)
        if average is not None:
            ema.update_average(average, g, 0.999)

    measure(
        step,
        case=f"training step (D + G), batch {BATCH}",
        path=path,
        items=BATCH,
        unit="image/s",
    )
