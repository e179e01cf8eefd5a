"""``inpaint-toolkit export`` and ``sample`` on a tiny checkpoint written here."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from PIL import Image

from inpaint_toolkit.cli import main
from inpaint_toolkit.core.checkpoint import (
    model_record,
    prefixed,
    read_checkpoint,
    save_checkpoint,
)
from inpaint_toolkit.plugins.dcgan import (
    DCGANDiscriminator,
    DCGANDiscriminatorOptions,
    DCGANGenerator,
    DCGANOptions,
)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    g = DCGANGenerator(DCGANOptions(image_size=32, z_dim=16, widths=(32, 16, 8)))
    d = DCGANDiscriminator(DCGANDiscriminatorOptions(image_size=32, z_dim=16, widths=(8, 16, 32)))
    path = tmp_path_factory.mktemp("checkpoint") / "tiny.safetensors"
    tensors = {**prefixed("generator", g.state_dict()), **prefixed("discriminator", d.state_dict())}
    metadata = {
        "generator": model_record("dcgan", g),
        "discriminator": model_record("dcgan", d),
        "step": 42,
    }
    save_checkpoint(path, tensors, metadata)
    return path


@pytest.fixture(scope="module")
def exported(checkpoint, tmp_path_factory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("onnx") / "generator.onnx"
    printed = io.StringIO()  # capsys is per test; this fixture is per module
    with contextlib.redirect_stdout(printed):
        status = main(["export", "--checkpoint", str(checkpoint), "--out", str(out)])
    assert status == 0
    return out, printed.getvalue()


def test_export_writes_a_verified_file_with_provenance(exported):
    path, printed = exported
    assert str(path) in printed
    assert "verify passed" in printed and "max |onnxruntime - torch fp32|" in printed
    props = {p.key: json.loads(p.value) for p in onnx.load(str(path)).metadata_props}
    assert props["provenance"]["step"] == 42
    assert props["provenance"]["checkpoint"] == "tiny.safetensors"


def _grid(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.int16)


def test_sample_grids_agree_between_backends(checkpoint, exported, tmp_path, capsys):
    args = ["sample", "--n", "6", "--seed", "3", "--columns", "3", "--device", "cpu"]
    assert main([*args, "--checkpoint", str(checkpoint), "--out", str(tmp_path / "t.png")]) == 0
    assert "backend torch (cpu, fp32)" in capsys.readouterr().out
    onnx_args = [*args, "--backend", "onnx", "--onnx", str(exported[0])]
    assert main([*onnx_args, "--out", str(tmp_path / "o.png")]) == 0
    assert "backend onnx (CPUExecutionProvider)" in capsys.readouterr().out
    torch_grid, onnx_grid = _grid(tmp_path / "t.png"), _grid(tmp_path / "o.png")
    assert torch_grid.shape == (2 * 34 + 2, 3 * 34 + 2, 3)  # 2 rows x 3 faces of 32 + padding
    assert np.abs(torch_grid - onnx_grid).max() <= 1  # equal up to rounding to uint8


def test_sample_onnx_without_a_file_exports_to_a_temporary_one(checkpoint, tmp_path, capsys):
    out = tmp_path / "grid.png"
    argv = ["sample", "--backend", "onnx", "--checkpoint", str(checkpoint), "--n", "2"]
    assert main([*argv, "--device", "cpu", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "exported to a temporary ONNX file" in printed and "CPUExecutionProvider" in printed
    assert out.is_file() and list(tmp_path.iterdir()) == [out]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--onnx", "g.onnx"], "--onnx is for --backend onnx"),
        (["--backend", "onnx", "--onnx", "missing.onnx"], "no such ONNX file"),
        (["--n", "0"], "--n must be at least 1"),
        (["--data", "test.npz"], "--data and --reference are for --score"),
        (["--reference", "train.npz"], "--data and --reference are for --score"),
    ],
)
def test_sample_errors_are_one_line(argv, message, tmp_path, capsys):
    assert main(["sample", *argv, "--out", str(tmp_path / "x.png")]) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1


def test_sample_score_compares_two_models_in_one_run(checkpoint, tmp_path, capsys):
    faces = tmp_path / "faces.npz"
    rng = np.random.default_rng(0)
    blocks = rng.integers(0, 256, size=(24, 4, 4, 3), dtype=np.uint8)
    np.savez(faces, images=blocks.repeat(8, axis=1).repeat(8, axis=2))
    other = tmp_path / "other.safetensors"
    tensors, metadata = read_checkpoint(checkpoint)
    halved = {k: v * 0.5 if v.is_floating_point() else v for k, v in tensors.items()}
    save_checkpoint(other, halved, metadata)  # integer buffers stay integers
    out = tmp_path / "scores.json"
    argv = ["sample", "--score", "--data", str(faces), "--checkpoint", str(checkpoint), str(other)]
    assert main([*argv, "--device", "cpu", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.count("SWD x1e3") == 2 and "SWD on 24 samples vs 24 real faces" in printed
    scores = json.loads(out.read_text())
    assert [s["checkpoint"] for s in scores] == [str(checkpoint), str(other)]
    assert scores[0]["swd"] != scores[1]["swd"] and all(s["swd"] > 0 for s in scores)


def _block_faces(path: Path, count: int, seed: int) -> Path:
    """Faces of 4x4 random colour blocks, 32x32: one distribution, any number of sets."""
    blocks = np.random.default_rng(seed).integers(0, 256, size=(count, 4, 4, 3), dtype=np.uint8)
    np.savez(path, images=blocks.repeat(8, axis=1).repeat(8, axis=2))
    return path


def test_sample_score_reference_gives_the_floor_of_real_faces(checkpoint, tmp_path, capsys):
    held_out = _block_faces(tmp_path / "held_out.npz", 24, seed=0)
    training = _block_faces(tmp_path / "training.npz", 40, seed=1)  # same kind, other faces
    out = tmp_path / "scores.json"
    argv = ["sample", "--score", "--data", str(held_out), "--checkpoint", str(checkpoint)]
    assert main([*argv, "--reference", str(training), "--n", "30", "--out", str(out)]) == 0
    model, floor = json.loads(out.read_text())
    assert floor["checkpoint"] == f"real faces from {training}"
    assert floor["samples"] == 24 and floor["judge_samples"] == 30
    # faces drawn like the held-out ones are far closer to them than an untrained model
    assert 0 < floor["swd"] < model["swd"] / 2
    assert main([*argv, "--reference", str(training), "--n", "41"]) == 2
    error = capsys.readouterr().err
    assert "--reference holds 40 faces; --score needs 41" in error and error.count("\n") == 1


def test_sample_score_without_data_is_a_one_line_error(capsys):
    assert main(["sample", "--score"]) == 2
    error = capsys.readouterr().err
    assert "--score needs --data" in error and error.count("\n") == 1
