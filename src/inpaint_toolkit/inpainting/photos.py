"""``run`` on real photographs: find and align each face, repair it, paste it back.

A photograph (an image file that is not already a ``size x size`` face crop) goes through
:mod:`inpaint_toolkit.photo`: its faces are found and aligned to the model's framing, the
mask is made (a mask plugin on the aligned face, so ``--mask center`` hides the centre of
the face; ``--mask-file`` at the photo's own resolution), the aligned crops are repaired
by the z-search, and the repairs are pasted back at full resolution, changing only the
damaged pixels. ``--no-align`` keeps the old behaviour (centre crop, resize).

Per photo ``NAME`` the results folder holds::

    NAME_inpainted.png    the photograph, repaired, at its own size (PNG: lossless)
    NAME_damaged.png      the photograph with the damage greyed out
    NAME_face<k>_compare.png  aligned face k: original | damaged | G(z) | repaired, enlarged
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from inpaint_toolkit.core.errors import InpaintError
from inpaint_toolkit.core.images import (
    IMAGE_SUFFIXES,
    image_size,
    list_image_files,
    save_grid,
    to_tensor,
    to_uint8,
)
from inpaint_toolkit.inpainting.config import RunConfig
from inpaint_toolkit.inpainting.inpaint import Inpainted, inpaint

COMPARE_SCALE = 4


@dataclass
class PhotoResult:
    """What the summary says of one photograph."""

    record: dict[str, Any]
    history: torch.Tensor | None = None  # the objective of face 0's best restart, per step
    notes: list[str] = field(default_factory=list)


def split_photos(inputs: list[str], size: int, *, align: bool) -> tuple[list[Path], list[str]]:
    """The photographs among ``inputs`` (image files, also inside folders, that are not
    ``size x size``), and the rest, which the crop path reads as before."""
    if not align:
        return [], inputs
    photos: list[Path] = []
    rest: list[str] = []
    for source in inputs:
        path = Path(source)
        if path.is_dir():
            files = list_image_files(path)
            big = [f for f in files if not _is_crop(f, size)]
            if big and len(big) < len(files):
                raise InpaintError(
                    f"{path}: mixes {size}x{size} face crops with photographs; "
                    "put them in separate folders"
                )
            photos += big
            if not big:
                rest.append(source)
        elif path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES and not _is_crop(path, size):
            photos.append(path)
        else:
            rest.append(source)
    return photos, rest


def _faces_reaching(damage: np.ndarray, faces: list) -> list:
    """The faces whose aligned crop holds some of the damage."""
    from inpaint_toolkit.photo import crop_mask_from_photo

    return [face for face in faces if crop_mask_from_photo(damage, face).any()]


def _is_crop(path: Path, size: int) -> bool:
    # Unreadable (or claiming a giant size): the crop path's reader gives the one-line error.
    return image_size(path) in (None, (size, size))


def repair_one_photo(
    path: Path,
    name: str,
    config: RunConfig,
    generator: nn.Module,
    discriminator: nn.Module | None,
    mask_source: Any,
    out: Path,
    *,
    progress: bool,
) -> PhotoResult:
    from inpaint_toolkit.photo import (
        align_faces,
        crop_face,
        photo_mask_from_crops,
        read_photo,
        repair_photo,
        write_photo,
    )

    size = generator.image_size
    photo = read_photo(path)
    pixels = photo.pixels
    height, width = pixels.shape[:2]
    file_mask = getattr(mask_source, "known_for", None)
    if file_mask is not None:  # the user's mask, painted at the photo's resolution
        damage = file_mask(height, width)[0, 0].numpy() < 0.5
        faces = _faces_reaching(damage, align_faces(pixels, damage, size=size, name=path.name))
        if not faces:
            # Damage painted on a copy leaves the photo itself intact: look there as well.
            faces = _faces_reaching(damage, align_faces(pixels, size=size, name=path.name))
        if not faces:
            raise InpaintError(
                f"{path.name}: no face found under the damage; give --no-align if the image "
                "is a face crop already, or a mask that covers part of a face"
            )
    else:  # a mask plugin, applied to the aligned faces
        faces = align_faces(pixels, size=size, name=path.name)
        chosen = range(len(faces)) if config.face is None else [config.face]
        if config.face is not None and not 0 <= config.face < len(faces):
            raise InpaintError(
                f"--face {config.face}: {path.name} has {len(faces)} face(s), 0..{len(faces) - 1}"
            )
        crops = to_tensor(np.stack([crop_face(pixels, faces[i]) for i in chosen]))
        generator_seed = torch.Generator().manual_seed(config.seed)
        holes = mask_source(crops, generator_seed).known[:, 0].numpy() < 0.5
        every = [np.zeros((size, size), bool) for _ in faces]
        for index, hole in zip(chosen, holes, strict=True):
            every[index] = hole
        damage = photo_mask_from_crops(every, faces)

    searched: list[Inpainted] = []

    def repair_crops(crops: np.ndarray, known: np.ndarray) -> np.ndarray:
        known_tensor = torch.from_numpy(known).float()[:, None]
        images = to_tensor(crops) * known_tensor  # the hole greyed, as the masks do
        result = inpaint(
            generator,
            discriminator,
            images,
            known_tensor,
            config,
            seed=config.seed,
            progress=progress,
        )
        searched.append(result)
        return to_uint8(result.blended[:, 0])

    repair = repair_photo(
        pixels,
        damage,
        repair_crops,
        face=config.face,
        faces=faces,
        seed=config.seed,
        name=path.name,
    )
    write_photo(repair.photo, out / f"{name}_inpainted.png", greyscale=photo.greyscale)
    greyed = pixels.copy()
    greyed[damage] = 128
    write_photo(greyed, out / f"{name}_damaged.png", greyscale=photo.greyscale)

    record: dict[str, Any] = {
        "name": name,
        "photo": f"{width}x{height}",
        "faces_found": len(repair.faces),
        "faces_repaired": repair.repaired,
        "missing_fraction": round(float(damage.mean()), 4),
    }
    history = None
    if searched and searched[0].search is not None:
        result = searched[0]
        search = result.search
        record["loss"] = [round(v, 4) for v in search.loss[:, 0].tolist()]
        history = search.history[:, 0]
        known = torch.from_numpy(repair.known).float()[:, None]
        rows = [
            to_tensor(repair.crops),
            to_tensor(repair.crops) * known,
            search.generated[:, 0].cpu(),
            to_tensor(repair.repaired_crops),
        ]
        for k, face in enumerate(repair.repaired):
            row = torch.stack([r[k] for r in rows])
            grid = F.interpolate(row, scale_factor=COMPARE_SCALE, mode="nearest")
            save_grid(grid, out / f"{name}_face{face}_compare.png", columns=4, padding=4)
    return PhotoResult(record, history, repair.notices)
