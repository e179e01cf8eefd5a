"""Adapters: what follows the z-search. ``adapt`` tunes a per-image copy of the generator.

No code z reproduces a face the DCGAN has never seen exactly (the representation error),
so the found ``G(z)`` leaves a seam against the known pixels. Image-adaptive GANs
(Hussein et al. 2020) and pivotal tuning (Roich et al. 2021) keep z fixed and tune the
weights instead, for image ``b`` alone::

    theta_b = argmin  objective(G_theta(z_b) | y_b, M_fit_b) + pull * drift(theta, theta_0)

with the search's own objective (context + prior) and ``drift`` the mean over all weights
of ``((theta - theta_0) / rms of theta_0's tensor)^2``: relative, so that a convolution
weight of ~0.03 and a batch-norm scale of ~1 are held alike, and dimensionless, so that
``pull`` is in context-loss units (an L1 sum) per unit of mean squared relative change.

Early stop: a seeded fraction of each image's known pixels is held out of ``M_fit`` and
never fitted. After every step the mean L1 error on them is measured; each image keeps
its images of lowest held-out error so far, counting step 0 (the untuned ``G(z)``), so
tuning never returns something worse there than no tuning. An image stops once it has not
improved for ``patience`` steps; the chunk, once all its images have.

All images of a chunk are tuned at once: the weights get a leading batch dimension and
``torch.func.vmap(functional_call)`` runs image ``b`` through its own slice (buffers, such
as batch norm's running statistics, shared; the model in eval mode). Summing the per-image
losses and stepping one Adam over the batched tensors is exactly per-image Adam, since
Adam is elementwise and each loss depends on its own slice alone. vmap turns the
convolutions into grouped ones, whose sums run in another order than one image's: an
image's result alone and in a batch agree to ~1e-6, not bit for bit. Measured on one CPU
core for the 64x64 DCGAN, 50 steps cost ~3.5 s per image one at a time and ~4 s per image
16 at once (there is no weight to share, so batching buys nothing on a CPU; it is for
GPUs), against ~4x that for a Python loop over per-image weights (the gradient of each
slice is a full-size tensor).
"""

from __future__ import annotations

import copy
from typing import Literal

import torch
from pydantic import Field
from torch import Tensor, nn
from torch.func import functional_call, vmap
from torch.nn.utils import parametrize

from inpaint_toolkit.core import runtime
from inpaint_toolkit.core.interfaces import Adapted, ObjectiveFn, Problem
from inpaint_toolkit.core.specs import NoOptions, Options, PluginSpec, hookimpl

# Defaults measured on 16 CelebA test faces with the packaged model after a 200-step
# z-search (weighted_l1+prior), centre hole and 80 % of pixels missing at random. Mean L1
# on [-1, 1], untuned -> tuned 50 steps (held-out pixels; hole against the true face):
#   lr 3e-4, pull 0:    centre held 0.292 -> 0.050, hole 0.144 -> 0.140;
#                       random held 0.117 -> 0.077, hole 0.128 -> 0.076
#   lr 3e-4, pull 1e4:  centre held -> 0.050, hole -> 0.134; random held -> 0.077, hole -> 0.076
#   lr 1e-4, pull 0:    centre held -> 0.061, hole -> 0.135; random held -> 0.078, hole -> 0.078
# lr 1e-3 fits the known pixels as fast but spoils the centre hole (0.166 -> 0.19 on 8
# faces; 1e-3 with pull 1e5 still 0.18); 3e-3 makes the held-out error worse from the
# first step, so the early stop returns G(z). pull 1e4 keeps the centre hole best at no
# cost elsewhere; pull 1e5 and more slow the fit and, against Adam's normalised steps,
# make the held-out error climb again after ~40 steps. The held-out error still falls at
# step 50 on centre holes (the early stop rarely fires at lr 3e-4), but the hole's error
# is lowest near step 50 and rises after that. After a learned start (the encoder), the
# sweep on 32 held-out faces x 5 masks (docs/results.md) found 20 steps better than 10 and
# than 50, and lr 3e-4 better than 1e-4: hence 20 steps.
DEFAULT_STEPS = 20
DEFAULT_LR = 3e-4
DEFAULT_PULL = 1e4
DEFAULT_HOLDOUT = 0.1
DEFAULT_PATIENCE = 10
DEFAULT_CHUNK = 16

# Fewer held-out pixels than this give too noisy an error to stop on: such an image (one
# with next to nothing known) is returned untuned.
MIN_HELD_OUT_PIXELS = 8


