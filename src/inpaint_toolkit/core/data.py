"""Face data for training and evaluation, loaded whole into memory as uint8.

Sources: an ``.npz`` with an ``images`` array ``(N, H, W, 3)`` uint8 (the format of the
team's shared data), a folder of images (recursive), or a CelebA root in torchvision's
layout (``img_align_celeba/`` with ``list_eval_partition.txt``), given the standard DCGAN
crop (central 108x108, resized). 64x64 faces take 12 KiB each, so 100k fit in 1.2 GiB.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from inpaint_toolkit.core.images import center_crop_resize, list_image_files, read_image
from inpaint_toolkit.errors import InpaintError

CELEBA_CROP_BOX = (35, 55, 143, 163)  # the central 108x108 of a 178x218 aligned CelebA face


@dataclass
class FaceData:
    images: np.ndarray  # (N, H, W, 3) uint8
    names: list[str]
    skipped: int = 0  # unreadable or corrupt files left out


def load_faces(sources: Sequence[str | Path], image_size: int, *, split: str = "train") -> FaceData:
    """Load and concatenate every source, resized to ``image_size``."""
    if not sources:
        raise InpaintError("no data given: name an .npz file, an image folder or a CelebA root")
    parts = [_load_one(Path(source), image_size, split) for source in sources]
    images = np.concatenate([p.images for p in parts])
    if len(images) == 0:
        raise InpaintError(f"no readable images in {', '.join(map(str, sources))}")
    return FaceData(images, [n for p in parts for n in p.names], sum(p.skipped for p in parts))


def _load_one(source: Path, image_size: int, split: str) -> FaceData:
    if not source.exists():
        raise InpaintError(f"{source}: no such file or folder")
    if source.is_file():
        if source.suffix != ".npz":
            raise InpaintError(f"{source}: expected an .npz file or a folder of images")
        return _load_npz(source, image_size)
    if (source / "img_align_celeba").is_dir():
        return _load_celeba(source, image_size, split)
    return _load_folder(list_image_files(source), image_size, crop_box=None)


def _load_npz(path: Path, image_size: int) -> FaceData:
    try:
        with np.load(path, allow_pickle=False) as archive:
            if "images" not in archive:
                raise InpaintError(f"{path}: has no 'images' array (keys: {list(archive)})")
            images = archive["images"]
            names = [str(n) for n in archive["names"]] if "names" in archive else []
    except (OSError, ValueError) as exc:
        raise InpaintError(f"{path}: not a readable .npz file ({exc})") from None
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] != 3:
        raise InpaintError(
            f"{path}: 'images' must be uint8 (N, H, W, 3), not {images.dtype} {images.shape}"
        )
    if images.shape[1:3] != (image_size, image_size):
        images = np.stack(
            [np.asarray(center_crop_resize(Image.fromarray(i), image_size)) for i in images]
        )
    names = names or [f"{path.stem}[{i}]" for i in range(len(images))]
    return FaceData(images, names)


def _load_celeba(root: Path, image_size: int, split: str) -> FaceData:
    folder = root / "img_align_celeba"
    partition = root / "list_eval_partition.txt"
    files = sorted(folder.glob("*.jpg"))
    if partition.exists():  # torchvision's layout: 0 train, 1 valid, 2 test
        wanted = {"train": "0", "valid": "1", "test": "2"}[split]
        keep = {
            line.split()[0]
            for line in partition.read_text().splitlines()
            if len(line.split()) == 2 and line.split()[1] == wanted
        }
        files = [f for f in files if f.name in keep]
    return _load_folder(files, image_size, crop_box=CELEBA_CROP_BOX)


def _load_folder(
    files: Sequence[Path], image_size: int, crop_box: tuple[int, int, int, int] | None
) -> FaceData:
    images, names, skipped = [], [], 0
    for file in files:
        try:
            image = read_image(file)
        except InpaintError:
            skipped += 1  # corrupt, greyscale or transparent: counted and reported, never fatal
            continue
        if crop_box is not None and image.size == (178, 218):
            image = image.crop(crop_box)
        images.append(np.asarray(center_crop_resize(image, image_size)))
        names.append(file.name)
    if not images:
        return FaceData(np.zeros((0, image_size, image_size, 3), np.uint8), [], skipped)
    return FaceData(np.stack(images), names, skipped)


DEMO_FACE_BOX = (28, 166, 156, 294)  # rows, cols of the face in scikit-image's astronaut


def demo_face(image_size: int) -> FaceData:
    """A real face that ships with a dependency: Eileen Collins, from scikit-image's
    ``astronaut`` photograph (public domain, NASA), framed like the training faces."""
    from skimage.data import astronaut

    top, bottom, left, right = DEMO_FACE_BOX
    face = Image.fromarray(astronaut()[top:bottom, left:right])
    return FaceData(
        np.asarray(face.resize((image_size, image_size), Image.LANCZOS))[None], ["astronaut"]
    )


def load_inputs(sources: Sequence[str | Path], image_size: int) -> FaceData:
    """Images to inpaint: image files, folders or .npz files. Unlike training data, a bad
    single file is an error; another size or shape is centre-cropped and resized, with a
    notice."""
    from inpaint_toolkit.core.notices import notice

    parts = []
    for source in map(Path, sources):
        if source.is_file() and source.suffix != ".npz":
            image = read_image(source)
            if image.size != (image_size, image_size):
                notice(
                    f"{source}: {image.size[0]}x{image.size[1]} centre-cropped and "
                    f"resized to {image_size}x{image_size}"
                )
            parts.append(
                FaceData(np.asarray(center_crop_resize(image, image_size))[None], [source.stem])
            )
        else:
            part = _load_one(source, image_size, "test")
            if part.skipped:
                notice(f"{source}: {part.skipped} unreadable or non-RGB file(s) skipped")
            parts.append(part)
    images = np.concatenate([p.images for p in parts])
    if len(images) == 0:
        raise InpaintError(f"no readable images in {', '.join(map(str, sources))}")
    return FaceData(images, [n for p in parts for n in p.names])
