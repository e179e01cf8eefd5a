"""One GAN training step (D update, then G update) at batch 64: fp32 vs the fast path."""

from __future__ import annotations

import pytest
import torch
from bench_support import PATHS, prepare

from inpaint_toolkit.core import runtime
from inpaint_toolkit.training import train_step

BATCH = 64


@pytest.mark.parametrize("path", ["fp32", "fast"])
def test_training_step(path, device, generator, discriminator, measure):
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

    measure(
        lambda: train_step(g, d, opt_g, opt_d, real, z, device, PATHS[path]),
        case=f"training step (D + G), batch {BATCH}",
        path=path,
        items=BATCH,
        unit="image/s",
    )