class AdaptOptions(Options):
    steps: int = Field(DEFAULT_STEPS, ge=1, le=10_000, description="most tuning steps")
    lr: float = Field(DEFAULT_LR, gt=0, le=1, description="Adam learning rate on the weights")
    pull: float = Field(
        DEFAULT_PULL,
        ge=0,
        description="weight of the pull towards the original weights, on the mean squared "
        "relative drift; the default is sized for the 5M-weight 64x64 face DCGAN",
    )
    holdout: float = Field(
        DEFAULT_HOLDOUT,
        gt=0,
        lt=1,
        description="fraction of each image's known pixels held out, never fitted, for the stop",
    )
    patience: int = Field(
        DEFAULT_PATIENCE, ge=1, description="steps without a better held-out error before stopping"
    )
    precision: Literal["auto", "fp32", "bf16"] = Field(
        "auto", description="auto: fp32 (bf16 was no faster on the CPU; CUDA's default is fp32)"
    )
    chunk: int = Field(
        DEFAULT_CHUNK,
        ge=1,
        description="images tuned at once; each holds ~4 copies of G's weights (~120 MB in "
        "all for the 64x64 DCGAN, measured)",
    )


def split_known(known: Tensor, fraction: float, seed: int) -> tuple[Tensor, Tensor]:
    """Split ``known`` ``(B, 1, H, W)`` into the pixels to fit and those held out.

    Image ``b`` holds out ``round(fraction * known pixels)`` of its known pixels, drawn
    with seed ``seed + b`` alone, so the split never depends on the batch.
    """
    flat = known.detach().flatten(1).cpu() > 0.5
    held = torch.zeros_like(flat)
    for b in range(flat.shape[0]):
        pixels = flat[b].nonzero().squeeze(1)
        count = round(fraction * len(pixels))
        order = torch.randperm(len(pixels), generator=torch.Generator().manual_seed(seed + b))
        held[b, pixels[order[:count]]] = True
    held = held.view_as(known).to(known.device, torch.float32)
    fit = (known.float() > 0.5).float() - held
    return fit, held


def held_out_l1(images: Tensor, target: Tensor, held: Tensor) -> Tensor:
    """Mean absolute error over the held-out pixels (and channels), ``(B,)``."""
    error = ((images - target).abs() * held).flatten(1).sum(1)
    return error / (held.flatten(1).sum(1) * images.shape[1]).clamp(min=1)


def weight_drift(weights: dict[str, Tensor], originals: dict[str, Tensor]) -> Tensor:
    """Mean over all weights of ``((w_b - w_0) / rms(w_0's tensor))^2``, per image: ``(B,)``.

    ``weights`` carry a leading batch dimension; ``originals`` do not.
    """
    total = sum(original.numel() for original in originals.values())
    drift = sum(
        (weights[name] - original).pow(2).flatten(1).sum(1) / _mean_square(original)
        for name, original in originals.items()
    )
    return drift / total


def drift_gradient(weight: Tensor, original: Tensor, total: int) -> Tensor:
    """d weight_drift / d weight for one tensor of ``total`` weights in all, written out:
    through autograd the pull cost a quarter of a step (three passes over every copy)."""
    return (weight - original) * (2.0 / (total * _mean_square(original)))


def _mean_square(original: Tensor) -> float:
    return max(original.pow(2).mean().item(), 1e-12)


def frozen_copy(generator: nn.Module) -> nn.Module:
    """A private eval-mode copy of ``generator``, so that the caller's (shared by every later
    call) keeps its weights, buffers, requires_grad flags and train/eval mode."""
    return copy.deepcopy(generator).eval().requires_grad_(False)


def _device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


class NoAdaptation:
    """``G(z)`` as the search found it, in fp32."""

    def __init__(self, options: NoOptions):
        pass

    def __call__(
        self, generator: nn.Module, z: Tensor, problem: Problem, objective: ObjectiveFn,
        *, seed: int
    ) -> Adapted:  # fmt: skip
        model = frozen_copy(generator)
        with torch.no_grad():
            return Adapted(model(z.to(_device(model))).float(), steps=0)


