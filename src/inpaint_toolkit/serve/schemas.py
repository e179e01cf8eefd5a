"""The JSON the API takes and gives, as pydantic models (they are its OpenAPI schema)."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

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


def _from_base64(value: object) -> bytes:
    """The bytes of base64 text (line breaks allowed), or one line saying what is wrong
    (instead of the decoder's own message, such as "Incorrect padding")."""
    if not isinstance(value, str):
        raise PydanticCustomError("base64", "must be text: the PNG's bytes, base64-encoded")
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except binascii.Error:
        raise PydanticCustomError(
            "base64", "not base64 text: send the PNG's bytes base64-encoded (base64 -w0 mask.png)"
        ) from None


Base64 = Annotated[
    bytes,
    BeforeValidator(_from_base64),
    WithJsonSchema({"type": "string", "format": "base64"}),
]


class InpaintRequest(Strict):
    image_id: str = Field(description="from POST /api/images")
    mask: Base64 = Field(
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
