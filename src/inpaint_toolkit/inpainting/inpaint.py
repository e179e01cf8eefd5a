"""Semantic inpainting of a batch: the z-search, then (optionally) adapting the generator to
each image, then blending the result into the hole.

Images with nothing missing are copied as they are; images with nothing known are plain
generation (the search then has only the prior to go by). The ``dcgan`` inpainter plugin,
used by ``inpaint-toolkit eval``, wraps this for the comparison with classical methods.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import torch
from pydantic import Field, model_validator
from torch import Tensor, nn

from inpaint_toolkit.core.interfaces import Problem
from inpaint_toolkit.core.specs import Options
from inpaint_toolkit.inpainting.blending import blend
from inpaint_toolkit.inpainting.detail import DEFAULT_DETAIL, restore_detail
from inpaint_toolkit.inpainting.search import Objective, SearchResult, StepCallback, search

# The search's length by where it starts. From random codes: the paper's 1,500 steps, and
# 8 restarts (this toolkit's default before the learned start). From a learned encoder's
# code: one step and one start, then generator adaptation; measured on 32 held-out faces,
# a longer search or more restarts only made the holes worse (docs/results.md, the sweep):
# the search fits the known pixels at the hole's expense, which the encoder, trained on
# whole faces, does not.
PAPER_ITERATIONS, PAPER_RESTARTS = 1500, 8
LEARNED_START_ITERATIONS, LEARNED_START_RESTARTS = 1, 1

# The seed paper's method exactly (and this toolkit's defaults before the learned
# initialiser and adaptation): random starts, 1,500 Adam steps, 8 restarts, Poisson blending.
PRESETS: dict[str, dict[str, Any]] = {
    "paper": {
        "init": "random",
        "adapt": "none",
        "iterations": PAPER_ITERATIONS,
        "restarts": PAPER_RESTARTS,
        "loss": "weighted_l1+prior",
        "optimizer": "adam",
        "blend": "poisson",
        "detail": 0.0,
    }
}


class SearchOptions(Options):
    """What the z-search is told, shared by ``run``'s config and the ``dcgan`` inpainter.

    A ``preset`` fills in every setting it names that was not given: settings given beside
    it (flags, TOML, options in brackets) still apply on top.
    """

    preset: Literal["paper"] | None = Field(
        None, description="paper: the seed paper's method exactly (settings given still apply)"
    )
    init: str = Field("auto", description="initializer plugin: auto, encoder or random")
    adapt: str = Field("adapt", description="adapter plugin after the search: adapt or none")

    loss: str = Field("weighted_l1+prior", description="loss expression, e.g. weighted_l1+prior")
    prior_weight: float | None = Field(
        None, ge=0, description="lambda: the prior term's weight (default 0.003)"
    )
    optimizer: str = Field("adam", description="z optimiser plugin, e.g. adam[lr=0.01]")
    iterations: int | None = Field(
        None,
        ge=1,
        description="z-search steps; default 1 from a learned start, 1,500 (the paper's) from "
        "random codes",
    )
    restarts: int | None = Field(
        None,
        ge=1,
        description="starting codes per image; default 1 from a learned start, 8 from random",
    )
    samples: int = Field(1, ge=1, description="best distinct fills kept per image")
    blend: str = Field("poisson", description="poisson or overlay")
    detail: float = Field(
        DEFAULT_DETAIL,
        ge=0,
        le=4,
        description="gain on the fill's finest band before blending, giving back the detail "
        "the search averages away; 0: the fill as generated",
    )
    precision: str = Field("auto", description="auto (bf16 where fast), fp32 or bf16")
    patience: int | None = Field(
        None, ge=25, description="stop early after this many steps without improvement"
    )

    @model_validator(mode="before")
    @classmethod
    def _fill_in_preset(cls, values: Any) -> Any:
        preset = values.get("preset") if isinstance(values, dict) else None
        if isinstance(preset, str) and preset in PRESETS:
            return {**PRESETS[preset], **values}
        return values  # an unknown preset is then refused by the field's own check

    @model_validator(mode="after")
    def _enough_restarts(self) -> SearchOptions:
        if self.restarts is not None and self.samples > self.restarts:
            raise ValueError(
                f"samples ({self.samples}) needs at least as many restarts ({self.restarts})"
            )
        return self


@dataclass
class Inpainted:
    blended: Tensor  # (B, K, C, H, W): the fills blended into the damaged images
    search: SearchResult | None  # None when no image had a hole; .generated: what was blended
    has_hole: Tensor  # (B,) bool: False for images copied as they were
    adapt_steps: int = 0  # generator adaptation steps run (0: none)


def build_plugin(kind: str, text: str) -> Any:
    """A plugin of ``kind`` from its text, e.g. ``adam[lr=0.01]``."""
    from inpaint_toolkit.core.expressions import parse_choice
    from inpaint_toolkit.registry import get_registry

    choice = parse_choice(text)
    return get_registry().build(kind, choice.name, choice.options)


def build_optimizer(text: str):
    return build_plugin("optimizer", text)


def inpaint(
    generator: nn.Module,
    discriminator: nn.Module | None,
    images: Tensor,
    known: Tensor,
    options: SearchOptions,
    *,
    seed: int = 0,
    progress: bool = True,
    on_step: StepCallback | None = None,
) -> Inpainted:
    """Repair ``images`` (damaged, in [-1, 1]) where ``known`` is 0; ``on_step`` as in
    :func:`~inpaint_toolkit.inpainting.search.search`."""
    objective = Objective.parse(options.loss, prior_weight=options.prior_weight)
    optimizer = build_optimizer(options.optimizer)
    initializer = build_plugin("initializer", options.init)
    adapter = build_plugin("adapter", options.adapt)
    iterations, restarts = search_length(options, initializer, generator)
    known = known.float()
    has_hole = (known < 0.5).flatten(1).any(1)
    blended = images[:, None].repeat(1, options.samples, 1, 1, 1).float().cpu()
    if not has_hole.any():
        return Inpainted(blended, None, has_hole)
    device = next(generator.parameters()).device
    index = has_hole.nonzero().squeeze(1)
    result = search(
        generator,
        images[index].to(device),
        known[index].to(device),
        objective,
        optimizer,
        discriminator=discriminator,
        initializer=initializer,
        iterations=iterations,
        restarts=restarts,
        samples=options.samples,
        seed=seed,
        precision=options.precision,
        patience=options.patience,
        progress=progress,
        on_step=on_step,
    )
    adapt_steps = 0
    if options.adapt != "none":  # each kept code gets its own tuned copy of G
        batch, kept = result.z.shape[:2]
        target = images[index].to(device)
        problem = Problem(
            target.repeat_interleave(kept, 0),
            known[index].to(device).repeat_interleave(kept, 0),
            discriminator,
        )
        adapted = adapter(generator, result.z.flatten(0, 1), problem, objective, seed=seed)
        result.generated = adapted.images.float().view_as(result.generated)
        adapt_steps = adapted.steps
    result.generated = restore_detail(result.generated, options.detail)
    generated = result.generated.cpu()
    for k in range(options.samples):
        blended[index, k] = blend(
            options.blend, generated[:, k], images[index].cpu(), known[index].cpu()
        )
    return Inpainted(blended, result, has_hole, adapt_steps)


def search_length(
    options: SearchOptions, initializer: Any, generator: nn.Module
) -> tuple[int, int]:
    """Iterations and restarts: as given, or by where the search starts (see above). An
    initializer says its codes are already near the answer with ``learned_for(generator)``."""
    learned_for = getattr(initializer, "learned_for", None)
    learned = bool(learned_for(generator)) if learned_for is not None else False
    iterations = LEARNED_START_ITERATIONS if learned else PAPER_ITERATIONS
    restarts = LEARNED_START_RESTARTS if learned else PAPER_RESTARTS
    return options.iterations or iterations, options.restarts or max(restarts, options.samples)


class ZSearchOptions(SearchOptions):
    checkpoint: str | None = Field(None, description="model checkpoint (default: packaged)")
    device: str = Field("auto", description="auto, cpu or cuda")
    batch_size: int = Field(64, ge=1, description="images per search batch")


class ZSearchInpainter:
    """The paper's method as a whole-method plugin; the model loads on first use."""

    def __init__(self, options: ZSearchOptions):
        self.options = options
        self._models: tuple[nn.Module, nn.Module | None] | None = None

    def models(self) -> tuple[nn.Module, nn.Module | None]:
        if self._models is None:
            from inpaint_toolkit.core.runtime import resolve_device
            from inpaint_toolkit.models import load_models

            needs_d = Objective.parse(self.options.loss).needs_discriminator
            g, d, _ = load_models(
                self.options.checkpoint,
                need_discriminator=needs_d,
                device=resolve_device(self.options.device),
            )
            self._models = (g, d)
        return self._models

    def inpaint(self, images: Tensor, known: Tensor, *, seed: int = 0) -> Tensor:
        g, d = self.models()
        size = self.options.batch_size
        parts = [
            inpaint(
                g,
                d,
                images[i : i + size],
                known[i : i + size],
                self.options,
                seed=seed + i,
                progress=False,
            ).blended[:, 0]
            for i in range(0, images.shape[0], size)
        ]
        return torch.cat(parts)
