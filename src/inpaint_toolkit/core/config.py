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
from typing import Annotated, Any, Literal, TypeVar

import tomllib
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from inpaint_toolkit.core.errors import InpaintError
from inpaint_toolkit.core.files import regular_file

Precision = Literal["auto", "fp32", "bf16"]
# Seeds are offset and multiplied (per image, per rank, per epoch) and must stay inside
# the 64 bits torch's generators take.
Seed = Annotated[int, Field(ge=0, lt=2**32, description="seed of every random draw")]


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


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
        values = read_toml(Path(path))
    values.update({key: value for key, value in overrides.items() if value is not None})
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise InpaintError(f"bad configuration: {describe_validation_error(exc)}") from None


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML file's table; a one-line error for a missing, unreadable or invalid file."""
    regular_file(path, str(path), noun="config file")
    try:
        text = path.read_bytes().decode("utf-8")
        values = tomllib.loads(text)
    except OSError as exc:
        raise InpaintError(
            f"{path}: cannot be read ({exc.strerror or type(exc).__name__})"
        ) from None
    except UnicodeDecodeError as exc:
        raise InpaintError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise InpaintError(f"{path}: not valid TOML ({' '.join(str(exc).split())})") from None
    except RecursionError:
        raise InpaintError(f"{path}: not valid TOML (nested too deeply)") from None
    if _holds_nul(values):  # no file name or plugin name holds one; open() would fail
        raise InpaintError(f"{path}: a setting holds a NUL character")
    return values


def _holds_nul(value: Any) -> bool:
    pending = [value]  # not recursive: TOML nests as deep as a file likes
    while pending:
        item = pending.pop()
        if isinstance(item, str) and "\0" in item:
            return True
        if isinstance(item, dict):
            pending += [*item.keys(), *item.values()]
        elif isinstance(item, list):
            pending += item
    return False


def describe_validation_error(exc: ValidationError) -> str:
    """pydantic's errors on one line, each with the field's dotted name."""
    return "; ".join(
        f"{'.'.join(_field_name(part) for part in error['loc']) or 'value'}: "
        + " ".join(error["msg"].split())
        for error in exc.errors()
    )


def _field_name(part: str | int) -> str:
    """A key as written when it is a plain name; quoted (so one line) when it is not."""
    return str(part) if isinstance(part, int) or part.isidentifier() else repr(part)
