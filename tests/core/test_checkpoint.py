"""Checkpoints: round trips, one-line errors for anything that is not ours or does not fit,
and atomic writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from inpaint_toolkit.core import checkpoint as checkpoint_module
from inpaint_toolkit.core.checkpoint import (
    load_state_strict,
    read_checkpoint,
    save_checkpoint,
)
from inpaint_toolkit.core.errors import InpaintError
from inpaint_toolkit.models import load_models
from inpaint_toolkit.plugins.dcgan import DCGANGenerator, DCGANOptions


def one_line_error(call, *args, **kwargs) -> str:
    with pytest.raises(InpaintError) as caught:
        call(*args, **kwargs)
    message = str(caught.value)
    assert "\n" not in message, message
    return message


def rewrite_metadata(path: Path, change) -> None:
    """Rewrite ``path`` with ``change(metadata)`` applied to its decoded metadata."""
    with safe_open(str(path), framework="pt") as handle:
        raw = handle.metadata()
    tensors, _ = read_checkpoint(path)
    decoded = {key: json.loads(value) for key, value in raw.items()}
    change(decoded)
    save_file(tensors, str(path), metadata={k: json.dumps(v) for k, v in decoded.items()})


def test_load_models_rebuilds_the_saved_models(tiny_checkpoint, tiny_generator):
    g, d, metadata = load_models(tiny_checkpoint)
    assert not g.training and not d.training
    assert metadata["generator"]["options"]["widths"] == [32, 16, 8]
    z = tiny_generator.sample_z(2, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.equal(g(z), tiny_generator(z))
        assert d(g(z)).shape == (2,)


def test_other_widths_in_the_metadata_are_a_one_line_mismatch(tiny_checkpoint):
    def wider(metadata: dict) -> None:
        metadata["generator"]["options"]["widths"] = [64, 32, 16]

    rewrite_metadata(tiny_checkpoint, wider)
    message = one_line_error(load_models, tiny_checkpoint)
    assert "does not fit the model" in message
    assert "project.weight (512, 16) vs (1024, 16)" in message  # checkpoint vs model
    assert str(tiny_checkpoint) in message


def test_load_state_strict_names_missing_unexpected_and_misshapen_keys(tiny_generator):
    bigger = DCGANGenerator(DCGANOptions(image_size=32, z_dim=16, widths=(64, 16, 8)))
    message = one_line_error(load_state_strict, bigger, tiny_generator.state_dict(), "tiny.st")
    assert message.startswith("tiny.st does not fit the model")
    assert "shape of project.weight (512, 16) vs (1024, 16)" in message

    state = dict(tiny_generator.state_dict())
    state["extra.weight"] = state.pop("project.weight")
    message = one_line_error(load_state_strict, tiny_generator, state, "tiny.st")
    assert "missing project.weight" in message
    assert "unexpected extra.weight" in message


def test_files_that_are_not_our_checkpoints_are_one_line_errors(tmp_path):
    missing = tmp_path / "absent.safetensors"
    assert "no such checkpoint" in one_line_error(load_models, missing)

    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"this is not a safetensors file\n" * 10)
    assert "not a safetensors checkpoint" in one_line_error(read_checkpoint, garbage)

    foreign = tmp_path / "foreign.safetensors"
    save_file({"weight": torch.zeros(2, 2)}, str(foreign), metadata={"author": "someone"})
    assert "not an inpaint-toolkit checkpoint" in one_line_error(load_models, foreign)


def test_asking_for_another_generator_names_both(tiny_checkpoint):
    message = one_line_error(load_models, tiny_checkpoint, generator="other")
    assert "'dcgan'" in message and "'other'" in message


def test_a_checkpoint_without_a_discriminator_loads_only_when_none_is_needed(
    tmp_path, tiny_generator
):
    from inpaint_toolkit.core.checkpoint import model_record, prefixed

    path = tmp_path / "g_only.safetensors"
    save_checkpoint(
        path,
        prefixed("generator", tiny_generator.state_dict()),
        {"generator": model_record("dcgan", tiny_generator)},
    )
    g, d, _ = load_models(path, need_discriminator=False)
    assert d is None and g.z_dim == 16
    assert "holds no discriminator" in one_line_error(load_models, path)


def test_save_checkpoint_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "run" / "checkpoint.safetensors"
    save_checkpoint(path, {"a": torch.arange(4.0)}, {"step": 1})
    before = path.read_bytes()
    tensors, metadata = read_checkpoint(path)
    assert torch.equal(tensors["a"], torch.arange(4.0)) and metadata["step"] == 1
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temp file

    def fail_halfway(tensors, filename, metadata=None):
        Path(filename).write_bytes(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint_module, "save_file", fail_halfway)
    with pytest.raises(InpaintError, match="disk full"):  # one line, not a traceback
        save_checkpoint(path, {"a": torch.zeros(4)}, {"step": 2})
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]
