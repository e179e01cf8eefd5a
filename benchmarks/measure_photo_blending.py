"""Measure how the repaired crop meets the photo: pasted as is, or Poisson-blended.

    python benchmarks/measure_photo_blending.py [PHOTOS_DIR]

Not a test; prints a report. On every 4th photo of ``../shared/data/photos``, a 20-50
pixel block of the face is painted white and "repaired" with a fill that a generator
could give: the true face's crop, slightly blurred, with a colour cast of (10, -4, 6)
grey levels. Reported, per blend: the mean error in the hole against the true photo, and
the seam, the mean step between each pixel on the hole's edge and its known neighbours
(the undamaged photos' own value is printed for comparison).
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from inpaint_toolkit.photo import align_faces, crop_face, crop_mask_from_photo, paste_faces

CAST = np.array([10, -4, 6])


def main(folder: Path) -> int:
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".png"))[::4]
    if not files:
        print(f"no photos in {folder}")
        return 1
    rng = np.random.default_rng(1)
    errors: dict[str, list[float]] = {"overlay": [], "poisson": []}
    seams: dict[str, list[float]] = {"overlay": [], "poisson": [], "undamaged photo": []}
    for path in files:
        photo = np.asarray(Image.open(path).convert("RGB"))
        aligned = align_faces(photo)[0]
        damage = np.zeros(photo.shape[:2], bool)
        x, y = rng.integers(80, 140, 2)
        damage[y : y + rng.integers(20, 50), x : x + rng.integers(20, 50)] = True
        painted = photo.copy()
        painted[damage] = 255
        crop, hole = crop_face(painted, aligned), crop_mask_from_photo(damage, aligned)
        truth = cv2.GaussianBlur(crop_face(photo, aligned), (0, 0), 0.8).astype(np.int16)
        repaired = crop.copy()
        repaired[hole] = np.clip(truth + CAST, 0, 255).astype(np.uint8)[hole]
        seams["undamaged photo"].append(seam(photo, damage))
        for blend in errors:
            result = paste_faces(painted, damage, [repaired], [aligned], blend=blend, grain=False)
            errors[blend].append(
                float(np.abs(result.photo.astype(np.int16) - photo)[damage].mean())
            )
            seams[blend].append(seam(result.photo, damage))
    print(f"{len(files)} photos of {folder}; grey levels")
    for name, values in seams.items():
        error = f", error in the hole {np.mean(errors[name]):.2f}" if name in errors else ""
        print(f"{name:>16}: seam {np.mean(values):.2f}{error}")
    return 0


def seam(image: np.ndarray, hole: np.ndarray) -> float:
    """Mean absolute step from each hole pixel on the edge to its known 4-neighbours."""
    edge = hole & ~(cv2.erode(hole.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0)
    values = image.astype(np.float64)
    steps = []
    for dy, dx in ((0, 1), (0, -1), (1, 0), (-1, 0)):
        neighbour = np.roll(values, (dy, dx), axis=(0, 1))
        known = np.roll(~hole, (dy, dx), axis=(0, 1))
        steps.append(np.abs(values - neighbour)[edge & known].mean(axis=1))
    return float(np.concatenate(steps).mean())


if __name__ == "__main__":
    default = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "photos"
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else default))
