"""Face data for training and evaluation, as uint8 ``(N, H, W, 3)`` arrays.

Sources: an ``.npz`` with an ``images`` array ``(N, H, W, 3)`` uint8 (the format of the
team's shared data), a zip archive of image files (StyleGAN2-ADA's dataset layout, read
member by member on demand, so a large archive costs no memory), a folder of images
(recursive), or a CelebA root in torchvision's layout (``img_align_celeba/`` with
``list_eval_partition.txt``), given the standard DCGAN crop (central 108x108, resized).

``open_faces`` gives a ``FaceSet`` that training indexes batch by batch; ``load_faces``
reads every face into one array, for evaluation sets and inputs.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from inpaint_toolkit.core.errors import InpaintError
from inpaint_toolkit.core.files import regular_file
from inpaint_toolkit.core.images import (
    IMAGE_SUFFIXES,
    MAX_IMAGE_PIXELS,
    center_crop_resize,
    decode_image,
    list_image_files,
    read_image,
    rgb_image,
)

CELEBA_CROP_BOX = (35, 55, 143, 163)  # the central 108x108 of a 178x218 aligned CelebA face
# No image file holds more than 8 bytes per pixel (16-bit RGBA): a larger archive member is
# refused before it is inflated (a zip bomb).
MAX_MEMBER_BYTES = 8 * MAX_IMAGE_PIXELS


@dataclass
class FaceData:
    images: np.ndarray  # (N, H, W, 3) uint8
    names: list[str]
    skipped: int = 0  # unreadable or corrupt files left out


class ZipFaces:
    """Faces in a zip archive of image files, decoded when asked for (random access)."""

    def __init__(self, path: Path, image_size: int):
        self.path = path
        self.image_size = image_size
        try:
            self._archive = zipfile.ZipFile(path)
        except Exception as exc:  # BadZipFile, OSError, NotImplementedError (a damaged header)
            raise InpaintError(f"{path}: not a readable zip archive ({_brief(exc)})") from None
        self.names = sorted(
            name
            for name in self._archive.namelist()
            if Path(name).suffix.lower() in IMAGE_SUFFIXES and not name.endswith("/")
        )

    def __len__(self) -> int:
        return len(self.names)

    def take(self, indices: Sequence[int]) -> np.ndarray:
        return np.stack([self._decode(self.names[i]) for i in indices])

    def _decode(self, name: str) -> np.ndarray:
        what = f"{self.path}: member {name}"
        try:
            size = self._archive.getinfo(name).file_size
            if size > MAX_MEMBER_BYTES:
                raise InpaintError(f"{what}: {size} bytes inflated, too large for an image")
            data = self._archive.read(name)
        except InpaintError:
            raise
        except Exception as exc:  # corrupt, encrypted, an unknown compression: unreadable
            raise InpaintError(f"{what}: cannot be read ({type(exc).__name__})") from None
        image = rgb_image(decode_image(io.BytesIO(data), what), what)
        return np.asarray(center_crop_resize(image, self.image_size))


class FaceSet:
    """Several sources as one indexable set: in-memory arrays and lazily read archives."""

    def __init__(self, parts: Sequence[np.ndarray | ZipFaces], names: list[str], skipped: int):
        self.parts = [p for p in parts if len(p)]
        self.names = names
        self.skipped = skipped
        self._starts = np.cumsum([0] + [len(p) for p in self.parts])

    def __len__(self) -> int:
        return int(self._starts[-1])

    def take(self, indices: Sequence[int] | np.ndarray) -> np.ndarray:
        """uint8 ``(len(indices), H, W, 3)``, in the order asked."""
        indices = np.asarray(indices, dtype=np.int64)
        which = np.searchsorted(self._starts, indices, side="right") - 1
        out: np.ndarray | None = None
        for part_index in np.unique(which):
            rows = np.nonzero(which == part_index)[0]
            local = indices[rows] - self._starts[part_index]
            part = self.parts[part_index]
            images = part[local] if isinstance(part, np.ndarray) else part.take(local.tolist())
            if out is None:
                out = np.empty((len(indices), *images.shape[1:]), np.uint8)
            out[rows] = images
        assert out is not None, "take() needs at least one index"
        return out


def open_faces(sources: Sequence[str | Path], image_size: int, *, split: str = "train") -> FaceSet:
    """Every source as one set, resized to ``image_size``; zip members are read on demand."""
    if not sources:
        raise InpaintError(
            "no data given: name an .npz file, a zip archive, an image folder or a CelebA root"
        )
    parts: list[np.ndarray | ZipFaces] = []
    names: list[str] = []
    skipped = 0
    for source in map(Path, sources):
        if source.is_file() and source.suffix.lower() == ".zip":
            archive = ZipFaces(source, image_size)
            parts.append(archive)
            names += archive.names
        else:
            part = load_source(source, image_size, split)
            parts.append(part.images)
            names += part.names
            skipped += part.skipped
    faces = FaceSet(parts, names, skipped)
    if len(faces) == 0:
        raise InpaintError(f"no readable images in {', '.join(map(str, sources))}")
    return faces


def load_faces(sources: Sequence[str | Path], image_size: int, *, split: str = "train") -> FaceData:
    """Load and concatenate every source, resized to ``image_size``, into memory."""
    faces = open_faces(sources, image_size, split=split)
    return FaceData(faces.take(np.arange(len(faces))), faces.names, faces.skipped)


def load_source(source: Path, image_size: int, split: str) -> FaceData:
    if not source.is_dir():
        regular_file(source, str(source), noun="file or folder")
        if source.suffix.lower() == ".zip":
            archive = ZipFaces(source, image_size)
            return FaceData(
                archive.take(range(len(archive))) if len(archive) else _empty(image_size),
                archive.names,
            )
        if source.suffix != ".npz":
            raise InpaintError(
                f"{source}: expected an .npz file or a folder of images, or a .zip archive of them"
            )
        return _load_npz(source, image_size)
    if (source / "img_align_celeba").is_dir():
        return _load_celeba(source, image_size, split)
    return _load_folder(list_image_files(source), image_size, crop_box=None)


def _empty(image_size: int) -> np.ndarray:
    return np.zeros((0, image_size, image_size, 3), np.uint8)


def _load_npz(path: Path, image_size: int) -> FaceData:
    """The ``images`` (and optional ``names``) arrays of an .npz; never unpickles."""
    try:
        with path.open("rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        raise InpaintError(f"{path}: cannot be read ({_brief(exc)})") from None
    if magic not in (b"PK\x03\x04", b"PK\x05\x06"):  # np.load would try .npy or pickle
        raise InpaintError(f"{path}: not a readable .npz file (not a zip archive of arrays)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            if "images" not in archive:
                raise InpaintError(f"{path}: has no 'images' array (keys: {list(archive)})")
            images = archive["images"]
            names = archive["names"] if "names" in archive else None
        for key, value in (("images", images), ("names", names)):
            if value is not None and not isinstance(value, np.ndarray):  # np.load gives bytes
                raise InpaintError(f"{path}: its {key!r} member is not a .npy array")
    except InpaintError:
        raise
    except Exception as exc:  # corrupt archive or member, object arrays, bad headers
        raise InpaintError(f"{path}: not a readable .npz file ({_brief(exc)})") from None
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] != 3:
        raise InpaintError(
            f"{path}: 'images' must be uint8 (N, H, W, 3), not {images.dtype} {images.shape}"
        )
    if 0 in images.shape[1:3]:
        raise InpaintError(f"{path}: 'images' are empty, {images.shape[1]}x{images.shape[2]}")
    if names is not None and names.shape != (len(images),):
        raise InpaintError(
            f"{path}: 'names' must hold one name per image, {len(images)}, not the shape "
            f"{names.shape}"
        )
    if len(images) == 0:
        return FaceData(_empty(image_size), [])
    if images.shape[1:3] != (image_size, image_size):
        images = np.stack(
            [np.asarray(center_crop_resize(Image.fromarray(i), image_size)) for i in images]
        )
    if names is None:
        return FaceData(images, [f"{path.stem}[{i}]" for i in range(len(images))])
    return FaceData(images, [_name(n) for n in names])


def _name(name: object) -> str:
    return name.decode("utf-8", "replace") if isinstance(name, bytes) else str(name)


def _brief(exc: BaseException) -> str:
    text = " ".join(str(exc).split())[:200]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _load_celeba(root: Path, image_size: int, split: str) -> FaceData:
    folder = root / "img_align_celeba"
    partition = root / "list_eval_partition.txt"
    files = sorted(folder.glob("*.jpg"))
    if partition.is_file():  # torchvision's layout: 0 train, 1 valid, 2 test
        wanted = {"train": "0", "valid": "1", "test": "2"}[split]
        keep = {
            line.split()[0]
            for line in partition.read_bytes().decode("utf-8", "replace").splitlines()
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
        return FaceData(_empty(image_size), [], skipped)
    return FaceData(np.stack(images), names, skipped)
