"""Training data: .npz files, image folders (bad files skipped and counted), CelebA roots."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from inpaint_toolkit.core.errors import InpaintError
from inpaint_toolkit.data.faces import CELEBA_CROP_BOX, load_faces


def smooth_images(count: int, size: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, 256, size=(count, 4, 4, 3), dtype=np.uint8)
    return blocks.repeat(size // 4, axis=1).repeat(size // 4, axis=2)


def test_npz_at_the_right_size_is_taken_as_is(tmp_path):
    images = smooth_images(5, 32)
    path = tmp_path / "faces.npz"
    np.savez(path, images=images, names=np.array([f"f{i}.png" for i in range(5)]))
    faces = load_faces([path], 32)
    assert np.array_equal(faces.images, images)
    assert faces.names == [f"f{i}.png" for i in range(5)]
    assert faces.skipped == 0


def test_npz_of_another_size_is_resized_and_sources_concatenate(faces_npz, tmp_path):
    other = tmp_path / "other.npz"
    np.savez(other, images=smooth_images(3, 32))
    faces = load_faces([faces_npz, other], 32)  # faces_npz holds 40 images of 64x64
    assert faces.images.shape == (43, 32, 32, 3) and faces.images.dtype == np.uint8
    assert faces.names[-3:] == ["other[0]", "other[1]", "other[2]"]


def test_folder_skips_and_counts_corrupt_and_greyscale_files(tmp_path):
    folder = tmp_path / "faces"
    (folder / "nested").mkdir(parents=True)
    for i, image in enumerate(smooth_images(3, 48)):
        Image.fromarray(image).save(folder / ("nested" if i == 2 else ".") / f"face{i}.png")
    (folder / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    Image.fromarray(np.full((48, 48), 128, np.uint8), mode="L").save(folder / "grey.png")
    (folder / "notes.txt").write_text("not an image, not counted")

    faces = load_faces([folder], 32)
    assert faces.images.shape == (3, 32, 32, 3)
    assert sorted(faces.names) == ["face0.png", "face1.png", "face2.png"]
    assert faces.skipped == 2


def test_celeba_root_gets_the_standard_crop_and_only_its_split(tmp_path):
    root = tmp_path / "celeba"
    (root / "img_align_celeba").mkdir(parents=True)
    # White where the standard 108x108 crop is, black around it: a plain centre crop of
    # the 178x218 picture would take black rows too.
    left, top, right, bottom = CELEBA_CROP_BOX
    picture = np.zeros((218, 178, 3), np.uint8)
    picture[top:bottom, left:right] = 255
    for number in range(1, 6):
        Image.fromarray(picture).save(root / "img_align_celeba" / f"{number:06d}.jpg", quality=95)
    partitions = ["0", "1", "0", "2", "0"]
    (root / "list_eval_partition.txt").write_text(
        "".join(f"{n:06d}.jpg {p}\n" for n, p in enumerate(partitions, start=1))
    )

    train = load_faces([root], 32)
    assert train.names == ["000001.jpg", "000003.jpg", "000005.jpg"]
    assert train.images.shape == (3, 32, 32, 3)
    assert train.images.min() >= 240  # all face (white), no border (black)
    assert load_faces([root], 32, split="test").names == ["000004.jpg"]


@pytest.mark.parametrize(
    ("arrays", "expected"),
    [
        ({"faces": np.zeros((2, 32, 32, 3), np.uint8)}, "no 'images' array"),
        ({"images": np.zeros((2, 32, 32, 3), np.float32)}, "must be uint8"),
        ({"images": np.zeros((2, 32, 32), np.uint8)}, "must be uint8 \\(N, H, W, 3\\)"),
    ],
)
def test_a_wrong_npz_is_a_one_line_error(tmp_path, arrays, expected):
    path = tmp_path / "wrong.npz"
    np.savez(path, **arrays)
    with pytest.raises(InpaintError, match=expected) as caught:
        load_faces([path], 32)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_unusable_sources_are_errors(tmp_path):
    with pytest.raises(InpaintError, match="no such file or folder"):
        load_faces([tmp_path / "absent"], 32)
    text = tmp_path / "faces.txt"
    text.write_text("hello")
    with pytest.raises(InpaintError, match="expected an .npz file or a folder"):
        load_faces([text], 32)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InpaintError, match="no readable images"):
        load_faces([tmp_path / "empty"], 32)
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"not a zip archive")
    with pytest.raises(InpaintError, match="not a readable .npz"):
        load_faces([broken], 32)


def test_no_source_at_all_is_an_error():
    with pytest.raises(InpaintError, match="no data given"):
        load_faces([], 32)


def write_zip(path, images, names, extra: dict[str, bytes] | None = None):
    import io
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for image, name in zip(images, names, strict=True):
            buffer = io.BytesIO()
            Image.fromarray(image).save(buffer, format="PNG")
            archive.writestr(name, buffer.getvalue())
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return path


def test_zip_archives_are_read_member_by_member_in_name_order(tmp_path):
    from inpaint_toolkit.data.faces import open_faces

    images = smooth_images(6, 32)
    names = [f"{i}.png" for i in (3, 0, 5, 1, 4, 2)]
    archive = write_zip(tmp_path / "faces.zip", images, names, {"README.txt": b"not an image"})
    npz = tmp_path / "more.npz"
    np.savez(npz, images=smooth_images(2, 32, seed=1))
    faces = open_faces([archive, npz], 32)
    assert len(faces) == 8 and faces.names[:6] == sorted(names)
    by_name = dict(zip(names, images, strict=True))
    assert np.array_equal(faces.take([0, 5]), np.stack([by_name["0.png"], by_name["5.png"]]))
    assert np.array_equal(
        faces.take([7, 2]), np.stack([smooth_images(2, 32, 1)[1], by_name["2.png"]])
    )
    assert np.array_equal(load_faces([archive], 32).images[1], by_name["1.png"])


def test_a_source_named_twice_is_drawn_twice_as_often(tmp_path):
    """How a training mix is weighted: one set of 2 + 3 + 3 faces, no option needed."""
    from inpaint_toolkit.data.faces import open_faces

    small = tmp_path / "small.npz"
    np.savez(small, images=smooth_images(2, 32))
    archive = write_zip(
        tmp_path / "other.zip", smooth_images(3, 32, seed=1), ["a.png", "b.png", "c.png"]
    )
    faces = open_faces([small, archive, archive], 32)
    assert len(faces) == 8
    assert np.array_equal(faces.take([2, 3, 4]), faces.take([5, 6, 7]))


def test_a_corrupt_archive_or_member_is_a_one_line_error(tmp_path):
    from inpaint_toolkit.data.faces import open_faces

    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 this is not really a zip")
    with pytest.raises(InpaintError, match="not a readable zip archive"):
        open_faces([broken], 32)
    bad_member = write_zip(
        tmp_path / "bad.zip", smooth_images(1, 32), ["0.png"], {"1.jpg": b"\xff\xd8 junk"}
    )
    faces = open_faces([bad_member], 32)
    with pytest.raises(InpaintError, match=r"member 1.jpg: not a readable image") as caught:
        faces.take([1])
    assert "\n" not in str(caught.value)
