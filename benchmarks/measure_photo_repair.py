"""Repair an eye band painted on real photographs, and check the pasting rule and the eyes.

For each photo in ../shared/data/photos (LFW originals, test identities): find and align
the face, paint a band over the eyes at the photo's resolution (the eye line found, 0.35 of
the inter-ocular distance above and below, 1.9 of it wide), repair it with the packaged
model, and measure: the output's size, the largest change outside the band (8-bit levels),
the share of band pixels changed, and whether the Haar judge finds the eyes in the aligned
face before damage and after the repair. Not a test: it takes minutes.

    python benchmarks/measure_photo_repair.py [--limit N] [--iterations N] [--restarts N]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from inpaint_toolkit.core.images import to_tensor, to_uint8
from inpaint_toolkit.evaluation.judge import FaceJudge
from inpaint_toolkit.inpainting.inpaint import SearchOptions, inpaint
from inpaint_toolkit.models import load_models
from inpaint_toolkit.photo import align_faces, crop_face, read_photo, repair_photo

PHOTOS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "photos"


def eye_band(shape: tuple[int, ...], face) -> np.ndarray:
    (lx, ly), (rx, ry) = face.left_eye, face.right_eye
    distance = float(np.hypot(rx - lx, ry - ly))
    rows, cols = np.mgrid[: shape[0], : shape[1]]
    centre_x, centre_y = (lx + rx) / 2, (ly + ry) / 2
    return (np.abs(rows - centre_y) <= 0.35 * distance) & (
        np.abs(cols - centre_x) <= 0.95 * distance
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=50)
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--restarts", type=int, default=2)
    args = parser.parse_args()
    g, d, _ = load_models()
    options = SearchOptions(iterations=args.iterations, restarts=args.restarts)
    judge = FaceJudge()

    def repair_crops(crops: np.ndarray, known: np.ndarray) -> np.ndarray:
        known_t = torch.from_numpy(known).float()[:, None]
        result = inpaint(g, d, to_tensor(crops) * known_t, known_t, options, progress=False)
        return to_uint8(result.blended[:, 0])

    rows = []
    for path in sorted(PHOTOS.glob("*.jpg"))[: args.limit]:
        photo = read_photo(path, on_notice=lambda _: None).pixels
        faces = align_faces(photo, size=g.image_size, name=path.name)
        damage = eye_band(photo.shape, faces[0].face)
        repaired = repair_photo(
            photo, damage, repair_crops, faces=faces, face=0, name=path.name, on_notice=None
        ).photo
        change = np.abs(repaired.astype(int) - photo.astype(int)).max(-1)
        before, after = (crop_face(p, faces[0]) for p in (photo, repaired))
        verdicts = judge.judge(np.stack([before, after]))
        rows.append(
            (
                path.name,
                repaired.shape == photo.shape,
                int(change[~damage].max()),
                float((change[damage] > 0).mean()),
                verdicts[0].eyes_found,
                verdicts[1].eyes_found,
            )
        )
        print(*rows[-1], flush=True)
    sizes = all(r[1] for r in rows)
    outside = max(r[2] for r in rows)
    inside = np.mean([r[3] for r in rows])
    eyes_before = np.mean([r[4] for r in rows]) / 2
    eyes_after = np.mean([r[5] for r in rows]) / 2
    print(
        f"{len(rows)} photos, {args.iterations} iterations x {args.restarts} restarts: "
        f"size kept {sizes}; largest change outside the band {outside} levels; "
        f"band pixels changed {inside:.1%}; eyes found by the judge: originals "
        f"{eyes_before:.1%}, repaired {eyes_after:.1%}"
    )


if __name__ == "__main__":
    main()
