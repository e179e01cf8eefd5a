"""Pack training faces into one small file for a GPU machine, and unpack them there.

A lent GPU machine takes at most 64 MiB with each call, the repository included, while the
training set is ~220 MB on disk. WebP at quality 80 keeps a 64x64 face in ~0.95 KB (mean
absolute error ~3.5 of 255, below JPEG q85's ~3.3 KB files of ~3.3), and one blob with an
offset table avoids a zip archive's ~100 bytes of headers per member.

    python benchmarks/device/pack_faces.py pack OUT.npz TRAIN_FILES...    # here
    python benchmarks/device/pack_faces.py pack --lossless --first 100 OUT.npz TEST_FILE
    python benchmarks/device/pack_faces.py unpack PACKED.npz OUT.npz      # there

Test faces travel lossless (--lossless, ~5.6 KB a face): evaluation compares against them
pixel for pixel, so they must be the very pixels of the test files.
"""

from __future__ import annotations

import argparse
import io
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from PIL import Image

QUALITY = 80


def _encode(image: np.ndarray, lossless: bool = False) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "WEBP", quality=QUALITY, method=6, lossless=lossless)
    return buffer.getvalue()


def _decode(blob: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(blob)).convert("RGB"))


def pack(out: str, sources: list[str], *, lossless: bool, first: int | None) -> None:
    from inpaint_toolkit.data.faces import load_faces

    images = load_faces(sources, 64).images[:first]
    with ProcessPoolExecutor() as pool:
        blobs = list(pool.map(_encode, images, [lossless] * len(images), chunksize=256))
    offsets = np.cumsum([0] + [len(b) for b in blobs])
    np.savez(out, blob=np.frombuffer(b"".join(blobs), np.uint8), offsets=offsets)
    print(f"{len(blobs)} faces, {offsets[-1] / 1e6:.1f} MB")


def unpack(packed: str, out: str) -> None:
    data = np.load(packed)
    blob, offsets = data["blob"].tobytes(), data["offsets"]
    pieces = [blob[a:b] for a, b in zip(offsets[:-1], offsets[1:], strict=True)]
    with ProcessPoolExecutor() as pool:
        images = np.stack(list(pool.map(_decode, pieces, chunksize=256)))
    names = np.array([f"{i:06d}.webp" for i in range(len(images))])
    np.savez(out, images=images, names=names)
    print(f"{len(images)} faces unpacked to {out}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    verbs = parser.add_subparsers(dest="verb", required=True)
    packing = verbs.add_parser("pack")
    packing.add_argument("out")
    packing.add_argument("sources", nargs="+")
    packing.add_argument("--lossless", action="store_true")
    packing.add_argument("--first", type=int, help="only the first N faces")
    unpacking = verbs.add_parser("unpack")
    unpacking.add_argument("packed")
    unpacking.add_argument("out")
    args = parser.parse_args()
    if args.verb == "pack":
        pack(args.out, args.sources, lossless=args.lossless, first=args.first)
    else:
        unpack(args.packed, args.out)
