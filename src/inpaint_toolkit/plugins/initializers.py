"""Where the z-search starts: the paper's random codes, or a learned encoder's guess.

``random`` draws every restart uniformly from the prior, as Yeh et al. do. ``encoder``
asks a network trained for the generator (``inpaint-toolkit train-encoder``) for one code
per image; the first restart starts there, the others at that code moved by Gaussian
noise of ``spread`` (clipped to the prior's range), so restarts still explore nearby
basins instead of all repeating one path. ``auto`` (the default) is ``encoder`` where
the packaged encoder was trained for the generator in use, and ``random`` elsewhere (a
model of your own), with a notice saying so.
"""

from __future__ import annotations

import weakref

import torch
from pydantic import Field
from torch import Tensor, nn

from inpaint_toolkit.core.errors import InpaintError
from inpaint_toolkit.core.notices import notice
from inpaint_toolkit.core.specs import NoOptions, Options, PluginSpec, hookimpl
from inpaint_toolkit.models.encoder import Encoder, load_encoder


def _device(generator: nn.Module) -> torch.device:
    return next(generator.parameters()).device


class RandomStart:
    """Uniform codes from the prior; image b's restarts come from seed + b alone."""

    def __init__(self, options: NoOptions | None = None):
        pass

    def learned_for(self, generator: nn.Module) -> bool:
        return False  # far from the answer: the search needs the paper's length

    def __call__(
        self, generator: nn.Module, target: Tensor, known: Tensor, *, restarts: int, seed: int
    ) -> Tensor:
        device = _device(generator)
        return torch.cat(
            [
                generator.sample_z(
                    restarts, generator=torch.Generator().manual_seed(seed + b), device=device
                )
                for b in range(target.shape[0])
            ]
        )


class AutoOptions(Options):
    spread: float = Field(
        0.25, ge=0, description="noise scale of the restarts after the first, around its code"
    )


class EncoderOptions(AutoOptions):
    checkpoint: str | None = Field(
        None, description="encoder file (default: the one packaged for the packaged model)"
    )


class EncoderStart:
    """The encoder's code for each image, and noisy copies of it for further restarts."""

    def __init__(self, options: EncoderOptions | None = None):
        self.options = options or EncoderOptions()
        self._loaded: tuple[int, Encoder] | None = None  # (id of its generator, encoder)

    def learned_for(self, generator: nn.Module) -> bool:
        return True  # near the answer already: a short search, then adaptation

    def encoder_for(self, generator: nn.Module) -> Encoder:
        if self._loaded is None or self._loaded[0] != id(generator):
            encoder = load_encoder(self.options.checkpoint, generator, device=_device(generator))
            self._loaded = (id(generator), encoder)
        return self._loaded[1]

    def __call__(
        self, generator: nn.Module, target: Tensor, known: Tensor, *, restarts: int, seed: int
    ) -> Tensor:
        encoder = self.encoder_for(generator)
        device = _device(generator)
        with torch.no_grad():  # eval mode: each image's code is its own, whatever the batch
            guess = encoder(target.to(device).float(), known.to(device).float())
        codes = guess.repeat_interleave(restarts, 0)
        if restarts > 1:
            noise = torch.cat(
                [
                    torch.randn(
                        restarts - 1,
                        guess.shape[1],
                        generator=torch.Generator().manual_seed(seed + b),
                    )
                    for b in range(guess.shape[0])
                ]
            ).to(device)
            moved = codes.view(guess.shape[0], restarts, -1)[:, 1:]
            moved += self.options.spread * noise.view_as(moved)
        low, high = generator.z_range
        return codes.clamp(low, high)


_TOLD: weakref.WeakSet[nn.Module] = weakref.WeakSet()  # generators told there is no encoder


class AutoStart:
    """The packaged encoder if it fits the generator, random codes if not."""

    def __init__(self, options: AutoOptions | None = None):
        self.encoder = EncoderStart(EncoderOptions(spread=(options or AutoOptions()).spread))
        self.random = RandomStart()
        self._fits: tuple[int, bool] | None = None  # (id of the generator, encoder fits)

    def learned_for(self, generator: nn.Module) -> bool:
        if self._fits is None or self._fits[0] != id(generator):
            try:
                self.encoder.encoder_for(generator)
                self._fits = (id(generator), True)
            except InpaintError:
                if generator not in _TOLD:  # once per model, not once per batch
                    _TOLD.add(generator)
                    notice(
                        "no encoder was trained for this generator: the search starts from "
                        "random codes (train one with 'inpaint-toolkit train-encoder')"
                    )
                self._fits = (id(generator), False)
        return self._fits[1]

    def __call__(
        self, generator: nn.Module, target: Tensor, known: Tensor, *, restarts: int, seed: int
    ) -> Tensor:
        start = self.encoder if self.learned_for(generator) else self.random
        return start(generator, target, known, restarts=restarts, seed=seed)


@hookimpl
def inpaint_initializers() -> list[PluginSpec]:
    return [
        PluginSpec(
            "auto",
            AutoStart,
            AutoOptions,
            "encoder where one was trained for the generator, random otherwise (the default)",
        ),
        PluginSpec("random", RandomStart, NoOptions, "uniform codes from the prior (the paper's)"),
        PluginSpec(
            "encoder",
            EncoderStart,
            EncoderOptions,
            "a learned encoder's code for the damaged image (train-encoder), plus noisy copies",
        ),
    ]
