"""``inpaint-toolkit run`` on a real photograph: the face is found and aligned, repaired,
and pasted back at full resolution, changing only the damaged pixels.

The photograph is scikit-image's astronaut (512x512, public domain, ships with a
dependency); the models are tiny random ones, so the test is about the pipeline, not the
look of the fill.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from skimage.data import astronaut

from inpaint_toolkit.cli import main

FAST = ["--iterations", "10", "--restarts", "1", "--quiet", "--precision", "fp32"]
EYE_BAND = (slice(88, 118), slice(178, 282))  # rows, columns of her eyes


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "astronaut.png"
    Image.fromarray(astronaut()).save(path)
    return path


def eye_mask(tmp_path, shape=(512, 512)):
    mask = np.zeros(shape, np.uint8)
    mask[EYE_BAND] = 255
    path = tmp_path / "eyes.png"
    Image.fromarray(mask).save(path)
    return path, mask > 0


def run(args, capsys):
    code = main(["run", *args])
    return code, capsys.readouterr()


def test_a_mask_painted_on_the_photo_is_repaired_at_full_resolution(
    photo, tiny_checkpoint, tmp_path, capsys
):
    mask_path, damaged = eye_mask(tmp_path)
    out = tmp_path / "out"
    code, captured = run(
        [str(photo), "--mask-file", str(mask_path), "--checkpoint", str(tiny_checkpoint),
         "--out", str(out), *FAST],
        capsys,
    )  # fmt: skip
    assert code == 0, captured.err
    before = astronaut().astype(int)
    after = np.asarray(Image.open(out / "astronaut_inpainted.png")).astype(int)
    assert after.shape == before.shape
    assert np.abs(after - before)[~damaged].max() <= 1  # outside the mask: untouched
    changed = (np.abs(after - before).sum(-1) > 0)[damaged].mean()
    assert changed > 0.9  # inside: repaired
    assert (out / "astronaut_face0_compare.png").exists()
    [record] = json.loads((out / "summary.json").read_text())["images"]
    assert record["photo"] == "512x512" and record["faces_repaired"] == [0]
    assert record["missing_fraction"] == round(damaged.mean(), 4)


def test_a_mask_plugin_hides_part_of_the_face_not_of_the_photo(
    photo, tiny_checkpoint, tmp_path, capsys
):
    out = tmp_path / "out"
    code, captured = run(
        [str(photo), "--mask", "center", "--face", "0", "--checkpoint", str(tiny_checkpoint),
         "--out", str(out), *FAST],
        capsys,
    )  # fmt: skip
    assert code == 0, captured.err
    after = np.asarray(Image.open(out / "astronaut_inpainted.png")).astype(int)
    rows, cols = np.nonzero(np.abs(after - astronaut().astype(int)).sum(-1))
    # The changed pixels sit on her face (rows 28-166, columns 166-294 of the photo).
    assert 28 < np.median(rows) < 166 and 166 < np.median(cols) < 294
    assert len(rows) < 0.05 * 512 * 512


def test_no_face_suggests_no_align_and_a_face_out_of_range_is_named(
    tiny_checkpoint, tmp_path, capsys
):
    flat = tmp_path / "wall.png"
    Image.fromarray(np.full((120, 160, 3), 90, np.uint8)).save(flat)
    code, captured = run([str(flat), "--checkpoint", str(tiny_checkpoint), *FAST], capsys)
    assert code == 2 and "no face found" in captured.err and "--no-align" in captured.err
    assert captured.err.count("error:") == 1 and "Traceback" not in captured.err


def test_face_out_of_range(photo, tiny_checkpoint, tmp_path, capsys):
    code, captured = run(
        [str(photo), "--face", "7", "--checkpoint", str(tiny_checkpoint),
         "--out", str(tmp_path / "o"), *FAST],
        capsys,
    )  # fmt: skip
    assert code == 2 and "--face 7" in captured.err and captured.err.count("\n") == 1
