"""Run configuration: pydantic models that reject unknown keys, loaded from TOML + flags.

Each command's model lives with its application (``training/config.py``,
``inpainting/config.py``, ...) and builds on ``Config`` here. A plugin's own options are not
spelt out in those models: they are a free dict that the plugin's options model validates
when the plugin is built, so adding a plugin never edits them.

Precedence: the model's defaults, then a TOML file (``--config``), then command-line flags.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar

import tomllib
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from inpaint_toolkit.core.errors import InpaintError

Precision = Literal["auto", "fp32", "bf16"]


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PluginChoice(Config):
    """A plugin by name, with the options its own model will validate."""

    name: str
    options: dict[str, Any] = Field(default_factory=dict)


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
