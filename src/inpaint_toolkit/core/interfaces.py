"""The plugin interfaces of the z-search, and the whole-method one.

They are ``typing.Protocol``s: a plugin satisfies one by shape, with no base class to
inherit. Generators and discriminators are plain ``torch.nn.Module``s with a few
attributes. Conventions everywhere:

* images are float tensors ``(B, 3, H, W)`` in ``[-1, 1]`` (the generator's tanh range);
* a mask is ``known``: ``(B, 1, H, W)``, 1.0 where the pixel is known, 0.0 in the hole.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import torch
from torch import Tensor


@runtime_checkable
class Generator(Protocol):
    """z -> image. ``z`` is ``(B, z_dim)`` drawn uniformly from ``z_range``."""

    z_dim: int
    image_size: int
    z_range: tuple[float, float]

    def __call__(self, z: Tensor) -> Tensor: ...

    def sample_z(
        self, n: int, *, generator: torch.Generator | None = None, device: Any = None
    ) -> Tensor:
        """``n`` codes on ``device``; the same ``generator`` seed gives the same codes on
        every device (draw where the generator lives, then move)."""
        ...


@runtime_checkable
class Discriminator(Protocol):
    """image -> realness logit, one per image: ``(B, 3, H, W) -> (B,)``."""

    image_size: int

    def __call__(self, images: Tensor) -> Tensor: ...


@runtime_checkable
class GrowingModel(Protocol):
    """A generator or discriminator that changes as training goes on (progressive growing).

    The training loop calls ``set_training_progress`` before every step with the fraction
    of the run done, in [0, 1); the model derives everything (its current resolution, a
    fade-in weight) from that number alone, so a run resumed at any step, mid-fade
    included, continues exactly. Outside training a model is used as last told; a loaded
    model is told where its file's run stopped (a finished run: 1).
    """

    def set_training_progress(self, fraction: float) -> None: ...


@runtime_checkable
class TrainingRecipe(Protocol):
    """A generator or discriminator that needs its own optimiser settings.

    ``training_defaults`` maps ``train`` settings (``lr``, ``beta1``, ``beta2``, ...) to the
    values the model trains well with; ``train`` uses them for every setting the user did
    not give (flag or TOML), and the run's log and checkpoint record what was used.
    """

    training_defaults: Mapping[str, Any]


@dataclass
class Problem:
    """What the z-search is asked to repair: damaged images and what of them is known.

    ``cache`` lets a loss compute something from the mask once per search (the weighted
    context loss's weights) instead of at every one of the 1,500 steps.
    """

    target: Tensor
    known: Tensor
    discriminator: Discriminator | None = None
    cache: dict[str, Tensor] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.target.dim() != 4 or self.known.dim() != 4:
            raise ValueError("target must be (B, C, H, W) and known (B, 1, H, W)")
        if self.known.shape[0] != self.target.shape[0] or self.known.shape[1] != 1:
            raise ValueError(
                f"known mask {tuple(self.known.shape)} does not fit "
                f"target {tuple(self.target.shape)}"
            )
        if self.known.shape[-2:] != self.target.shape[-2:]:
            raise ValueError(
                f"known mask is {tuple(self.known.shape[-2:])}, images are "
                f"{tuple(self.target.shape[-2:])}"
            )


@runtime_checkable
class Loss(Protocol):
    """One term of the z-search objective: one value per image, ``(B,)``.

    ``default_weight`` is the term's weight when the loss expression gives none (the
    prior's is the paper's lambda = 0.003); ``needs_discriminator`` asks the search for D.
    """

    default_weight: float
    needs_discriminator: bool

    def __call__(self, generated: Tensor, problem: Problem) -> Tensor: ...


@dataclass
class Damaged:
    """Images with damage, and the mask of what the damage left known."""

    images: Tensor
    known: Tensor


@runtime_checkable
class MaskSource(Protocol):
    """Makes masks (or draws damage) for a batch of clean images, reproducibly.

    A pure mask returns the images with the hole greyed out (0.0); a damage (noise,
    text, ...) returns the images as drawn over, with the mask of what it covered.
    """

    def __call__(self, images: Tensor, generator: torch.Generator) -> Damaged: ...


@runtime_checkable
class Optimizer(Protocol):
    """Builds the torch optimiser that moves the latent codes."""

    def build(self, params: list[Tensor]) -> torch.optim.Optimizer: ...


@runtime_checkable
class Initializer(Protocol):
    """The z-search's starting codes: ``(B * restarts, z_dim)``, image ``b``'s restarts in
    rows ``b * restarts`` to ``b * restarts + restarts - 1``.

    Image ``b``'s codes must depend on image ``b`` and ``seed + b`` alone, so that a result
    never depends on the batch an image was in. An initializer may also have
    ``learned_for(generator) -> bool``: True when its codes are already near the answer,
    so that the default search is short (one step, one start) instead of the paper's.
    """

    def __call__(
        self, generator: Generator, target: Tensor, known: Tensor, *, restarts: int, seed: int
    ) -> Tensor: ...


ObjectiveFn = Callable[[Tensor, Problem], Tensor]  # (images, problem) -> loss per image


@dataclass
class Adapted:
    """What an adapter returns: the images of each image's own tuned generator."""

    images: Tensor  # (B, C, H, W), in [-1, 1]
    steps: int  # tuning steps run (fewer than asked when the early stop ended it)


@runtime_checkable
class Adapter(Protocol):
    """Runs after the z-search: tunes a per-image copy of the generator so that ``G(z)``
    matches that image's known pixels better than any code can (the representation
    error). ``z`` is ``(B, z_dim)``, one found code per image of ``problem``; ``objective``
    is the search's own (context + prior). ``generator`` itself must never change.
    """

    def __call__(
        self, generator: Generator, z: Tensor, problem: Problem, objective: ObjectiveFn,
        *, seed: int
    ) -> Adapted: ...  # fmt: skip


@runtime_checkable
class Inpainter(Protocol):
    """A whole inpainting method (the DCGAN z-search, or a classical baseline).

    ``images`` are the damaged images in [-1, 1]; the result has the same shape, with the
    known pixels kept.
    """

    def inpaint(self, images: Tensor, known: Tensor, *, seed: int = 0) -> Tensor: ...
