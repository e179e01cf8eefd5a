"""What the web page may ask for (the z-search's settings, bounded) and the server's limits.

The settings are :class:`~inpaint_toolkit.inpainting.inpaint.SearchOptions` with upper
bounds (a page must not be able to start an hour-long search by accident) and the loss
and optimiser expressions checked when the request arrives, so a typo is a 422 that names
the field instead of a job that fails later.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import Field, field_validator

from inpaint_toolkit.core.images import MAX_IMAGE_PIXELS
from inpaint_toolkit.inpainting.inpaint import SearchOptions, build_optimizer
from inpaint_toolkit.inpainting.search import Objective

MAX_ITERATIONS = 10_000
MAX_RESTARTS = 32
MAX_SAMPLES = 8


class ServeSettings(SearchOptions):
    """One repair's settings; the server's defaults fill in whatever a request leaves out."""

    # The page shows several versions: a few starts near the learned code, a short search
    # to let them part, then each tuned (run's default is one start and one step).
    iterations: int = Field(10, ge=1, le=MAX_ITERATIONS, description="z-search steps")
    restarts: int = Field(6, ge=1, le=MAX_RESTARTS, description="starting codes per face")
    samples: int = Field(
        3, ge=1, le=MAX_SAMPLES, description="repaired versions to show, best first"
    )
    blend: Literal["poisson", "overlay"] = Field(
        "poisson", description="poisson (match the colours around the hole) or overlay"
    )
    precision: Literal["auto", "fp32", "bf16"] = Field(
        "auto", description="auto (bf16 where fast), fp32 or bf16"
    )
    seed: int = Field(0, ge=0, le=2**31 - 1, description="random starting codes and grain")

    @field_validator("loss")
    @classmethod
    def _loss_parses(cls, text: str) -> str:
        try:
            Objective.parse(text)
        except Exception as exc:  # the expression language's own one-line message
            raise ValueError(str(exc)) from None
        return text

    @field_validator("optimizer")
    @classmethod
    def _optimizer_builds(cls, text: str) -> str:
        try:
            build_optimizer(text)
        except Exception as exc:
            raise ValueError(str(exc)) from None
        return text


@dataclass(frozen=True)
class Limits:
    """What one request, and the server's memory, may hold.

    ``max_body``: bytes of any request body (an upload, or a mask with its settings),
    refused with 413 before the body is read where Content-Length says so, and counted
    while it streams otherwise (50 MiB: a 40-megapixel JPEG, or a large PNG).
    ``max_pixels``: an image's width x height, checked from its header before it is
    decoded (the toolkit's limit for any image it reads: 40 MP, 120 MB as RGB).
    ``images`` and ``jobs``: how many uploads and finished jobs (each holding its K
    versions) stay in memory, least recently used going first; nothing is ever written
    to disk.
    """

    max_body: int = 50 * 1024 * 1024
    max_pixels: int = MAX_IMAGE_PIXELS
    images: int = 4
    jobs: int = 2
