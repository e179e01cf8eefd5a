"""Spec records: what a plugin hook returns for each thing it provides, and the marker
that makes a function a hook implementation (``@hookimpl``).

They live in ``core`` because a plugin needs nothing else to declare itself: plugins
depend on ``core`` alone, and the registry (which collects them) on ``core`` too."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import pluggy
from pydantic import BaseModel, ConfigDict

PROJECT_NAME = "inpaint_toolkit"  # the pluggy project, and the entry-point group

hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

Kind = Literal[
    "generator", "discriminator", "loss", "mask", "optimizer", "initializer", "adapter", "inpainter"
]
KINDS: tuple[Kind, ...] = (
    "generator", "discriminator", "loss", "mask", "optimizer", "initializer", "adapter", "inpainter"
)  # fmt: skip


class Options(BaseModel):
    """Base of every plugin's options model: unknown keys are an error, values are checked
    (NaN and infinity are refused)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class NoOptions(Options):
    """For plugins that take no options."""


@dataclass(frozen=True)
class PluginSpec:
    """One named thing a plugin provides.

    ``factory(options)`` builds it from a validated instance of ``options``; the registry
    validates the user's raw option dict against ``options`` first, so a misspelt option
    fails before anything is built, with the option's name in the message.
    """

    name: str
    factory: Callable[[Any], Any]
    options: type[Options] = NoOptions
    description: str = ""

    def __post_init__(self) -> None:
        if not self.name.replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"plugin name {self.name!r} must be letters, digits, '_' or '-'")
