"""``inpaint-toolkit eval``: every method on every mask, the same holes for all of them.

For each mask the clean faces are damaged once, with a generator seeded from ``seed``, so
every method repairs exactly the same holes. Each method inpaints in batches (timed, in
seconds per image) and is scored per image with :mod:`inpaint_toolkit.evaluation.metrics`
(hole L1, PSNR over the image and over the hole, SSIM; all on the [0, 1] scale), by what
a person sees (:mod:`~inpaint_toolkit.evaluation.realism`: the hole's sharpness against the
real face's, and the realism distance of the fills' fine detail to real faces'), and with
the Haar-cascade :mod:`~inpaint_toolkit.evaluation.judge` (faces and eyes found). The pixel
scores are averaged over the images (PSNR too: the mean of per-image PSNRs), the sharpness
is the median face's. A ``ground_truth`` row per mask is the clean images themselves: its
pixel metrics are trivially perfect, its realism distance is the measure's floor (real
faces against other real faces), its judge scores are the judge's ceiling on this data.
With ``calibrate``, rows ``blur_0.5``, ``blur_1`` and ``blur_1.5`` are the real faces
blurred inside the hole (Gaussian sigma in pixels), to read the realism columns by.

The out folder gets ``results.md`` (one table per mask, and the settings),
``results.csv``, ``results.json`` and, per mask, ``compare_<mask>.png``: rows ground
truth, damaged (unless ``originals`` is off), then each method; columns the first faces.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any

import torch
from pydantic import Field
from torch import Tensor

from inpaint_toolkit.core import distributed
from inpaint_toolkit.core.config import Config, Seed
from inpaint_toolkit.core.errors import InpaintError
from inpaint_toolkit.core.expressions import Choice, parse_choice_list
from inpaint_toolkit.core.images import atomic_write, save_grid

GROUND_TRUTH = "ground_truth"
CALIBRATION_BLURS = (0.5, 1.0, 1.5)  # Gaussian sigmas, in pixels, of the calibrate rows
DEFAULT_MASKS = "center,half,pixels,pattern,blocks"
# Command-line settings handed on to every chosen method whose options model has them
# (the DCGAN z-search's); a method without the field never sees them.
METHOD_SETTINGS = ("preset", "init", "adapt", "iterations", "restarts", "checkpoint")


class EvalSettings(Config):
    """What ``inpaint-toolkit eval`` runs; unknown keys are an error."""

    data: list[str] = Field(min_length=1, description="npz files or image folders")
    masks: str = Field(DEFAULT_MASKS, description="mask plugins, e.g. center,half[side=top]")
    methods: str | None = Field(None, description="inpainters; default: every registered one")
    limit: int | None = Field(None, ge=1, description="evaluate the first N images only")
    skip: int = Field(
        0, ge=0, description="leave out the first N images (with limit: a later slice)"
    )
    seed: Seed = Field(0, description="seeds the masks and each method's own randomness")
    out: Path = Field(Path("runs/eval"), description="folder for the results")
    batch_size: int = Field(64, ge=1, description="images per inpainting call")
    image_size: int = Field(64, ge=16, description="resize the data to this")
    columns: int = Field(8, ge=1, description="faces shown in each comparison picture")
    originals: bool = Field(
        True,
        description="show the ground truth and damaged faces in the pictures; leave them out "
        "to publish results on faces that may not be redistributed",
    )
    preset: str | None = Field(None, description="z-search preset, e.g. paper (dcgan)")
    init: str | None = Field(None, description="z-search initializer plugin (dcgan)")
    adapt: str | None = Field(None, description="adapter plugin after the search (dcgan)")
    iterations: int | None = Field(None, ge=1, description="z-search steps (dcgan)")
    restarts: int | None = Field(None, ge=1, description="z-search restarts (dcgan)")
    checkpoint: str | None = Field(None, description="model checkpoint (dcgan)")
    calibrate: bool = Field(
        False,
        description="add rows of the real faces blurred in the hole (sigma 0.5, 1, 1.5 px) "
        "to read the sharpness and realism columns by",
    )


@dataclass(frozen=True)
class Row:
    mask: str
    method: str
    images: int
    hole_l1: float
    psnr: float
    hole_psnr: float
    ssim: float
    hole_sharpness: float  # median face's fill detail over the real face's (1.0: as real)
    realism: float  # SWD x 1e3 of the hole's fine detail to real faces' (ground truth: floor)
    faces_found: float
    eyes_found: float
    seconds_per_image: float


@dataclass(frozen=True)
class Method:
    label: str  # as shown in the tables: the name, with options where any were given
    name: str
    options: dict[str, Any]
    inpainter: Any


@dataclass
class EvalResult:
    rows: list[Row]
    files: list[Path]
    settings: dict[str, Any]


def evaluate(settings: EvalSettings, *, progress: bool = True) -> EvalResult:
    """Run the whole comparison and write its files; see the module docstring."""
    from tqdm import tqdm

    from inpaint_toolkit.core.images import to_tensor
    from inpaint_toolkit.data.faces import load_faces
    from inpaint_toolkit.evaluation.judge import FaceJudge
    from inpaint_toolkit.registry import get_registry

    registry = get_registry()
    rank, _ = distributed.init()  # under torchrun, each process repairs its share
    # Build every plugin before loading any data, so a typo fails at once.
    masks = [
        (label, registry.build("mask", choice.name, choice.options))
        for label, choice in _labelled(parse_choice_list(settings.masks), "mask")
    ]
    methods = build_methods(settings)
    faces = load_faces(settings.data, settings.image_size, split="test")
    if settings.skip >= len(faces.images):
        raise InpaintError(
            f"--skip {settings.skip} leaves no images: the data has {len(faces.images)}"
        )
    stop = settings.skip + settings.limit if settings.limit else None
    truth = to_tensor(faces.images[settings.skip : stop])
    count = truth.shape[0]
    judge = FaceJudge()
    ceiling = judge.summarise(judge.judge(truth))
    shown = slice(0, min(settings.columns, count))

    rows: list[Row] = []
    files: list[Path] = []
    picture_names: set[str] = set()
    bar = tqdm(
        total=len(masks) * len(methods) * count, unit="img", disable=not progress or rank != 0
    )
    with bar:
        for mask_label, mask in masks:
            damaged = mask(truth, torch.Generator().manual_seed(settings.seed))
            known = damaged.known.float().cpu()
            holed = damaged.images.float().cpu()
            references = [(GROUND_TRUTH, truth)]
            if settings.calibrate:
                references += [
                    (f"blur_{sigma:g}", blurred_in_hole(truth, known, sigma))
                    for sigma in CALIBRATION_BLURS
                ]
            for label, reference in references:
                verdict = ceiling if reference is truth else judge.summarise(judge.judge(reference))
                rows.append(
                    Row(
                        mask_label,
                        label,
                        count,
                        **score(reference, truth, known, seed=settings.seed),
                        faces_found=verdict.faces_found,
                        eyes_found=verdict.eyes_found,
                        seconds_per_image=0.0,
                    )
                )
            picture = [truth[shown], holed[shown]] if settings.originals else []
            for method in methods:
                bar.set_description(f"{mask_label}: {method.label}")
                outputs, seconds = [], 0.0
                work = partial(_repair, method.inpainter, holed, known, settings)
                for output, took in distributed.sharded(range(0, count, settings.batch_size), work):
                    outputs.append(output)  # on rank 0: every batch, in order
                    seconds += took
                    bar.update(len(output))
                if rank != 0:
                    continue
                repaired = torch.cat(outputs)
                if repaired.shape != truth.shape:
                    raise InpaintError(
                        f"inpainter {method.name!r} returned {tuple(repaired.shape)} "
                        f"for {tuple(truth.shape)} images"
                    )
                verdict = judge.summarise(judge.judge(repaired))
                rows.append(
                    Row(
                        mask_label,
                        method.label,
                        count,
                        **score(repaired, truth, known, seed=settings.seed),
                        faces_found=verdict.faces_found,
                        eyes_found=verdict.eyes_found,
                        seconds_per_image=seconds / count,
                    )
                )
                picture.append(repaired[shown])
            if rank == 0:
                path = settings.out / f"compare_{_file_name(mask_label, picture_names)}.png"
                files.append(save_grid(picture, path))

    record = settings.model_dump(mode="json")
    record["images"] = count
    record["skipped_files"] = faces.skipped
    record["methods_built"] = [
        {"label": m.label, "name": m.name, "options": m.options} for m in methods
    ]
    if rank == 0:
        files = [*write_results(rows, record, settings.out), *files]
    distributed.finish()
    return EvalResult(rows, files, record)


def _repair(
    inpainter: Any, holed: Tensor, known: Tensor, settings: EvalSettings, start: int
) -> tuple[Tensor, float]:
    """One batch, from ``start``: the repairs (float, on the CPU) and the seconds taken.
    Its seed comes from ``start``, so any process gives the same repairs."""
    stop = min(start + settings.batch_size, len(holed))
    began = time.perf_counter()
    output = inpainter.inpaint(holed[start:stop], known[start:stop], seed=settings.seed + start)
    return output.detach().float().cpu(), time.perf_counter() - began


def build_methods(settings: EvalSettings) -> list[Method]:
    """The chosen inpainters (default: every registered one), with the method settings
    (``--iterations`` ...) added to those whose options take them."""
    from inpaint_toolkit.core.notices import notice
    from inpaint_toolkit.registry import get_registry

    registry = get_registry()
    if settings.methods is None:
        choices = [Choice(name) for name in registry.names("inpainter")]
    else:
        choices = parse_choice_list(settings.methods)
    given = {key: getattr(settings, key) for key in METHOD_SETTINGS}
    given = {key: value for key, value in given.items() if value is not None}
    used: set[str] = set()
    methods = []
    for label, choice in _labelled(choices, "method"):
        fields = registry.get("inpainter", choice.name).spec.options.model_fields
        options = dict(choice.options)
        for key, value in given.items():
            if key in fields:
                options.setdefault(key, value)  # an option in the method's brackets wins
                used.add(key)
        inpainter = registry.build("inpainter", choice.name, options)
        methods.append(Method(label, choice.name, options, inpainter))
    for key in sorted(set(given) - used):
        notice(f"--{key} is ignored: none of the chosen methods takes it")
    return methods


def score(output: Tensor, truth: Tensor, known: Tensor, *, seed: int = 0) -> dict[str, float]:
    """The pixel metrics averaged over the images, and the realism measures."""
    from inpaint_toolkit.evaluation import metrics, realism

    values = {
        "hole_l1": metrics.hole_l1(output, truth, known),
        "psnr": metrics.psnr(output, truth),
        "hole_psnr": metrics.hole_psnr(output, truth, known),
        "ssim": metrics.ssim(output, truth),
    }
    scores = {name: float(value.double().mean()) for name, value in values.items()}
    scores["hole_sharpness"] = realism.median_sharpness(output, truth, known)
    scores["realism"] = realism.realism_distance(output, truth, known, seed=seed)
    return scores


def blurred_in_hole(truth: Tensor, known: Tensor, sigma: float) -> Tensor:
    """The real faces, Gaussian-blurred (``sigma`` px) inside the hole only."""
    from inpaint_toolkit.core.images import gaussian_blur

    blurred = gaussian_blur(truth, sigma)
    return truth * known + blurred * (1 - known)


def write_results(rows: Sequence[Row], settings: dict[str, Any], out: Path) -> list[Path]:
    """``results.md``, ``results.csv`` and ``results.json`` in ``out``."""
    from inpaint_toolkit.core.notices import notice

    records = [asdict(row) for row in rows]
    for record in records:
        for key, value in record.items():
            if isinstance(value, float) and not math.isfinite(value):
                # A method that returned NaNs: strict JSON has no NaN, so null it is.
                notice(f"{record['method']} on {record['mask']}: {key} is {value}")
                record[key] = None
    paths = [out / "results.md", out / "results.csv", out / "results.json"]

    def write_csv(tmp: str) -> None:
        with open(tmp, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(records[0]))
            writer.writeheader()
            writer.writerows(records)

    text = json.dumps({"settings": settings, "rows": records}, indent=2) + "\n"
    atomic_write(paths[0], lambda tmp: Path(tmp).write_text(markdown(rows, settings)))
    atomic_write(paths[1], write_csv)
    atomic_write(paths[2], lambda tmp: Path(tmp).write_text(text))
    return paths


def markdown(rows: Sequence[Row], settings: dict[str, Any]) -> str:
    """One table per mask, then the settings that made them."""
    out = io.StringIO()
    out.write("# Inpainting evaluation\n\n")
    out.write(
        f"{settings['images']} faces from {', '.join(settings['data'])}, seed {settings['seed']}. "
        "L1, PSNR and SSIM on the [0, 1] scale (PSNR capped at 100 dB). Sharpness: the median "
        "face's high-frequency energy in the hole over the real face's (1.0: as detailed). "
        "Realism: SWD x 1e3 of the hole's finest-band patches to other real faces' (lower is "
        "better; the ground-truth row is its floor). Faces and eyes found by OpenCV's Haar "
        "cascades, a judge nobody here trained (the ground-truth row is its ceiling).\n"
    )
    header = (
        "| method | hole L1 | PSNR (dB) | hole PSNR (dB) | SSIM | sharpness | realism "
        "| faces found | eyes found | s/image |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    )
    for mask in dict.fromkeys(row.mask for row in rows):
        out.write(f"\n## Mask `{mask}`\n\n{header}")
        for row in (r for r in rows if r.mask == mask):
            seconds = "-" if row.seconds_per_image == 0 else f"{row.seconds_per_image:.4f}"
            out.write(
                f"| {row.method} | {row.hole_l1:.4f} | {row.psnr:.2f} | {row.hole_psnr:.2f} "
                f"| {row.ssim:.4f} | {row.hole_sharpness:.2f} | {row.realism:.1f} "
                f"| {row.faces_found:.1%} | {row.eyes_found:.1%} | {seconds} |\n"
            )
    out.write("\n## Settings\n\n")
    for key, value in settings.items():
        out.write(f"- {key}: `{json.dumps(value)}`\n")
    return out.getvalue()


def _labelled(choices: Sequence[Choice], what: str) -> list[tuple[str, Choice]]:
    """Each choice with its table label; the same label twice is an error."""
    labelled: list[tuple[str, Choice]] = []
    for choice in choices:
        label = _label(choice)
        if label == GROUND_TRUTH or any(label == seen for seen, _ in labelled):
            raise InpaintError(f"{what} {label!r} is given twice (or is a reserved name)")
        labelled.append((label, choice))
    if not labelled:
        raise InpaintError(f"no {what} given")
    return labelled


def _label(choice: Choice) -> str:
    if not choice.options:
        return choice.name
    options = ",".join(
        f"{key}={value if isinstance(value, str) else json.dumps(value)}"
        for key, value in choice.options.items()
    )
    return f"{choice.name}[{options}]"


def _file_name(label: str, taken: set[str]) -> str:
    """A mask label as a safe, unique file-name part: ``half[side=top]`` -> ``half_side_top``."""
    base = re.sub(r"[^A-Za-z0-9_-]+", "_", label).strip("_") or "mask"
    name, number = base, 2
    while name in taken:
        name, number = f"{base}_{number}", number + 1
    taken.add(name)
    return name
