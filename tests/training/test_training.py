"""The training loop end to end on a tiny DCGAN: files, exact resume, errors, and torchrun.

Everything runs in fp32 on the CPU, where the loop is deterministic, so "resume is exact"
is checked with ``torch.equal`` on every tensor of the checkpoint.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from PIL import Image

from inpaint_toolkit.core.checkpoint import read_checkpoint
from inpaint_toolkit.core.errors import InpaintError
from inpaint_toolkit.models import load_models
from inpaint_toolkit.training import CHECKPOINT_NAME, train
from inpaint_toolkit.training import loop as training
from inpaint_toolkit.training.config import TrainConfig
from tiny_training import (
    assert_same_training_state,
    deterministic,
    metrics,
    tiny_config,
    write_smooth_faces,
)

STEPS_PER_EPOCH = 6  # 48 images, batches of 8


@pytest.fixture(scope="module")
def faces(tmp_path_factory) -> Path:
    return write_smooth_faces(tmp_path_factory.mktemp("data") / "faces.npz", 48)


@pytest.fixture(scope="module")
def straight_run(faces, tmp_path_factory) -> Path:
    """Two epochs without a break: what every resumed run must reproduce exactly."""
    out = tmp_path_factory.mktemp("straight")
    result = train(tiny_config(faces, out, epochs=2), progress=False)
    assert result.finished and result.step == 2 * STEPS_PER_EPOCH
    return out


def test_one_epoch_writes_a_loadable_checkpoint_samples_plots_and_metrics(faces, tmp_path):
    out = tmp_path / "run"
    result = train(tiny_config(faces, out), progress=False)
    assert result == training.TrainResult(out / CHECKPOINT_NAME, 6, 1, True)

    g, d, metadata = load_models(out / CHECKPOINT_NAME)
    assert metadata["step"] == STEPS_PER_EPOCH and metadata["world_size"] == 1
    assert metadata["train_config"]["batch_size"] == 8
    with torch.no_grad():
        images = g(g.sample_z(2))
    assert images.shape == (2, 3, 32, 32) and d(images).shape == (2,)

    grid_side = 8 * (32 + 2) + 2  # 64 samples, 8 a row, 2 pixels of padding
    for name in ("samples.png", "samples/epoch_001.png"):
        with Image.open(out / name) as grid:
            assert grid.size == (grid_side, grid_side)
    for name in ("loss_d.png", "loss_g.png"):
        with Image.open(out / name) as plot:
            assert plot.format == "PNG"

    records = metrics(out)
    assert [r["step"] for r in records] == list(range(1, STEPS_PER_EPOCH + 1))
    assert all(r["epoch"] == 0 for r in records)
    for r in records:
        assert math.isfinite(r["loss_d"]) and math.isfinite(r["loss_g"]) and r["loss_d"] > 0
        assert 0 <= r["d_real"] <= 1 and 0 <= r["d_fake"] <= 1
    assert not list(out.glob(".*.tmp"))


def test_resuming_at_an_epoch_boundary_is_exact(faces, straight_run, tmp_path):
    out = tmp_path / "resumed"
    first = train(tiny_config(faces, out, epochs=1), progress=False)
    assert first.finished and first.step == STEPS_PER_EPOCH
    second = train(tiny_config(faces, out, epochs=2, resume=True), progress=False)
    assert second.finished and second.step == 2 * STEPS_PER_EPOCH

    assert_same_training_state(straight_run, out)
    assert deterministic(metrics(out)) == deterministic(metrics(straight_run))
    assert (out / "samples" / "epoch_002.png").exists()


def test_a_time_limit_stops_mid_epoch_and_resuming_is_exact(faces, straight_run, tmp_path):
    out = tmp_path / "limited"
    # 6 microseconds: the limit is reached during the first step, which finishes and saves.
    limited = tiny_config(faces, out, epochs=2, time_limit_minutes=1e-7)
    stopped = train(limited, progress=False)
    assert not stopped.finished and stopped.step == 1
    assert read_checkpoint(out / CHECKPOINT_NAME)[1]["step"] == 1

    # A killed run may have logged steps its last checkpoint does not hold: they are redone.
    with (out / "metrics.jsonl").open("a") as log:
        log.write(json.dumps({"step": 2, "epoch": 0, "loss_d": 9.0, "loss_g": 9.0}) + "\n")

    finished = train(tiny_config(faces, out, epochs=2, resume=True), progress=False)
    assert finished.finished and finished.step == 2 * STEPS_PER_EPOCH
    assert_same_training_state(straight_run, out)
    assert deterministic(metrics(out)) == deterministic(metrics(straight_run))


def test_sigterm_mid_epoch_saves_and_resuming_is_exact(faces, straight_run, tmp_path, monkeypatch):
    out = tmp_path / "terminated"
    log = training.RunFiles.log

    def log_then_terminate(self, record):
        log(self, record)
        if record["step"] == 8:  # in the second epoch, as a scheduler's SIGTERM would come
            os.kill(os.getpid(), signal.SIGTERM)

    handler_before = signal.getsignal(signal.SIGTERM)
    monkeypatch.setattr(training.RunFiles, "log", log_then_terminate)
    stopped = train(tiny_config(faces, out, epochs=2), progress=False)
    monkeypatch.undo()
    assert signal.getsignal(signal.SIGTERM) == handler_before
    assert not stopped.finished and stopped.step == 8

    finished = train(tiny_config(faces, out, epochs=2, resume=True), progress=False)
    assert finished.finished
    assert_same_training_state(straight_run, out)
    assert [r["step"] for r in metrics(out)] == list(range(1, 2 * STEPS_PER_EPOCH + 1))


def test_a_new_run_does_not_append_to_an_old_runs_metrics(faces, tmp_path):
    out = tmp_path / "restarted"
    out.mkdir()
    # A run killed before its first checkpoint leaves only its log behind.
    (out / "metrics.jsonl").write_text(json.dumps({"step": 1, "loss_d": 1.0}) + "\n")
    train(tiny_config(faces, out), progress=False)
    assert [r["step"] for r in metrics(out)] == list(range(1, STEPS_PER_EPOCH + 1))


def one_line_error(config: TrainConfig) -> str:
    with pytest.raises(InpaintError) as caught:
        train(config, progress=False)
    message = str(caught.value)
    assert "\n" not in message, message
    return message


def test_resume_without_a_checkpoint_is_an_error(faces, tmp_path):
    message = one_line_error(tiny_config(faces, tmp_path / "empty", resume=True))
    assert message.startswith("--resume: no checkpoint at")


@pytest.mark.parametrize(("setting", "value"), [("batch_size", 16), ("seed", 1)])
def test_resume_with_another_batch_size_or_seed_is_an_error(faces, straight_run, setting, value):
    before = (straight_run / CHECKPOINT_NAME).read_bytes()
    config = tiny_config(faces, straight_run, epochs=3, resume=True, **{setting: value})
    message = one_line_error(config)
    assert f"{setting} is {value} but the checkpoint was made with" in message
    assert (straight_run / CHECKPOINT_NAME).read_bytes() == before


def test_a_new_run_into_a_folder_with_a_checkpoint_is_an_error(faces, straight_run):
    message = one_line_error(tiny_config(faces, straight_run, epochs=3))
    assert "exists; pass --resume" in message


@pytest.mark.slow
def test_two_processes_under_torchrun(faces, tmp_path):
    out = tmp_path / "ddp"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--standalone",
        "-m", "inpaint_toolkit", "train", "--data", str(faces), "--out", str(out),
        "--epochs", "1", "--batch-size", "8", "--image-size", "32",
        "--generator", "dcgan[widths=[32,16,8],z_dim=16]",
        "--discriminator", "dcgan[widths=[8,16,32],z_dim=16]",
        "--precision", "fp32", "--device", "cpu", "--quiet",
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env.pop("WORLD_SIZE", None)
    done = subprocess.run(
        command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr[-3000:]

    # Only rank 0 writes: one checkpoint, one log, nothing half-written.
    assert sorted(p.name for p in out.glob("*.safetensors")) == [CHECKPOINT_NAME]
    assert not list(out.glob(".*.tmp"))
    tensors, metadata = read_checkpoint(out / CHECKPOINT_NAME)
    assert metadata["world_size"] == 2
    assert metadata["step"] == 48 // 2 // 8
    assert [r["step"] for r in metrics(out)] == [1, 2, 3]
    rng_keys = sorted(key for key in tensors if key.startswith("rng."))
    assert rng_keys == ["rng.noise.0", "rng.noise.1"]
    assert not torch.equal(tensors["rng.noise.0"], tensors["rng.noise.1"])
    g, d, _ = load_models(out / CHECKPOINT_NAME)
    with torch.no_grad():
        assert d(g(g.sample_z(2))).shape == (2,)


def test_a_resumed_run_trains_with_the_learning_rate_it_is_given(faces, tmp_path):
    out = tmp_path / "slowed"
    train(tiny_config(faces, out, epochs=1), progress=False)
    before, _ = read_checkpoint(out / CHECKPOINT_NAME)
    # The saved Adam state holds lr 2e-4; the resumed run asks for next to nothing.
    train(tiny_config(faces, out, epochs=2, lr=1e-9, beta1=0.3, resume=True), progress=False)
    after, meta = read_checkpoint(out / CHECKPOINT_NAME)

    moved = max(
        (after[name] - before[name]).abs().max().item()
        for name in before
        if name.startswith("generator.") and name.endswith(("weight", "bias"))
    )  # G's parameters; batch norm's running statistics move at any rate
    assert 0 < moved < 1e-6  # at 2e-4 the weights would move by about 1e-3
    for optimizer in ("optimizer_g", "optimizer_d"):
        assert meta[optimizer]["param_groups"][0]["lr"] == 1e-9
        assert meta[optimizer]["param_groups"][0]["betas"] == [0.3, 0.999]
