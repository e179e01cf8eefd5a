"""Measure face and eye finding on the full-size photos (not a test; prints a report).

    python benchmarks/measure_photo_detection.py [PHOTOS_DIR]

``PHOTOS_DIR`` defaults to ``../shared/data/photos`` (200 LFW deep-funneled originals,
250x250). LFW's deep funnelling leaves every face in about the same place: the data
README's 64-pixel crop (the 120-pixel square at (65, 50)) has the eye line at 51 % and the
eyes 36 % apart, so the eyes sit near (103.4, 111.2) and (146.6, 111.2), with the
person's own variation on top. Reported:

- detection: a face was found whose box holds the middle of those eyes (and whether it
  is the largest face found, the one ``face=0`` picks);
- eyes: the eye cascades gave a pair (the rest use the box's geometry);
- framing: those reference eyes, mapped through the alignment, against where the model
  wants them (in pixels of a 64-pixel crop; the median says how well it frames a face,
  within the photos' own variation).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from inpaint_toolkit.photo.alignment import align_face, eye_targets
from inpaint_toolkit.photo.detection import find_faces

REFERENCE_EYES = np.array([[103.4, 111.2], [146.6, 111.2]])
SIZE = 64
OFF_FRAME = 4.0  # crop pixels of framing error above which a photo is listed


def main(folder: Path) -> int:
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    if not files:
        print(f"no photos in {folder}")
        return 1
    middle = REFERENCE_EYES.mean(axis=0)
    targets = np.array(eye_targets(SIZE))
    missed, not_largest, no_eyes, off, several = [], [], [], [], 0
    errors = {True: [], False: []}
    start = time.perf_counter()
    for path in files:
        photo = np.asarray(Image.open(path).convert("RGB"))
        faces = find_faces(photo)
        several += len(faces) > 1
        hits = [i for i, f in enumerate(faces) if _holds(f.box, middle)]
        if not hits:
            missed.append(path.name)
            continue
        if hits[0] != 0:
            not_largest.append(path.name)
        face = faces[hits[0]]
        if not face.eyes_found:
            no_eyes.append(path.name)
        matrix = align_face(face, photo.shape, SIZE).matrix
        mapped = REFERENCE_EYES @ matrix[:, :2].T + matrix[:, 2]
        error = float(np.linalg.norm(mapped - targets, axis=1).mean())
        errors[face.eyes_found].append(error)
        if error > OFF_FRAME:
            off.append(f"{path.name} ({error:.1f})")
    seconds = time.perf_counter() - start
    total, found = len(files), len(files) - len(missed)
    print(f"photos: {total} in {folder} ({1000 * seconds / total:.0f} ms per photo)")
    print(f"face detected: {found}/{total} = {100 * found / total:.1f} %")
    print(f"  ... and it is the largest face found: {found - len(not_largest)}/{total}")
    print(f"  photos with more than one face: {several}")
    eyes = found - len(no_eyes)
    print(f"eyes found by the cascades: {eyes}/{found} = {100 * eyes / max(found, 1):.1f} %")
    for eyes_found, label in ((True, "eye cascades"), (False, "box geometry")):
        values = np.array(errors[eyes_found])
        if values.size:
            print(
                f"framing error, {label} ({values.size} faces), 64-px crop pixels: "
                f"median {np.median(values):.2f}, 90th percentile {np.percentile(values, 90):.2f}, "
                f"max {values.max():.2f}"
            )
    listed = (
        ("missed", missed),
        ("not the largest", not_largest),
        ("no eyes", no_eyes),
        (f"framing error over {OFF_FRAME:g} px", off),
    )
    for label, names in listed:
        print(f"{label} ({len(names)}): {' '.join(names) if names else '-'}")
    return 0


def _holds(box: tuple[int, int, int, int], point: np.ndarray) -> bool:
    x, y, w, h = box
    return x <= point[0] <= x + w and y <= point[1] <= y + h


if __name__ == "__main__":
    default = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "photos"
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else default))
