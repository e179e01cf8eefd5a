"""GAN training at batch 64: one plain step (D update, then G update) in fp32 and on the
fast path, and the fast path with ``train``'s recipe as its loop runs it.

``recipe`` takes the recipe from ``TrainConfig``'s defaults, so it follows them when a
measurement changes one: the EMA update of G after each step, DiffAugment if the default
policy has one, and the R1 penalty, which the loop applies lazily, once every ``R1_EVERY``
steps. One call of a recipe path therefore runs a whole R1 interval, so its rate is the
loop's average rate and not that of the cheap steps in between. ``recipe+diffaugment``
adds DiffAugment (colour, translation, cut-out) on everything D sees, the packaged model's
recipe.
"""

from __future__ import annotations

import pytest
import torch
from bench_support import PATHS, prepare

from inpaint_toolkit.core import runtime
from inpaint_toolkit.training import ema, train_step
from inpaint_toolkit.training.augment import augmenter, parse_policy
from inpaint_toolkit.training.config import TrainConfig
from inpaint_toolkit.training.loop import R1_EVERY, r1_weight

BATCH = 64
DIFFAUGMENT = "color,translation,cutout"


@pytest.mark.parametrize("path", ["fp32", "fast", "recipe", "recipe+diffaugment"])
def test_training_step(path, device, generator, discriminator, measure):
    defaults = TrainConfig(data=["unused"])
    recipe = path.startswith("recipe")
    g = prepare(generator, device, path).train()
    d = prepare(discriminator, device, path).train()
    opt_g = torch.optim.Adam(g.parameters(), **defaults.adam_settings("g"))
    opt_d = torch.optim.Adam(d.parameters(), **defaults.adam_settings("d"))
    rng = torch.Generator().manual_seed(0)
    memory_format = runtime.memory_format(device, PATHS[path])
    real = (torch.rand(BATCH, 3, 64, 64, generator=rng) * 2 - 1).to(
        device, memory_format=memory_format
    )
    z = g.sample_z(BATCH, generator=rng, device=device)
    policies = {"recipe": defaults.augment, "recipe+diffaugment": DIFFAUGMENT}
    apply = augmenter(parse_policy(policies.get(path, "none")))
    augment = (lambda images: apply(images, rng)) if apply else None
    average = ema.make_average(g) if recipe and defaults.ema else None
    steps = R1_EVERY if recipe else 1

    def interval() -> None:
        for step in range(steps):
            r1 = r1_weight(defaults.r1, step) if recipe else 0.0
            train_step(g, d, opt_g, opt_d, real, z, device, PATHS[path], augment=augment, r1=r1)
            if average is not None:
                ema.update_average(average, g, defaults.ema)

    measure(
        interval,
        case=f"training step (D + G), batch {BATCH}",
        path=path,
        items=BATCH * steps,
        unit="image/s",
    )
