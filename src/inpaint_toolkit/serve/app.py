"""The web application: one page, its three files, and the JSON API the page uses.

Everything an upload or a job holds stays in memory (:mod:`.store`); no route takes a
file path, and the page's own files are a fixed set read from the package. The OpenAPI
description is at ``/api/openapi.json``; FastAPI's interactive ``/docs`` is switched off,
because it loads its script from a CDN (the API is described in docs/serve.md instead).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from inpaint_toolkit.core.config import describe_validation_error
from inpaint_toolkit.core.errors import InpaintError
from inpaint_toolkit.serve import schemas
from inpaint_toolkit.serve.decoding import (
    UploadRejected,
    decode_mask,
    decode_photo,
    encode_mask_png,
    encode_png,
)
from inpaint_toolkit.serve.faces import face_record, faces_of
from inpaint_toolkit.serve.guard import Guard, allowed_hosts
from inpaint_toolkit.serve.jobs import Busy, Job, StoredPhoto, Worker
from inpaint_toolkit.serve.presets import PRESETS, Preset, preset_photo_mask
from inpaint_toolkit.serve.repairing import Models
from inpaint_toolkit.serve.settings import (
    MAX_ITERATIONS,
    MAX_RESTARTS,
    MAX_SAMPLES,
    MAX_SEED,
    Limits,
    ServeSettings,
)
from inpaint_toolkit.serve.store import ID_PATTERN, BoundedStore

STATIC_TYPES = {
    "app.js": "text/javascript; charset=utf-8",
    "page.js": "text/javascript; charset=utf-8",
    "mask.js": "text/javascript; charset=utf-8",
    "results.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
    "icon.svg": "image/svg+xml",
}
PNG = "image/png"


@dataclass
class Context:
    """What the routes share: the models, the uploads, the jobs, the settings."""

    models: Models
    defaults: ServeSettings
    limits: Limits
    images: BoundedStore[StoredPhoto]
    worker: Worker
    page: bytes
    static: dict[str, bytes]


def create_app(
    checkpoint: str | Path | None = None,
    *,
    defaults: ServeSettings | Mapping[str, Any] | None = None,
    device: str = "auto",
    host: str = "127.0.0.1",
    port: int = 8000,
    allow_hosts: Iterable[str] = (),
    limits: Limits | None = None,
) -> FastAPI:
    """The application for a server bound to ``host:port``.

    ``checkpoint``: the model file (None: the packaged model); ``defaults``: the settings
    a request leaves out (validated here, so a bad default fails at start); ``allow_hosts``:
    more names the Host header may carry (say, the machine's name when bound to 0.0.0.0).
    """
    limits = limits or Limits()
    if not isinstance(defaults, ServeSettings):
        try:
            defaults = ServeSettings.model_validate(dict(defaults or {}))
        except ValidationError as exc:
            raise InpaintError(f"bad default settings: {describe_validation_error(exc)}") from None
    models = Models(None if checkpoint is None else str(checkpoint), device)
    folder = files("inpaint_toolkit.serve") / "static"
    app = FastAPI(
        lifespan=_stop_the_search_on_shutdown,
        title="inpaint-toolkit serve",
        version="1",  # the API's version
        description="Repair damaged faces in photos (Yeh et al. 2017). See docs/serve.md.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.context = Context(
        models=models,
        defaults=defaults,
        limits=limits,
        images=BoundedStore(limits.images),
        worker=Worker(models, limits.jobs),
        page=(folder / "index.html").read_bytes(),
        static={name: (folder / name).read_bytes() for name in STATIC_TYPES},
    )
    app.include_router(router)
    hosts = allowed_hosts(host, port, allow_hosts)
    app.add_middleware(Guard, hosts=hosts, max_body=limits.max_body)
    return app


@asynccontextmanager
async def _stop_the_search_on_shutdown(app: FastAPI) -> AsyncIterator[None]:
    yield
    # Ended, not only told to end: a search left running would go on using the models
    # (and torch's process-wide parametrization cache) after the server has gone.
    app.state.context.worker.stop()


def context(request: Request) -> Context:
    return request.app.state.context


Ctx = Annotated[Context, Depends(context)]
ImageId = Annotated[str, PathParam(pattern=ID_PATTERN)]
JobId = Annotated[str, PathParam(pattern=ID_PATTERN)]
router = APIRouter()


@router.get("/", include_in_schema=False)
def page(ctx: Ctx) -> HTMLResponse:
    return HTMLResponse(ctx.page)


@router.get("/static/{name}", include_in_schema=False)
def static_file(name: str, ctx: Ctx) -> Response:
    if name not in ctx.static:  # a fixed set: nothing else is ever looked up
        raise HTTPException(404, "no such file")
    return Response(ctx.static[name], media_type=STATIC_TYPES[name])


@router.get("/api/config", response_model=schemas.Config, tags=["page"])
def config(ctx: Ctx) -> schemas.Config:
    """The default settings, the limits, the mask presets and the model's crop size."""
    limits = ctx.limits
    return schemas.Config(
        defaults=ctx.defaults,
        limits=schemas.LimitsRecord(
            max_body_bytes=limits.max_body,
            max_pixels=limits.max_pixels,
            images_kept=limits.images,
            jobs_kept=limits.jobs,
            max_iterations=MAX_ITERATIONS,
            max_restarts=MAX_RESTARTS,
            max_samples=MAX_SAMPLES,
        ),
        presets=list(PRESETS),
        image_size=ctx.models.image_size,
        device=str(ctx.models.device),
    )


@router.post(
    "/api/images",
    response_model=schemas.Upload,
    status_code=201,
    tags=["images"],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/octet-stream": {"schema": {"type": "string"}}},
        }
    },
    responses={
        413: {"description": "too many bytes or pixels"},
        415: {"description": "not an image"},
    },
)
async def upload(request: Request, ctx: Ctx) -> schemas.Upload:
    """Upload a photo (the file's bytes as the body; its type is read from its content).
    Returns its id, size and the faces found."""
    data = await request.body()
    return await run_in_threadpool(_store_photo, data, ctx)


