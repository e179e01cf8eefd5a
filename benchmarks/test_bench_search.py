"""The z-search: steps at batch 64, and the time to fill one face as the paper does.

Both go through the real code (``core.search.search`` and ``core.inpainting.inpaint``)
with the default objective (``weighted_l1+prior``, so D runs too) and optimiser (Adam).
"""

from __future__ import annotations

import pytest
import torch
from bench_support import PATHS

from inpaint_toolkit.inpainting.inpaint import SearchOptions, build_optimizer, inpaint
from inpaint_toolkit.inpainting.search import Objective, search

BATCH = 64
STEPS = 20  # per measured search; its one closing fp32 evaluation is spread over these
FILL_ITERATIONS = 1500  # the paper's
FILL_RESTARTS = 8


def centre_hole(batch: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Random 'faces' and the paper's centred 32x32 hole (speed does not depend on content)."""
    images = torch.rand(batch, 3, 64, 64, generator=torch.Generator().manual_seed(0)) * 2 - 1
    known = torch.ones(batch, 1, 64, 64)
    known[..., 16:48, 16:48] = 0.0
    return images.to(device), known.to(device)


@pytest.mark.parametrize("path", ["fp32", "fast"])
def test_search_steps(path, device, generator, discriminator, measure):
    defaults = SearchOptions()
    objective = Objective.parse(defaults.loss)
    optimizer = build_optimizer(defaults.optimizer)
    images, known = centre_hole(BATCH, device)

    def run_search():
        return search(
            generator,
            images,
            known,
            objective,
            optimizer,
            discriminator=discriminator,
            iterations=STEPS,
            precision=PATHS[path],
            progress=False,
        )

    measure(
        run_search,
        case=f"z-search step, batch {BATCH}",
        path=path,
        items=BATCH * STEPS,
        unit="image*iteration/s",
    )


@pytest.mark.parametrize("path", ["fp32", "fast"])
def test_fill_one_face(path, device, generator, discriminator, measure, benchmark):
    options = SearchOptions(
        iterations=FILL_ITERATIONS, restarts=FILL_RESTARTS, precision=PATHS[path]
    )
    images, known = centre_hole(1, device)

    def fill():
        return inpaint(generator, discriminator, images, known, options, progress=False)

    # One round: a fill is a minute or more on a CPU, and 1,500 steps average themselves.
    measure(
        fill,
        case=f"fill one face ({FILL_ITERATIONS} iterations x {FILL_RESTARTS} restarts)",
        path=path,
        items=FILL_ITERATIONS * FILL_RESTARTS,
        unit="image*iteration/s",
        rounds=1,
    )
    benchmark.extra_info["seconds_per_face"] = benchmark.stats.stats.median