class GeneratorAdaptation:
    """Per-image fine-tuning of the generator's weights at the found z (see the module)."""

    def __init__(self, options: AdaptOptions):
        self.options = options

    def __call__(
        self, generator: nn.Module, z: Tensor, problem: Problem, objective: ObjectiveFn,
        *, seed: int
    ) -> Adapted:  # fmt: skip
        model = frozen_copy(generator)
        device = _device(model)
        z = z.detach().to(device)
        target = problem.target.to(device).float()
        with torch.no_grad():
            untuned = model(z).float()
        fit, held = split_known(problem.known.to(device), self.options.holdout, seed)
        tunable = (held.flatten(1).sum(1) >= MIN_HELD_OUT_PIXELS) & (fit.flatten(1).sum(1) > 0)
        images, steps = untuned.clone(), 0
        # D's weights are fixed: its spectral norm is computed once, not at every step.
        with parametrize.cached():
            for rows in tunable.nonzero().squeeze(1).split(self.options.chunk):
                if not len(rows):  # nothing to tune (split gives one empty chunk)
                    continue
                # A fresh Problem: its cache holds weights derived from the mask, here M_fit.
                chunk_problem = Problem(target[rows], fit[rows], problem.discriminator)
                images[rows], run = self._tune(
                    model, z[rows], untuned[rows], chunk_problem, held[rows], objective
                )
                steps = max(steps, run)
        return Adapted(images, steps)

    def _precision(self, device: torch.device) -> str:
        # autocast does not reach inside vmap's batching rules (they meet bf16 activations
        # with fp32 weights and fail), so bf16 casts the weights inside the mapped function.
        # auto is fp32: on the CPU grouped bf16 convolutions measured no faster, and on
        # CUDA fp32 is the runtime's choice everywhere.
        if self.options.precision == "auto":
            return "fp32"
        return runtime.resolve_precision(self.options.precision, device)

    def _tune(
        self,
        model: nn.Module,
        z: Tensor,
        untuned: Tensor,
        problem: Problem,
        held: Tensor,
        objective: ObjectiveFn,
    ) -> tuple[Tensor, int]:
        """Tune one chunk; returns each image's best images and the steps run."""
        o = self.options
        device = z.device
        precision = self._precision(device)
        originals = {name: p.detach() for name, p in model.named_parameters()}
        count = z.shape[0]
        weights = {
            name: p.expand(count, *p.shape).clone().requires_grad_(True)
            for name, p in originals.items()
        }
        total = sum(original.numel() for original in originals.values())
        # fused: one pass over the weights per step instead of foreach's dozen; Adam's step
        # was a third of the time on the CPU.
        optimizer = torch.optim.Adam(list(weights.values()), lr=o.lr, fused=True)
        render = _batched_render(model, precision)

        best_images = untuned.clone()
        best_error = held_out_l1(untuned, problem.target, held)
        stale = torch.zeros(count, dtype=torch.long, device=device)
        active = torch.ones(count, dtype=torch.bool, device=device)
        step = 0
        while True:
            last = step == o.steps
            with torch.set_grad_enabled(not last):
                images = render(weights, z).float()
            if step > 0:  # step 0 is the untuned G(z), measured above in fp32
                with torch.no_grad():
                    error = held_out_l1(images, problem.target, held)
                    better = active & (error < best_error)
                    best_error = torch.where(better, error, best_error)
                    best_images[better] = images.detach()[better]
                    stale = torch.where(better, 0, stale + 1)
                    # An image stops on its own count, never on its batch-mates'.
                    active &= stale < o.patience
            if last or not active.any():
                return best_images, step
            with runtime.autocast(device, precision):
                loss = objective(images, problem).float()
            # autograd.grad rather than backward: gradients reach the weight copies alone,
            # never the .grad of the discriminator the objective runs through.
            # allow_unused: a growing generator's retired to-RGB layers take no part; Adam
            # skips a weight whose grad is None, so they stay put.
            grads = torch.autograd.grad(loss.sum(), list(weights.values()), allow_unused=True)
            for (name, weight), grad in zip(weights.items(), grads, strict=True):
                if grad is not None and o.pull > 0:
                    drift = drift_gradient(weight.detach(), originals[name], total)
                    grad.add_(drift, alpha=o.pull)
                weight.grad = laid_out_like(weight, grad)
            optimizer.step()
            step += 1


def laid_out_like(weight: Tensor, grad: Tensor) -> Tensor:
    """``grad`` with ``weight``'s strides. Fused Adam on CUDA refuses a gradient laid out
    otherwise, and a channels_last model's per-image copies are permuted (dense, but not
    contiguous) while autograd may hand back another order."""
    if grad.stride() == weight.stride():
        return grad
    return torch.empty_like(weight).copy_(grad)


def _batched_render(model: nn.Module, precision: str):
    """``(weights with a leading batch dim, z (B, z_dim)) -> (B, C, H, W)``, image ``b``
    through its own weights."""
    buffers = dict(model.named_buffers())
    if precision == "bf16":
        buffers = {n: b.bfloat16() if b.is_floating_point() else b for n, b in buffers.items()}

    def one_image(weights: dict[str, Tensor], code: Tensor) -> Tensor:
        if precision == "bf16":  # fp32 master weights, bf16 arithmetic
            weights = {name: w.bfloat16() for name, w in weights.items()}
            code = code.bfloat16()
        return functional_call(model, (weights, buffers), (code.unsqueeze(0),)).squeeze(0)

    return vmap(one_image)


@hookimpl
def inpaint_adapters() -> list[PluginSpec]:
    return [
        PluginSpec("none", NoAdaptation, NoOptions, "no tuning: G(z) as the z-search found it"),
        PluginSpec(
            "adapt",
            GeneratorAdaptation,
            AdaptOptions,
            "per-image tuning of G's weights at the found z, early-stopped on held-out pixels",
        ),
    ]
