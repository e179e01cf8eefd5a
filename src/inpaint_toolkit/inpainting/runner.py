"""``inpaint-toolkit run`` from end to end: inputs -> damage -> z-search -> blend -> files.

Results are written batch by batch, and the summary is rewritten after each, so an
interrupted run keeps everything it finished.

Per image ``NAME`` the results folder holds::

    NAME_inpainted.png   the best fill blended into the damaged image
    NAME_generated.png   the raw G(z_hat)
    NAME_damaged.png     what the search saw
    NAME_sample<k>.png   the other distinct fills (--samples K)
    NAME_compare.png     original | damaged | G(z_hat) | blended | samples, enlarged
    loss.png             the objective against iterations (the seed's Image 11)
    summary.json         settings, per-image losses, times
"""

from __future__ import annotations

import json
import re
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from inpaint_toolkit.core import distributed
from inpaint_toolkit.core.expressions import parse_choice
from inpaint_toolkit.core.images import atomic_write, save_grid, save_png, to_tensor
from inpaint_toolkit.core.notices import notice
from inpaint_toolkit.core.plots import plot_curves
from inpaint_toolkit.core.runtime import resolve_device
from inpaint_toolkit.data.faces import FaceData
from inpaint_toolkit.data.inputs import demo_face, load_inputs
from inpaint_toolkit.inpainting.config import RunConfig
from inpaint_toolkit.inpainting.inpaint import inpaint
from inpaint_toolkit.inpainting.photos import repair_one_photo, split_photos
from inpaint_toolkit.inpainting.search import Objective
from inpaint_toolkit.models import load_models
from inpaint_toolkit.registry import get_registry

COMPARE_SCALE = 4  # 64-pixel faces are stamps on a screen: enlarge the comparison grids


def default_out_folder() -> Path:
    return Path("inpaint-results") / datetime.now().strftime("%Y%m%d-%H%M%S")


