"""The z-search of semantic inpainting (Yeh et al. 2017, eq. 4)::

    z_hat = argmin_z  sum_k  w_k * L_k(z | y, M)        (context + lambda * prior)

Plain torch, top to bottom. B images, each with its own mask, times R random restarts
are optimised as one batch of B*R codes. That is exact, not an approximation: the models
are in eval mode (batch norm from running statistics), every loss is per image, and Adam
and SGD update each element of z on its own, so a code's path never depends on its
batch-mates. After every step z is clipped back into the prior's range. At the end each
image keeps its lowest-loss restart, or its ``samples`` best distinct ones.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize
from tqdm import tqdm

from inpaint_toolkit.core import runtime
from inpaint_toolkit.core.errors import InpaintError
from inpaint_toolkit.core.expressions import parse_loss_expression
from inpaint_toolkit.core.interfaces import Initializer, Loss, Optimizer, Problem
from inpaint_toolkit.core.notices import notice

# Two fills whose hole pixels differ by less than this (mean absolute, on [-1, 1]) are
# the same fill for --samples: restarts often converge to one basin.
DISTINCT_FILL_THRESHOLD = 0.02


@dataclass(frozen=True)
class Term:
    weight: float
    name: str
    loss: Loss


class Objective:
    """A weighted sum of loss plugins, built from an expression like ``weighted_l1+prior``."""

    def __init__(self, terms: list[Term]):
        if not terms:
            raise InpaintError("the objective has no loss term")
        self.terms = terms

    @classmethod
    def parse(cls, expression: str, *, prior_weight: float | None = None) -> Objective:
        """``prior_weight`` (the CLI's --lambda) replaces the prior term's weight."""
        from inpaint_toolkit.registry import get_registry

        registry = get_registry()
        terms = []
        for term in parse_loss_expression(expression):
            loss = registry.build("loss", term.name, term.options)
            weight = term.weight if term.weight is not None else loss.default_weight
            if term.name == "prior" and prior_weight is not None:
                weight = prior_weight
            terms.append(Term(weight, term.name, loss))
        return cls(terms)

    @property
    def needs_discriminator(self) -> bool:
        return any(term.loss.needs_discriminator for term in self.terms)

    def __str__(self) -> str:
        return " + ".join(f"{term.weight:g}*{term.name}" for term in self.terms)

    def __call__(self, generated: Tensor, problem: Problem) -> Tensor:
        """Total loss per image, ``(B,)``."""
        total = torch.zeros(generated.shape[0], device=generated.device)
        for term in self.terms:
            total = total + term.weight * term.loss(generated, problem).float()
        return total


StepCallback = Callable[[int, int], "bool | None"]  # (steps done, total) -> False: stop


class SearchCancelled(InpaintError):
    """The caller's ``on_step`` asked the search to stop; nothing is returned."""


@dataclass
class SearchResult:
    z: Tensor  # (B, K, z_dim): the K kept codes per image, best first
    generated: Tensor  # (B, K, C, H, W): G(z) in fp32, in [-1, 1]
    loss: Tensor  # (B, K): final objective of each kept code
    history: Tensor  # (iterations, B): objective of each image's best restart, per step
    iterations: int  # steps actually run (fewer if stopped early)
    seconds: float
    precision: str


def search(
    generator: nn.Module,
    target: Tensor,
    known: Tensor,
    objective: Objective,
    optimizer: Optimizer,
    *,
    discriminator: nn.Module | None = None,
    initializer: Initializer | None = None,
    iterations: int = 1500,
    restarts: int = 1,
    samples: int = 1,
    seed: int = 0,
    precision: str = "auto",
    patience: int | None = None,
    progress: bool = True,
    on_step: StepCallback | None = None,
) -> SearchResult:
    """Find, for each damaged image ``target`` with mask ``known``, the code z_hat.

    Image ``b``'s restarts start from the ``initializer``'s codes (default: the paper's
    uniform random ones), drawn with seed ``seed + b``. ``on_step(done,
    total)`` is called after every step (a web page's progress bar); if it returns False
    the search stops and raises ``SearchCancelled``.
    """
    if samples > restarts:
        raise InpaintError(f"--samples {samples} needs at least as many restarts (got {restarts})")
    if objective.needs_discriminator and discriminator is None:
        raise InpaintError("the prior loss needs a discriminator, and the model has none")
    device = next(generator.parameters()).device
    precision = runtime.resolve_precision(precision, device)
    memory_format = runtime.memory_format(device, precision)
    generator.eval()
    if discriminator is not None:
        discriminator.eval()
    for model in (generator, discriminator):
        if model is not None:
            model.requires_grad_(False)  # gradients flow to z only
            model.to(memory_format=memory_format)

    batch = target.shape[0]
    # Image b's restarts are rows b*R .. b*R + R-1.
    problem = Problem(
        target.to(device).repeat_interleave(restarts, 0),
        known.to(device).float().repeat_interleave(restarts, 0),
        discriminator,
    )
    if initializer is None:
        from inpaint_toolkit.registry import get_registry

        initializer = get_registry().build("initializer", "random")
    # Image b's starting codes come from seed + b alone, so they do not depend on the batch.
    z = initializer(generator, target, known, restarts=restarts, seed=seed)
    z = z.detach().to(device).float().clone().requires_grad_(True)

    low, high = generator.z_range
    opt = optimizer.build([z])
    history = []
    best, stale = float("inf"), 0
    started = time.perf_counter()
    # The models' weights are fixed during the search: a parametrised weight (D's spectral
    # norm) is computed once instead of at every step, which halves D's cost.
    with parametrize.cached():
        bar = tqdm(
            range(iterations), disable=not progress, unit="it", leave=False, dynamic_ncols=True
        )
        for step in bar:
            with runtime.autocast(device, precision):
                generated = generator(z)
                loss = objective(generated.float(), problem)
            opt.zero_grad(set_to_none=True)
            loss.sum().backward()  # sum: each code's gradient is that of its own loss
            opt.step()
            with torch.no_grad():
                z.clamp_(low, high)  # stay inside the prior's support
            history.append(loss.detach().view(batch, restarts).min(1).values)
            if on_step is not None and on_step(step + 1, iterations) is False:
                bar.close()
                raise SearchCancelled(f"cancelled after {step + 1} of {iterations} iterations")
            if step % 25 == 0 or step == iterations - 1:
                mean_loss = history[-1].mean().item()
                bar.set_postfix(loss=f"{mean_loss:.2f}")
                if patience is not None:
                    if mean_loss < best * (1 - 1e-4):
                        best, stale = mean_loss, 0
                    else:
                        stale += 25
                        if stale >= patience:
                            notice(
                                f"loss stopped improving: early stop after {step + 1} iterations"
                            )
                            break
        bar.close()

        # Final, exact evaluation in fp32 at the codes we end with, to rank the restarts.
        with torch.no_grad():
            final_images = generator(z.detach()).float()
            final_loss = objective(final_images, problem).view(batch, restarts)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - started
    keep = _keep_distinct(
        final_images.view(batch, restarts, *final_images.shape[1:]),
        final_loss,
        known.to(device),
        samples,
    )
    rows = torch.arange(batch, device=device)[:, None]
    return SearchResult(
        z=z.detach().view(batch, restarts, -1)[rows, keep],
        generated=final_images.view(batch, restarts, *final_images.shape[1:])[rows, keep],
        loss=final_loss[rows, keep],
        history=torch.stack(history).float().cpu(),
        iterations=len(history),
        seconds=seconds,
        precision=precision,
    )


def _keep_distinct(images: Tensor, loss: Tensor, known: Tensor, samples: int) -> Tensor:
    """Indices ``(B, samples)`` of each image's best restarts whose fills differ.

    Greedy by loss; a restart whose hole is within DISTINCT_FILL_THRESHOLD of one kept
    already is skipped while others remain; if too few are distinct, the best of the rest
    make up the number.
    """
    order = loss.argsort(1)
    if samples == 1:
        return order[:, :1]
    hole = 1.0 - known.float()  # (B, 1, H, W)
    hole_size = hole.flatten(1).sum(1).clamp(min=1)
    chosen = []
    for b in range(images.shape[0]):
        kept: list[int] = []
        for index in order[b].tolist():
            fill = images[b, index]
            if all(
                ((fill - images[b, k]).abs() * hole[b]).sum() / (3 * hole_size[b])
                > DISTINCT_FILL_THRESHOLD
                for k in kept
            ):
                kept.append(index)
            if len(kept) == samples:
                break
        rest = [i for i in order[b].tolist() if i not in kept]
        chosen.append(kept + rest[: samples - len(kept)])
    return torch.tensor(chosen, device=loss.device)
