"""``inpaint-toolkit run``'s settings: the z-search's, plus inputs, masks and outputs."""

from __future__ import annotations

from pathlib import Path

from pydantic import ConfigDict, Field

from inpaint_toolkit.core.config import Seed
from inpaint_toolkit.inpainting.inpaint import SearchOptions


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
    device: str = "auto"
    seed: Seed = 0
    batch_size: int = Field(16, ge=1, description="images per search batch (times restarts)")
    align: bool = Field(
        True,
        description="find and align the faces of photographs; off: centre-crop and resize",
    )
    face: int | None = Field(
        None, ge=0, description="repair only this face of each photograph (0: the largest)"
    )
