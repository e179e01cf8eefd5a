"""The JSON the API takes and gives, as pydantic models (they are its OpenAPI schema)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Base64Bytes, BaseModel, ConfigDict, Field

from inpaint_toolkit.serve.settings import ServeSettings


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FaceRecord(Strict):
    box: list[int] = Field(description="x, y, width, height of the face, in photo pixels")
    left_eye: list[float] = Field(description="x, y of the eye on the image's left")
    right_eye: list[float]
    crop_outline: list[list[float]] = Field(
        description="the four corners (x, y) of the square the model repairs, clockwise"
    )


class Upload(Strict):
    id: str = Field(description="the image id for the calls below")
    width: int
    height: int
    greyscale: bool = Field(description="the file was grey; results are written grey too")
    faces: list[FaceRecord] = Field(description="largest first")
    whole_photo: bool = Field(
        description="no face was found: the photo's centred square is taken as the face crop"
    )
    notices: list[str]


class LimitsRecord(Strict):
    max_body_bytes: int
    max_pixels: int
    images_kept: int
    jobs_kept: int
    max_iterations: int
    max_restarts: int
    max_samples: int


class Config(Strict):
    defaults: ServeSettings
    limits: LimitsRecord
    presets: list[str]
    image_size: int = Field(description="the model's face crop, in pixels")
    device: str


class InpaintRequest(Strict):
    image_id: str = Field(description="from POST /api/images")
    mask: Base64Bytes = Field(
        description="a PNG at the photo's size, base64: white (and opaque) = damaged"
    )
    settings: dict[str, Any] = Field(
        default_factory=dict,
        description="any ServeSettings fields (see GET /api/config's defaults); "
        "the server's defaults fill in the rest",
    )


class Result(Strict):
    index: int = Field(description="for GET /api/jobs/{id}/results/{index}; 0 is the best")
    loss: float | None = Field(description="the z-search's final objective (lower is better)")


class JobStatus(Strict):
    id: str
    state: Literal["running", "done", "failed", "cancelled"]
    phase: str = Field(description="starting, searching, cancelling, done, failed, cancelled")
    done: int = Field(description="z-search iterations done")
    total: int
    message: str = Field(description="why it failed or was cancelled")
    notices: list[str]
    seconds: float | None
    results: list[Result] = Field(description="best first, once done")
