"""Run configuration: pydantic models that reject unknown keys, loaded from TOML + flags.

Each command has one model here. A plugin's own options are not spelt out in these
models: they are a free dict that the plugin's options model validates when the plugin is
built, so adding a plugin never edits this file.

Precedence: the model's defaults, then a TOML file (``--config``), then command-line flags.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar

import tomllib
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from inpaint_toolkit.core.inpainting import SearchOptions
from inpaint_toolkit.errors import InpaintError

Precision = Literal["auto", "fp32", "bf16"]


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PluginChoice(Config):
    """A plugin by name, with the options its own model will validate."""

    name: str
    options: dict[str, Any] = Field(default_factory=dict)


class TrainConfig(Config):
    data: list[str] = Field(min_length=1, description="npz files, image folders or CelebA roots")
    out: Path = Field(Path("runs/train"), description="folder for checkpoint, samples, plots")
    epochs: int = Field(25, ge=1)
    batch_size: int = Field(64, ge=2)
    lr: float = Field(2e-4, gt=0, description="Adam learning rate of G and D")
    beta1: float = Field(0.5, ge=0, lt=1)
    beta2: float = Field(0.999, ge=0, lt=1)
    flip: bool = Field(True, description="random horizontal flips")
    seed: int = 0
    generator: PluginChoice = PluginChoice(name="dcgan")
    discriminator: PluginChoice = PluginChoice(name="dcgan")
    image_size: int = Field(64, description="resize the data to this, and build models for it")
    precision: Precision = Field("auto", description="auto: bf16 autocast where it is fast")
    device: str = "auto"
    checkpoint_every: int = Field(200, ge=1, description="steps between checkpoints")
    time_limit_minutes: float | None = Field(None, gt=0, description="stop cleanly after this")
    resume: bool = False


ConfigT = TypeVar("ConfigT", bound=Config)


def load_config(
    model: type[ConfigT], path: str | Path | None, overrides: Mapping[str, Any]
) -> ConfigT:
    """Defaults < TOML file < overrides (flags the user actually gave, ``None`` = not given)."""
    values: dict[str, Any] = {}
    if path is not None:
        try:
            values = tomllib.loads(Path(path).read_text())
        except FileNotFoundError:
            raise InpaintError(f"{path}: no such config file") from None
        except tomllib.TOMLDecodeError as exc:
            raise InpaintError(f"{path}: not valid TOML ({exc})") from None
    values.update({key: value for key, value in overrides.items() if value is not None})
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise InpaintError(f"bad configuration: {describe_validation_error(exc)}") from None


def describe_validation_error(exc: ValidationError) -> str:
    """pydantic's errors on one line, each with the field's dotted name."""
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or 'value'}: {error['msg']}"
        for error in exc.errors()
    )


class RunConfig(SearchOptions):
    """``inpaint-toolkit run``: the z-search settings plus inputs, masks and outputs."""

    model_config = ConfigDict(extra="forbid", frozen=False)

    input: list[str] = Field(
        default_factory=list, description="images, folders or .npz; none: the demo face"
    )
    out: Path | None = Field(None, description="results folder (default: a new dated one)")
    generator: str = Field("dcgan", description="generator plugin the checkpoint must hold")
    checkpoint: str | None = Field(None, description="model checkpoint (default: packaged)")
    mask: str = Field("center", description="mask or damage plugin, e.g. half[side=top]")
    restarts: int = Field(8, ge=1, description="random starting codes per image")
    device: str = "auto"
    seed: int = 0
    batch_size: int = Field(16, ge=1, description="images per search batch (times restarts)")
