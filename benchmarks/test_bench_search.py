"""The z-search: steps at batch 64, and the time to fill one face, as the paper does and
at ``run``'s defaults (learned start, a short search, generator adaptation).

Both go through the real code (``core.search.search`` and ``core.inpainting.inpaint``)
with the default objective (``weighted_l1+prior``, so D runs too) and optimiser (Adam).
"""

from __future__ import annotations

import pytest
import torch
from bench_support import PATHS

from inpaint_toolkit.inpainting.config import RunConfig
from inpaint_toolkit.inpainting.inpaint import (
    SearchOptions,
    build_optimizer,
    build_plugin,
    inpaint,
    search_length,
)
from inpaint_toolkit.inpainting.search import Objective, search

BATCH = 64
STEPS = 20  # per measured search; its one closing fp32 evaluation is spread over these


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


def run_defaults(**changes) -> SearchOptions:
    """The search settings ``inpaint-toolkit run`` uses when given no flag."""
    defaults = RunConfig().model_dump(include=set(SearchOptions.model_fields))
    return SearchOptions.model_validate({**defaults, **changes})


def describe(options: SearchOptions, generator) -> str:
    initializer = build_plugin("initializer", options.init)
    iterations, restarts = search_length(options, initializer, generator)
    return f"init {options.init}, {iterations} it x {restarts} restarts, adapt {options.adapt}"


@pytest.fixture
def packaged(device: torch.device):
    """The packaged face model: the defaults' learned start is trained for it alone."""
    from inpaint_toolkit.models import load_models

    generator, discriminator, _ = load_models(device=device)
    return generator, discriminator


@pytest.mark.parametrize("settings", ["paper", "defaults"])
@pytest.mark.parametrize("path", ["fp32", "fast"])
def test_fill_one_face(settings, path, device, packaged, measure, benchmark):
    generator, discriminator = packaged
    if settings == "paper":
        options = SearchOptions(preset="paper", precision=PATHS[path])
    else:
        options = run_defaults(precision=PATHS[path])
    images, known = centre_hole(1, device)

    def fill():
        return inpaint(generator, discriminator, images, known, options, progress=False)

    # One round: the paper's fill is a minute or more on a CPU, and its 1,500 steps
    # average themselves; the defaults' is a few seconds, of which a cold start is part.
    measure(
        fill,
        case=f"fill one face, {settings} ({describe(options, generator)})",
        path=path,
        items=1,
        unit="faces/s",
        rounds=1 if settings == "paper" else 3,
    )
    benchmark.extra_info["seconds_per_face"] = benchmark.stats.stats.median
