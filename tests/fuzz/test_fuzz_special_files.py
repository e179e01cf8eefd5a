"""Fuzzed special files: every reader of a user's file given a named pipe, a device, a
socket, a folder, a missing or dangling name, each under any of the names the readers
expect (``faces.npz``, ``mask.png``, ``run.toml``, ...) and through symbolic links.

A named pipe with no writer blocks whoever opens it, and ``/dev/zero`` never ends: the
property (one line or a result, never a hang) catches both."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from fuzz_support import fresh_folder, fuzz_settings, result_or_error
from hypothesis import given
from hypothesis import strategies as st

from inpaint_toolkit.core.checkpoint import read_checkpoint
from inpaint_toolkit.core.config import load_config
from inpaint_toolkit.core.images import read_image
from inpaint_toolkit.data.faces import load_faces, open_faces
from inpaint_toolkit.data.inputs import load_inputs
from inpaint_toolkit.inpainting.config import RunConfig
from inpaint_toolkit.models import load_models
from inpaint_toolkit.photo.reading import read_photo
from inpaint_toolkit.registry import get_registry
from inpaint_toolkit.training.config import TrainConfig

KINDS = ("pipe", "zero", "urandom", "null", "socket", "folder", "missing", "dangling")
NAMES = ("faces.npz", "faces.zip", "mask.png", "photo.jpg", "run.toml", "model.safetensors")
READERS = {
    "image": read_image,
    "photo": read_photo,
    "mask file": lambda path: get_registry().build("mask", "file", {"path": path}),
    "run config": lambda path: load_config(RunConfig, path, {}),
    "train config": lambda path: load_config(TrainConfig, path, {"data": ["x.npz"]}),
    "checkpoint": read_checkpoint,
    "model": load_models,
    "faces": lambda path: load_faces([path], 8),
    "training faces": lambda path: open_faces([path], 8),
    "inputs": lambda path: load_inputs([path], 8),
}


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz_special")


def make_special(folder: Path, kind: str, name: str) -> Path:
    path = folder / name
    if kind == "pipe":
        os.mkfifo(path)
    elif kind in ("zero", "urandom", "null"):
        path.symlink_to(f"/dev/{kind}")
    elif kind == "socket":
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(str(path))  # left bound: the file is what the reader meets
        listener.close()
    elif kind == "folder":
        path.mkdir()
    elif kind == "dangling":
        path.symlink_to(folder / "gone")
    return path


@fuzz_settings(150)
@given(
    kind=st.sampled_from(KINDS),
    name=st.sampled_from(NAMES),
    reader=st.sampled_from(sorted(READERS)),
    linked=st.booleans(),
)
def test_readers_on_special_files(root: Path, kind: str, name: str, reader: str, linked) -> None:
    folder = fresh_folder(root)
    path = make_special(folder, kind, name)
    if linked:  # a link to the special file is no way round the check
        path = folder / f"link-{name}"
        path.symlink_to(folder / name)
    result, message = result_or_error(READERS[reader], path, folder=folder)
    if kind == "folder" and reader in ("faces", "training faces", "inputs"):
        return  # a folder of images is a face set: this one is an empty set, or an error
    assert result is None, (kind, reader)
    assert str(path) in message, message
    if kind in ("pipe", "zero", "urandom", "null", "socket"):
        assert "not a regular file" in message, message