def run(config: RunConfig, *, progress: bool = True) -> Path:
    """Inpaint every input; returns the results folder."""
    registry = get_registry()
    objective = Objective.parse(config.loss, prior_weight=config.prior_weight)  # fail fast
    mask_choice = parse_choice(config.mask)
    mask_source = registry.build("mask", mask_choice.name, mask_choice.options)
    rank, _ = distributed.init()  # under torchrun: this process's share of the batches
    device = distributed.device_for(resolve_device(config.device))
    generator, discriminator, model_meta = load_models(
        config.checkpoint,
        generator=config.generator,
        need_discriminator=objective.needs_discriminator,
        device=device,
    )
    size = generator.image_size
    photos, crop_inputs = split_photos(config.input, size, align=config.align)
    if crop_inputs:
        faces = load_inputs(crop_inputs, size)
    elif photos:
        faces = FaceData(np.zeros((0, size, size, 3), np.uint8), [])
    else:
        faces = demo_face(size)
    names = _unique_names(faces.names + [photo.name for photo in photos])
    photo_names, names = names[len(faces.names) :], names[: len(faces.names)]
    if rank != 0:  # photos are repaired by the first process alone
        photos, photo_names = [], []
    out = Path(config.out) if config.out is not None else default_out_folder()
    out = distributed.from_rank_zero(out)  # one folder, though the clocks differ
    out.mkdir(parents=True, exist_ok=True)

    summary: dict[str, Any] = {
        "settings": config.model_dump(mode="json"),
        "objective": str(objective),
        "model": {
            "checkpoint": config.checkpoint or "packaged default",
            "generator": model_meta.get("generator"),
            "trained_steps": model_meta.get("step"),
        },
        "device": str(device),
        "images": [],
    }
    histories: dict[str, torch.Tensor] = {}
    started = time.perf_counter()

    def inpaint_batch(first: int) -> tuple[int, torch.Tensor, Any, Any]:
        # The seeds come from the batch's start, so any process gives the same result.
        clean = to_tensor(faces.images[first : first + config.batch_size])
        damage = mask_source(clean, torch.Generator().manual_seed(config.seed + first))
        result = inpaint(
            generator,
            discriminator,
            damage.images,
            damage.known,
            config,
            seed=config.seed + first,
            progress=progress and rank == 0,
        )
        return first, clean, damage, result

    batches = range(0, len(names), config.batch_size)
    shown = progress and rank == 0 and len(batches) > 1
    inpainted = distributed.sharded(batches, inpaint_batch)  # on rank 0: all, in order
    bar = tqdm(inpainted, total=len(batches), disable=not shown, unit="batch")
    for first, clean, damage, result in bar:
        batch_names = names[first : first + config.batch_size]
        _explain_masks(damage.known, batch_names)
        searched = result.has_hole.nonzero().squeeze(1).tolist()
        for i, name in enumerate(batch_names):
            record: dict[str, Any] = {"name": name, "missing_fraction": _missing(damage.known[i])}
            fills = result.blended[i]
            save_png(fills[0], out / f"{name}_inpainted.png")
            save_png(damage.images[i], out / f"{name}_damaged.png")
            row = [clean[i], damage.images[i]]
            if i in searched:
                j = searched.index(i)
                generated = result.search.generated[j, 0].cpu()
                save_png(generated, out / f"{name}_generated.png")
                row += [generated, fills[0]]
                for k in range(1, fills.shape[0]):
                    save_png(fills[k], out / f"{name}_sample{k + 1}.png")
                    row.append(fills[k])
                record["loss"] = [round(v, 4) for v in result.search.loss[j].tolist()]
                histories[name] = result.search.history[:, j]
            else:
                row.append(fills[0])
            grid = F.interpolate(torch.stack(row), scale_factor=COMPARE_SCALE, mode="nearest")
            save_grid(grid, out / f"{name}_compare.png", columns=len(row), padding=4)
            summary["images"].append(record)
        if result.search is not None:
            summary["iterations_run"] = result.search.iterations
            summary["adaptation_steps"] = result.adapt_steps
            summary["precision"] = result.search.precision
        summary["seconds"] = round(time.perf_counter() - started, 2)
        _write_summary(out, summary, histories)
    for path, name in zip(photos, photo_names, strict=True):
        done = repair_one_photo(
            path, name, config, generator, discriminator, mask_source, out, progress=progress
        )
        summary["images"].append(done.record)
        if done.history is not None:
            histories[name] = done.history
        summary["seconds"] = round(time.perf_counter() - started, 2)
        _write_summary(out, summary, histories)
    distributed.finish()
    return out


def _explain_masks(known: torch.Tensor, names: list[str]) -> None:
    for mask, name in zip(known, names, strict=True):
        missing = _missing(mask)
        if missing == 0:
            notice(f"{name}: the mask leaves nothing missing; the input is copied as it is")
        elif missing == 1:
            notice(f"{name}: the mask hides every pixel; this is plain generation from the prior")


def _missing(known: torch.Tensor) -> float:
    return round(1.0 - known.float().mean().item(), 4)


def _unique_names(names: list[str]) -> list[str]:
    """File-safe, unique names for the outputs."""
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(name).stem) or "image"
        seen[safe] = seen.get(safe, 0) + 1
        unique.append(safe if seen[safe] == 1 else f"{safe}_{seen[safe]}")
    return unique


def _write_summary(out: Path, summary: dict[str, Any], histories: dict[str, torch.Tensor]) -> None:
    text = json.dumps(summary, indent=2)
    atomic_write(out / "summary.json", lambda tmp: Path(tmp).write_text(text))
    if not histories:
        return
    shown = dict(list(histories.items())[:8])  # more lines than that is a blur
    curves = {name: (list(range(1, len(h) + 1)), h.tolist()) for name, h in shown.items()}
    plot_curves(
        curves,
        out / "loss.png",
        title="z-search objective (best restart)",
        xlabel="iteration",
        ylabel="context + prior loss",
    )
