"""Fuzzed face sets: .npz files (wrong keys, dtypes, shapes, object arrays, not zip
archives at all, corrupt) and zip archives of images (corrupt members, not a zip)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from fuzz_support import damaged_images, fresh_folder, fuzz_settings, result_or_error, write
from hypothesis import given
from hypothesis import strategies as st

from inpaint_toolkit.data.faces import load_faces, open_faces

SIZE = 8  # the image size the faces are brought to
TRIPPED: list[str] = []


def trip() -> None:
    """What unpickling a Tripwire calls: proof that a reader unpickled user data."""
    TRIPPED.append("unpickled")


class Tripwire:
    def __reduce__(self):
        return (trip, ())


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz_faces")


DTYPES = ["uint8", "uint8", "float32", "int16", ">u2", "bool", "U3", "object"]


@st.composite
def arrays(draw: st.DrawFn, images: bool) -> np.ndarray:
    """Mostly the right kind of array (uint8 (N, H, W, 3) images, N names), then not."""
    rng = np.random.default_rng(draw(st.integers(0, 1000)))
    if images and draw(st.booleans()):
        shape = (draw(st.integers(0, 4)), draw(st.integers(0, 12)), draw(st.integers(1, 12)), 3)
    else:
        shape = tuple(draw(st.lists(st.integers(0, 5), max_size=5)))
    dtype = draw(st.sampled_from(DTYPES))
    if dtype == "object":
        array = np.empty(shape, dtype=object)
        array.fill(Tripwire())
        return array
    if dtype == "U3":
        return rng.integers(0, 999, shape).astype(str)
    return rng.integers(0, 256, shape).astype(dtype)


@st.composite
def npz_files(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["npz", "npz", "npz", "npy", "pickle", "garbage", "empty"]))
    if kind == "empty":
        return b""
    if kind == "garbage":
        return draw(st.binary(max_size=300))
    buffer = io.BytesIO()
    if kind == "npy":  # an .npy array in a file named .npz
        np.save(buffer, draw(arrays(images=True)), allow_pickle=True)
        return buffer.getvalue()
    if kind == "pickle":
        import pickle

        return pickle.dumps(Tripwire())
    members = {}
    if draw(st.integers(0, 5)) != 5:
        members["images"] = draw(arrays(images=True))
    if draw(st.booleans()):
        count = len(members["images"]) if "images" in members and members["images"].ndim else 0
        names = np.array([f"face {i}" for i in range(count)])
        members["names"] = names if draw(st.booleans()) else draw(arrays(images=False))
    if draw(st.booleans()):
        members[draw(st.text("abimgesx_.", min_size=1, max_size=8))] = draw(arrays(images=False))
    saver = np.savez_compressed if draw(st.booleans()) else np.savez
    saver(buffer, **members)
    data = bytearray(buffer.getvalue())
    damage = draw(st.sampled_from(["none", "none", "truncate", "flip", "raw member"]))
    if damage == "truncate":
        data = data[: draw(st.integers(0, len(data)))]
    elif damage == "flip":
        for _ in range(draw(st.integers(1, 4))):
            data[draw(st.integers(0, len(data) - 1))] ^= draw(st.integers(1, 255))
    elif damage == "raw member":  # a member that is not an .npy array at all
        raw = io.BytesIO()
        with zipfile.ZipFile(raw, "w") as archive:
            archive.writestr("images.npy", draw(st.binary(max_size=64)))
        data = bytearray(raw.getvalue())
    return bytes(data)


def check_faces(faces) -> None:
    assert faces.images.dtype == np.uint8 and faces.images.shape[1:] == (SIZE, SIZE, 3)
    assert len(faces.names) == len(faces.images)
    assert all(isinstance(name, str) for name in faces.names)


@fuzz_settings(120)
@given(data=npz_files())
def test_npz_files(root: Path, data: bytes) -> None:
    folder = fresh_folder(root)
    path = write(folder, "faces.npz", data)
    faces, message = result_or_error(load_faces, [path], SIZE, folder=folder)
    assert not TRIPPED, "an object array was unpickled"
    if faces is not None:
        check_faces(faces)
    else:
        assert str(path) in message, message


@st.composite
def zip_archives(draw: st.DrawFn) -> bytes:
    if draw(st.integers(0, 7)) == 7:
        return draw(st.binary(max_size=200))
    buffer = io.BytesIO()
    compression = draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for index in range(draw(st.integers(1, 3))):
            case = draw(damaged_images())
            name = f"faces/{index}{draw(st.sampled_from(['.png', '.jpg', '.webp', '.txt']))}"
            archive.writestr(name, case.data)
        if draw(st.booleans()):
            archive.writestr("faces/", b"")  # a folder entry
    data = bytearray(buffer.getvalue())
    if draw(st.sampled_from([False, False, True])):
        for _ in range(draw(st.integers(1, 4))):
            data[draw(st.integers(0, len(data) - 1))] ^= draw(st.integers(1, 255))
    return bytes(data)


@fuzz_settings(60)
@given(data=zip_archives())
def test_zip_archives(root: Path, data: bytes) -> None:
    folder = fresh_folder(root)
    path = write(folder, "faces.zip", data)
    faces, message = result_or_error(open_faces, [path], SIZE, folder=folder)
    if faces is None:
        assert str(path) in message, message
        return
    images, message = result_or_error(faces.take, list(range(len(faces))), folder=folder)
    if images is not None:
        assert images.dtype == np.uint8 and images.shape == (len(faces), SIZE, SIZE, 3)
    else:
        assert str(path) in message, message


def test_a_zip_needing_an_unknown_zip_version_is_one_line(tmp_path: Path) -> None:
    """Found by the fuzzing above: zipfile raises NotImplementedError for it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("face.png", b"not read")
    data = bytearray(buffer.getvalue())
    data[data.rfind(b"PK\x01\x02") + 6] = 84  # "version needed to extract": 8.4
    path = write(tmp_path, "faces.zip", bytes(data))
    _, message = result_or_error(open_faces, [path], SIZE, folder=tmp_path)
    assert (
        message == f"{path}: not a readable zip archive (NotImplementedError: zip file version 8.4)"
    )
