"""Fuzzed checkpoints: a valid tiny one, then with a forged safetensors header (length,
dtypes, shapes, offsets, metadata and model records), damaged bytes, or tensors of the
wrong shape or type, missing, extra, NaN or infinite."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
import torch
from fuzz_support import fresh_folder, fuzz_settings, result_or_error, write
from hypothesis import given
from hypothesis import strategies as st

from inpaint_toolkit.core.checkpoint import (
    model_record,
    prefixed,
    read_checkpoint,
    save_checkpoint,
)
from inpaint_toolkit.models import load_models
from inpaint_toolkit.plugins.dcgan import (
    DCGANDiscriminator,
    DCGANDiscriminatorOptions,
    DCGANGenerator,
    DCGANOptions,
)

TINY = {"image_size": 32, "z_dim": 16}
DTYPES = ["F16", "BF16", "F32", "F64", "I8", "I16", "I32", "I64", "U8", "BOOL", "F8_E4M3", "Q"]
TORCH_DTYPES = [torch.float16, torch.float64, torch.bfloat16, torch.int64, torch.int8, torch.bool]


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz_checkpoints")


def tiny_models() -> tuple[dict[str, torch.Tensor], dict]:
    torch.manual_seed(0)
    g = DCGANGenerator(DCGANOptions(**TINY, widths=(32, 16, 8)))
    # Spectral norm off: its power iterations on the meta device cost 0.25 s a load.
    d = DCGANDiscriminator(
        DCGANDiscriminatorOptions(**TINY, widths=(8, 16, 32), spectral_norm=False)
    )
    tensors = {**prefixed("generator", g.state_dict()), **prefixed("discriminator", d.state_dict())}
    metadata = {"generator": model_record("dcgan", g), "discriminator": model_record("dcgan", d)}
    return tensors, metadata


TENSORS, METADATA = tiny_models()
KEYS = sorted(TENSORS)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=8,
)
model_options = st.fixed_dictionaries(
    {},
    optional={
        "image_size": st.sampled_from([32, 64, 7, 0, -32, 2**40]),
        "z_dim": st.integers(-3, 2**40),
        "widths": st.lists(st.integers(-2, 2**20), max_size=5),
        "channels": st.integers(-1, 4),
        "spectral_norm": st.booleans(),
        "typo": st.integers(),
    },
)


@st.composite
def tensor_changes(draw: st.DrawFn) -> Change:
    """Tensors and metadata with one change that ``save_checkpoint`` writes faithfully."""
    tensors, metadata = dict(TENSORS), json.loads(json.dumps(METADATA))
    change = draw(
        st.sampled_from(["none", "nan", "inf", "dtype", "shape", "drop", "extra", "record"])
    )
    key = draw(st.sampled_from(KEYS))
    if change in ("nan", "inf"):
        float_keys = [k for k in KEYS if tensors[k].is_floating_point()]
        key = draw(st.sampled_from(float_keys))
        tensors[key] = tensors[key].clone().flatten()
        tensors[key][draw(st.integers(0, len(tensors[key]) - 1))] = float(change)
        tensors[key] = tensors[key].reshape(TENSORS[key].shape)
    elif change == "dtype":
        tensors[key] = tensors[key].to(draw(st.sampled_from(TORCH_DTYPES)))
    elif change == "shape":
        tensors[key] = tensors[key].flatten()[: draw(st.integers(0, tensors[key].numel()))]
    elif change == "drop":
        del tensors[key]
    elif change == "extra":
        key = draw(st.sampled_from(["generator.extra", "discriminator.main.9.weight"]))
        tensors[key] = torch.zeros(draw(st.integers(0, 3)))
    elif change == "record":
        kind = draw(st.sampled_from(["generator", "discriminator"]))
        metadata[kind] = draw(
            st.fixed_dictionaries({"name": st.sampled_from(["dcgan", "progressive", "nope"])}).map(
                lambda record: {**record, "options": draw(model_options)}
            )
            | json_values
        )
    return Change(tensors, metadata, change, key)


class Change(tuple):
    """(tensors, metadata, what, key), shown as what and key: tensors print for pages."""

    def __new__(cls, *parts):
        return super().__new__(cls, parts)

    def __repr__(self) -> str:
        return f"Change({self[2]!r} of {self[3]!r}, metadata={self[1]!r})"


def kind(tensor: torch.Tensor) -> str:
    if tensor.is_floating_point():
        return "float"
    return "bool" if tensor.dtype == torch.bool else "integer"


def checkpoint_bytes(folder: Path, tensors: dict, metadata: dict) -> bytes:
    path = folder / "source.safetensors"
    save_checkpoint(path, tensors, metadata)
    data = path.read_bytes()
    path.unlink()
    return data


@st.composite
def forged_headers(draw: st.DrawFn, data: bytes) -> tuple[bytes, str]:
    """``data`` with its header rewritten: length, an entry's dtype, shape or offsets,
    the metadata; or bytes flipped, the file cut short, or nothing of a checkpoint."""
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + length])
    body = data[8 + length :]
    forgery = draw(
        st.sampled_from(
            ["length", "dtype", "shape", "offsets", "metadata", "text", "flip", "cut", "none"]
        )
    )
    key = draw(st.sampled_from(KEYS))
    if forgery == "length":
        return struct.pack("<Q", draw(st.integers(0, 2**64 - 1))) + data[8:], forgery
    if forgery == "dtype":
        header[key]["dtype"] = draw(st.sampled_from(DTYPES))
    elif forgery == "shape":
        header[key]["shape"] = draw(st.lists(st.integers(-1, 2**33), max_size=4))
    elif forgery == "offsets":
        header[key]["data_offsets"] = draw(st.lists(st.integers(-1, 2**40), max_size=3))
    elif forgery == "metadata":
        field = draw(st.sampled_from(["format", "generator", "discriminator", "step"]))
        text = draw(st.text(max_size=20) | json_values.map(json.dumps))
        header["__metadata__"][field] = text
    elif forgery == "text":
        raw = draw(st.binary(max_size=64))
        return struct.pack("<Q", len(raw)) + raw + body, forgery
    elif forgery == "flip":
        flipped = bytearray(data)
        for _ in range(draw(st.integers(1, 6))):
            flipped[draw(st.integers(0, len(data) - 1))] ^= draw(st.integers(1, 255))
        return bytes(flipped), forgery
    elif forgery == "cut":
        return data[: draw(st.integers(0, len(data) - 1))], forgery
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + body, forgery


@fuzz_settings(100)
@given(change=tensor_changes(), need_discriminator=st.booleans())
def test_load_models_with_changed_tensors(root: Path, change, need_discriminator: bool) -> None:
    tensors, metadata, what, key = change
    folder = fresh_folder(root)
    path = write(folder, "model.safetensors", checkpoint_bytes(folder, tensors, metadata))
    loaded, message = result_or_error(
        load_models, path, need_discriminator=need_discriminator, folder=folder
    )
    used = key.startswith("generator") or need_discriminator
    if loaded is None:
        assert str(path) in message, message
        assert what != "none", message
        if what in ("nan", "inf"):
            assert "NaN or infinite weights" in message and key.split(".", 1)[1] in message
        # Half or double precision for a float is fine; any other change of kind is not.
        assert not (what == "dtype" and kind(tensors[key]) == kind(TENSORS[key]))
        return
    assert not (used and what in ("nan", "inf", "drop", "extra")), what
    g, d, _ = loaded
    for model in [g, d] if need_discriminator else [g]:
        for value in model.state_dict().values():
            assert not value.is_floating_point() or torch.isfinite(value).all()
    with torch.no_grad():
        assert g(g.sample_z(2)).shape == (2, 3, 32, 32)


@fuzz_settings(120)
@given(data=st.data())
def test_forged_safetensors_headers(root: Path, data) -> None:
    folder = fresh_folder(root)
    forged, forgery = data.draw(forged_headers(checkpoint_bytes(folder, TENSORS, METADATA)))
    path = write(folder, "forged.safetensors", forged)
    read, message = result_or_error(read_checkpoint, path, folder=folder)
    if read is None:
        assert str(path) in message, message
        assert forgery != "none", message
        return
    loaded, message = result_or_error(load_models, path, folder=folder)
    if loaded is None:
        assert str(path) in message, message
    else:
        for value in loaded[0].state_dict().values():
            assert not value.is_floating_point() or torch.isfinite(value).all()
