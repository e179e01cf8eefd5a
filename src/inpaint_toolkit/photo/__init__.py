"""Real photographs in, real photographs out.

Find the faces in a full-size photo, align each to the model's face crop, inpaint the
crops with any function, and paste the repairs back at full resolution, changing only
the damaged pixels. The modules, one job each:

- :mod:`.reading`: opening a photo (EXIF, greyscale, alpha, 16-bit) and writing a PNG;
- :mod:`.detection`: faces and eyes, with OpenCV's Haar cascades (offline);
- :mod:`.alignment`: the similarity transform onto the model's framing, and the crop;
- :mod:`.mask_warping`: damage masks between the photo and the crop;
- :mod:`.pasting` and :mod:`.grain`: the repaired crops back into the photo;
- :mod:`.repair`: all of it in :func:`repair_photo`.
"""

from inpaint_toolkit.photo.alignment import AlignedFace, align_face, crop_coverage, crop_face
from inpaint_toolkit.photo.detection import Face, find_faces
from inpaint_toolkit.photo.grain import Grain
from inpaint_toolkit.photo.mask_warping import (
    crop_mask_from_photo,
    photo_mask_from_crop,
    photo_mask_from_crops,
)
from inpaint_toolkit.photo.pasting import Pasted, paste_faces
from inpaint_toolkit.photo.reading import Photo, photo_from_image, read_photo, write_photo
from inpaint_toolkit.photo.repair import Inpaint, PhotoRepair, align_faces, repair_photo

__all__ = [
    "AlignedFace",
    "Face",
    "Grain",
    "Inpaint",
    "Pasted",
    "Photo",
    "PhotoRepair",
    "align_face",
    "align_faces",
    "crop_coverage",
    "crop_face",
    "crop_mask_from_photo",
    "find_faces",
    "paste_faces",
    "photo_from_image",
    "photo_mask_from_crop",
    "photo_mask_from_crops",
    "read_photo",
    "repair_photo",
    "write_photo",
]
