"""The images ``run`` repairs: files, folders or .npz, and the demo face when none is given."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from inpaint_toolkit.core.errors import InpaintError
from inpaint_toolkit.core.images import center_crop_resize, read_image
from inpaint_toolkit.core.notices import notice
from inpaint_toolkit.data.faces import FaceData, load_source

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
            part = load_source(source, image_size, "test")
            if part.skipped:
                notice(f"{source}: {part.skipped} unreadable or non-RGB file(s) skipped")
            parts.append(part)
    images = np.concatenate([p.images for p in parts])
    if len(images) == 0:
        raise InpaintError(f"no readable images in {', '.join(map(str, sources))}")
    return FaceData(images, [n for p in parts for n in p.names])
