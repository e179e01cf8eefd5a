"""Semantic inpainting of a batch: the z-search, then blending G(z_hat) into the hole.

Images with nothing missing are copied as they are; images with nothing known are plain
generation (the search then has only the prior to go by). The ``dcgan`` inpainter plugin,
used by ``inpaint-toolkit eval``, wraps this for the comparison with classical methods.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from pydantic import Field
from torch import Tensor, nn

from inpaint_toolkit.core.specs import Options
from inpaint_toolkit.inpainting.blending import blend
from inpaint_toolkit.inpainting.search import Objective, SearchResult, StepCallback, search


class SearchOptions(Options):
    """What the z-search is told, shared by ``run``'s config and the ``dcgan`` inpainter."""

    loss: str = Field("weighted_l1+prior", description="loss expression, e.g. weighted_l1+prior")
    prior_weight: float | None = Field(
        None, ge=0, description="lambda: the prior term's weight (default 0.003)"
    )
    optimizer: str = Field("adam", description="z optimiser plugin, e.g. adam[lr=0.01]")
    iterations: int = Field(1500, ge=1, description="z-search steps (1,500 in the paper)")
    restarts: int = Field(1, ge=1, description="random starting codes per image")
    samples: int = Field(1, ge=1, description="best distinct fills kept per image")
    blend: str = Field("poisson", description="poisson or overlay")
    precision: str = Field("auto", description="auto (bf16 where fast), fp32 or bf16")
    patience: int | None = Field(
        None, ge=25, description="stop early after this many steps without improvement"
    )


@dataclass
class Inpainted:
    blended: Tensor  # (B, K, C, H, W): the fills blended into the damaged images
    search: SearchResult | None  # None when no image had a hole
    has_hole: Tensor  # (B,) bool: False for images copied as they were


def build_optimizer(text: str):
    from inpaint_toolkit.core.expressions import parse_choice
    from inpaint_toolkit.registry import get_registry

    choice = parse_choice(text)
    return get_registry().build("optimizer", choice.name, choice.options)


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
        iterations=options.iterations,
        restarts=options.restarts,
        samples=options.samples,
        seed=seed,
        precision=options.precision,
        patience=options.patience,
        progress=progress,
        on_step=on_step,
    )
    generated = result.generated.cpu()
    for k in range(options.samples):
        blended[index, k] = blend(
            options.blend, generated[:, k], images[index].cpu(), known[index].cpu()
        )
    return Inpainted(blended, result, has_hole)


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
