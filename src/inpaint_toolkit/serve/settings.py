"""What the web page may ask for (the z-search's settings, bounded) and the server's limits.

The settings are :class:`~inpaint_toolkit.inpainting.inpaint.SearchOptions` with upper
bounds (a page must not be able to start an hour-long search by accident) and every
plugin expression (loss, optimiser, initializer, adapter) checked when the request
arrives, so a typo is a 422 that names the field instead of a job that fails later.

A request may give a plugin numbers, switches and fixed words, never text: a plugin's
text option can be a file's path (``encoder[checkpoint=/any/file]``), and which files the
server opens is chosen by whoever starts it, not by whoever can reach the page.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from inpaint_toolkit.core.expressions import parse_choice, parse_loss_expression
from inpaint_toolkit.core.images import MAX_IMAGE_PIXELS
from inpaint_toolkit.core.specs import Kind
from inpaint_toolkit.inpainting.inpaint import SearchOptions, build_plugin
from inpaint_toolkit.inpainting.search import Objective
from inpaint_toolkit.registry import get_registry

MAX_ITERATIONS = 10_000
MAX_RESTARTS = 32
MAX_SAMPLES = 8
MAX_SEED = 2**31 - 1  # for the settings and the presets alike

# The settings that name a plugin, and the plugin's kind.
PLUGIN_SETTINGS: dict[str, Kind] = {
    "init": "initializer",
    "adapt": "adapter",
    "optimizer": "optimizer",
}
# Option values that cannot be a file's name.
_NOT_TEXT = (int, float, bool, type(None))


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
    seed: int = Field(0, ge=0, le=MAX_SEED, description="random starting codes and grain")

    @field_validator("loss")
    @classmethod
    def _loss_parses(cls, text: str) -> str:
        try:
            for term in parse_loss_expression(text):
                refuse_text_options("loss", term.name, term.options)
            Objective.parse(text)
        except Exception as exc:  # the expression language's own one-line message
            raise ValueError(str(exc)) from None
        return text

    @field_validator(*PLUGIN_SETTINGS)
    @classmethod
    def _plugin_builds(cls, text: str, info: ValidationInfo) -> str:
        kind = PLUGIN_SETTINGS[info.field_name]
        try:
            choice = parse_choice(text)
            refuse_text_options(kind, choice.name, choice.options)
            build_plugin(kind, text)  # cheap: a plugin loads its files when first used
        except Exception as exc:
            raise ValueError(str(exc)) from None
        return text


def refuse_text_options(kind: Kind, name: str, options: Mapping[str, Any]) -> None:
    """Refuse (ValueError) any option of plugin ``name`` that takes text, such as a path."""
    model = get_registry().get(kind, name).spec.options
    for key in options:
        field = model.model_fields.get(key)
        if field is not None and _may_hold_text(field.annotation):
            raise ValueError(
                f"option {key!r} of {kind} {name!r} takes text such as a file's path, which "
                "the page may not choose; files are chosen by whoever starts the server"
            )


def _may_hold_text(annotation: Any) -> bool:
    """Whether a field of this type could hold text (anything but numbers, switches,
    fixed words, and lists of them)."""
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return False
    if origin is None:
        return annotation not in _NOT_TEXT
    if origin in (typing.Union, types.UnionType, list, tuple):
        return any(_may_hold_text(arg) for arg in typing.get_args(annotation) if arg is not ...)
    return True  # a mapping, a model or anything else: it may hold text somewhere


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