def _store_photo(data: bytes, ctx: Context) -> schemas.Upload:
    try:
        photo, transparency, notes = decode_photo(data, ctx.limits.max_pixels)
    except UploadRejected as exc:
        raise HTTPException(exc.status, exc.message) from None
    found = faces_of(photo.pixels, ctx.models.image_size)
    notices = notes + found.notices
    stored = StoredPhoto(photo.pixels, photo.greyscale, found, notices, transparency)
    image_id = ctx.images.add(stored)
    width, height = stored.size
    return schemas.Upload(
        id=image_id,
        width=width,
        height=height,
        greyscale=photo.greyscale,
        faces=[schemas.FaceRecord(**face_record(face)) for face in found.aligned],
        whole_photo=found.whole_photo,
        notices=stored.notices,
    )


def _photo(ctx: Context, image_id: str) -> StoredPhoto:
    stored = ctx.images.get(image_id)
    if stored is None:
        raise HTTPException(
            404, f"unknown image (the server keeps the last {ctx.limits.images}); upload it again"
        )
    return stored


@router.get("/api/images/{image_id}/photo", tags=["images"], response_class=Response)
def photo(image_id: ImageId, ctx: Ctx) -> Response:
    """The uploaded photo as the server sees it (upright, RGB, or RGBA where it has
    transparency), as PNG."""
    stored = _photo(ctx, image_id)
    pixels = (
        stored.pixels
        if stored.transparency is None
        else stored.transparency.applied_to(stored.pixels)
    )
    return Response(encode_png(pixels, fast=True), media_type=PNG)


@router.get("/api/images/{image_id}/presets/{preset}", tags=["images"], response_class=Response)
def preset(
    image_id: ImageId,
    preset: Preset,
    ctx: Ctx,
    face: Annotated[int, Query(ge=0, description="which face, largest first")] = 0,
    seed: Annotated[int, Query(ge=0, le=MAX_SEED, description="for the random presets")] = 0,
) -> Response:
    """A mask preset drawn on one face's aligned crop, at the photo's size: a PNG, white
    and opaque where damaged, transparent elsewhere."""
    stored = _photo(ctx, image_id)
    faces = stored.faces.aligned
    if face >= len(faces):
        raise HTTPException(422, f"face: {face} asked for, the photo has {len(faces)}")
    return Response(encode_mask_png(preset_photo_mask(preset, faces[face], seed)), media_type=PNG)


@router.post(
    "/api/jobs",
    response_model=schemas.JobStatus,
    status_code=202,
    tags=["jobs"],
    responses={409: {"description": "a job is running already"}},
)
def start_job(body: schemas.InpaintRequest, ctx: Ctx) -> dict[str, object]:
    """Start repairing an uploaded photo where the mask is white. One job runs at a time:
    while one runs, this answers 409 at once."""
    try:
        settings = ServeSettings.model_validate({**ctx.defaults.model_dump(), **body.settings})
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
        raise RequestValidationError(
            [{**error, "loc": ("body", "settings", *error["loc"])} for error in errors]
        ) from None
    stored = _photo(ctx, body.image_id)
    try:
        damage = decode_mask(body.mask, stored.size, ctx.limits.max_pixels)
    except UploadRejected as exc:
        raise HTTPException(exc.status, f"mask: {exc.message}") from None
    if not damage.any():
        raise HTTPException(422, "mask: nothing is painted; paint the damage first")
    job = Job(stored, damage, settings)
    try:
        ctx.worker.submit(job)
    except Busy as exc:
        raise HTTPException(409, str(exc)) from None
    return job.status()


def _job(ctx: Context, job_id: str) -> Job:
    job = ctx.worker.jobs.get(job_id)
    if job is None:
        raise HTTPException(404, f"unknown job (the server keeps the last {ctx.limits.jobs})")
    return job


@router.get("/api/jobs/{job_id}", response_model=schemas.JobStatus, tags=["jobs"])
def job_status(job_id: JobId, ctx: Ctx) -> dict[str, object]:
    """Progress (iterations done of total), then the results' losses, best first."""
    return _job(ctx, job_id).status()


@router.post("/api/jobs/{job_id}/cancel", response_model=schemas.JobStatus, tags=["jobs"])
def cancel_job(job_id: JobId, ctx: Ctx) -> dict[str, object]:
    """Ask a running job to stop (it does after the current step); a finished one stays."""
    job = _job(ctx, job_id)
    if job.state == "running":
        job.cancel()
    return job.status()


@router.get("/api/jobs/{job_id}/results/{index}", tags=["jobs"], response_class=Response)
def result(
    job_id: JobId,
    index: Annotated[int, PathParam(ge=0)],
    ctx: Ctx,
    download: Annotated[bool, Query(description="as an attachment")] = False,
) -> Response:
    """Repaired version ``index`` (0 = lowest loss) at the photo's full size, as PNG."""
    job = _job(ctx, job_id)
    if job.state != "done":
        raise HTTPException(409, f"the job is {job.state}, not done")
    if index >= len(job.versions):
        raise HTTPException(404, f"the job has {len(job.versions)} result(s)")
    name = f"repaired-{index + 1}.png"
    disposition = "attachment" if download else "inline"
    headers = {"Content-Disposition": f'{disposition}; filename="{name}"'}
    return Response(job.png(index), media_type=PNG, headers=headers)
