"""Training that is killed, diverges or runs out of disk loses at most one checkpoint
interval, and never a good checkpoint.

The kill test SIGKILLs a tiny ``inpaint-toolkit train`` at seeded random points (during
steps, log flushes and checkpoint writes) and resumes it each time in the same folder;
the end result must be bit for bit the run that was never killed. Each run is a fork of
one "zygote" process that has imported torch once, so a kill and resume costs
milliseconds, not the seconds of a fresh interpreter.
"""

from __future__ import annotations

import errno
import json
import os
import random
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from inpaint_toolkit.core import checkpoint as checkpoint_module
from inpaint_toolkit.core.checkpoint import read_checkpoint
from inpaint_toolkit.core.errors import InpaintError
from inpaint_toolkit.training import CHECKPOINT_NAME, train
from inpaint_toolkit.training import loop as training
from tiny_training import (
    assert_same_training_state,
    deterministic,
    metrics,
    tiny_config,
    write_smooth_faces,
)

KILLS = 10  # at least, and at least one of them while the checkpoint is being written
SEED = 4242

ZYGOTE = r"""
import json, os, sys, traceback
import torch
torch.set_num_threads(1)
from inpaint_toolkit.cli import main
import inpaint_toolkit.training, inpaint_toolkit.evaluation.prior_score, matplotlib.pyplot
from inpaint_toolkit.registry import get_registry
get_registry()
print("ready", flush=True)
for line in sys.stdin:
    argv, log = json.loads(line)
    pid = os.fork()
    if pid == 0:
        output = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(output, 1)
        os.dup2(output, 2)
        try:
            code = main(argv)
        except SystemExit as exit:
            code = exit.code if isinstance(exit.code, int) else 1
        except BaseException:
            traceback.print_exc()
            code = 1
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code or 0)
    print(pid, flush=True)
    print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), flush=True)
"""


class Zygote:
    """Starts ``inpaint-toolkit`` runs as forks of one warm interpreter."""

    def __init__(self, folder: Path):
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        env.pop("WORLD_SIZE", None)
        self.errors = folder / "zygote.err"
        self.process = subprocess.Popen(
            [sys.executable, "-c", ZYGOTE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.errors.open("w"),
            cwd=folder,
            env=env,
            bufsize=0,
        )
        self.pending = b""
        assert self.line(180) == "ready", self.errors.read_text()

    def line(self, timeout: float) -> str | None:
        deadline = time.monotonic() + timeout
        while b"\n" not in self.pending:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            if select.select([self.process.stdout], [], [], left)[0]:
                chunk = os.read(self.process.stdout.fileno(), 4096)
                assert chunk, f"the zygote died: {self.errors.read_text()[-2000:]}"
                self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        return line.decode()

    def start(self, argv: list[str], log: Path) -> int:
        self.process.stdin.write((json.dumps([argv, str(log)]) + "\n").encode())
        return int(self.line(60))

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


def complete_lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:  # it finished first
        pass


@pytest.mark.slow
def test_kill_minus_nine_at_random_points_loses_at_most_one_interval(tmp_path: Path) -> None:
    faces = write_smooth_faces(tmp_path / "faces.npz", 48)
    held_out = write_smooth_faces(tmp_path / "held_out.npz", 16)
    zygote = Zygote(tmp_path)
    arguments = ["train", "--data", str(faces), "--eval-data", str(held_out)]
    arguments += ["--epochs", "2", "--batch-size", "2", "--image-size", "32", "--ema", "0"]
    arguments += ["--checkpoint-every", "1", "--precision", "fp32", "--device", "cpu"]
    arguments += ["--generator", "dcgan[widths=[32,16,8],z_dim=16]"]
    arguments += ["--discriminator", "dcgan[widths=[8,16,32],z_dim=16]", "--quiet"]
    total_steps = 2 * 48 // 2
    try:
        straight = tmp_path / "straight"
        zygote.start([*arguments, "--out", str(straight)], tmp_path / "straight.log")
        assert zygote.line(300) == "0", (tmp_path / "straight.log").read_text()[-3000:]

        out = tmp_path / "killed"
        log, checkpoint = out / "metrics.jsonl", out / CHECKPOINT_NAME
        rng = random.Random(SEED)
        kills, mid_write, finished = 0, 0, False
        while not finished:
            resume = ["--resume"] if checkpoint.exists() else []
            done = complete_lines(log) if resume else 0
            stale = set(out.glob(f".{CHECKPOINT_NAME}.*.tmp"))
            pid = zygote.start([*arguments, "--out", str(out), *resume], tmp_path / "run.log")
            target = done + rng.randint(1, 3)  # steps into this run, then a random moment
            try_mid_write = kills % 3 == 2 or (kills >= KILLS and not mid_write)
            status = zygote.line(0)
            while status is None and complete_lines(log) < target:
                status = zygote.line(0.001)
            if status is None and try_mid_write:  # kill while the checkpoint is written
                while status is None and not list(out.glob(f".{CHECKPOINT_NAME}.*.tmp")):
                    status = zygote.line(0.0002)
                kill(pid)
            elif status is None:
                time.sleep(rng.uniform(0, 0.03))
                kill(pid)
            status = status if status is not None else zygote.line(60)
            if status == "0":
                finished = True
                continue
            assert status == str(-signal.SIGKILL), (tmp_path / "run.log").read_text()[-3000:]
            kills += 1
            mid_write += bool(set(out.glob(f".{CHECKPOINT_NAME}.*.tmp")) - stale)
            # What a kill leaves is always a whole checkpoint, at most one interval behind.
            step = read_checkpoint(checkpoint)[1]["step"] if checkpoint.exists() else 0
            assert complete_lines(log) <= step + 1
            assert kills < 60, "the run makes no progress between kills"
        assert kills >= KILLS and mid_write >= 1, (kills, mid_write)
    finally:
        zygote.close()

    assert_same_training_state(straight, out)
    assert [r["step"] for r in metrics(out)] == list(range(1, total_steps + 1))
    assert deterministic(metrics(out)) == deterministic(metrics(straight))
    scores = (out / "scores.jsonl").read_text()
    assert scores == (straight / "scores.jsonl").read_text() and scores.count("\n") == 2
    assert not list(out.glob(".*.tmp")) and not list(out.glob("samples/.*.tmp"))


@pytest.fixture(scope="module")
def faces(tmp_path_factory) -> Path:
    return write_smooth_faces(tmp_path_factory.mktemp("data") / "faces.npz", 24)


def test_a_log_line_cut_short_by_a_kill_is_dropped_on_resume(faces, tmp_path: Path) -> None:
    out = tmp_path / "cut"
    first = train(tiny_config(faces, out, epochs=1, checkpoint_every=2), progress=False)
    with (out / "metrics.jsonl").open("a") as log:
        log.write(json.dumps({"step": first.step + 1, "loss_d": 0.5})[:17])  # no newline
    (out / ".checkpoint.safetensors.abc123.tmp").write_bytes(b"half a checkpoint")
    resumed = train(tiny_config(faces, out, epochs=2, resume=True), progress=False)
    assert [r["step"] for r in metrics(out)] == list(range(1, resumed.step + 1))
    assert not list(out.glob(".*.tmp"))


def test_divergence_stops_without_saving_nan_weights(faces, tmp_path, monkeypatch) -> None:
    out = tmp_path / "diverged"
    config = tiny_config(faces, out, epochs=3, lr=1e30, checkpoint_every=1)
    with pytest.raises(InpaintError) as caught:
        train(config, progress=False)
    message = str(caught.value)
    assert message.startswith("training diverged at step 1 (") and "\n" not in message
    assert "no checkpoint was written" in message and not (out / CHECKPOINT_NAME).exists()

    # A good run, resumed with an absurd learning rate: its checkpoint stays as it was.
    train(tiny_config(faces, out, epochs=1), progress=False)
    good = (out / CHECKPOINT_NAME).read_bytes()
    restore = training.restore_training_state

    def restore_then_absurd_lr(*args):
        step = restore(*args)
        for optimizer in (args[1].opt_g, args[1].opt_d):
            for group in optimizer.param_groups:
                group["lr"] = 1e30
        return step

    monkeypatch.setattr(training, "restore_training_state", restore_then_absurd_lr)
    resumed = tiny_config(faces, out, epochs=3, checkpoint_every=1, resume=True)
    with pytest.raises(InpaintError, match="diverged at step 4 .*checkpoint of step 3 is kept"):
        train(resumed, progress=False)
    assert (out / CHECKPOINT_NAME).read_bytes() == good
    tensors, _ = read_checkpoint(out / CHECKPOINT_NAME)
    assert all(torch.isfinite(v).all() for v in tensors.values() if v.is_floating_point())


def test_weights_gone_bad_under_finite_losses_are_not_saved(faces, tmp_path, monkeypatch):
    out = tmp_path / "poisoned"
    step = training.train_step
    calls = []

    def poisoning_step(g, *args, **kwargs):
        result = step(g, *args, **kwargs)
        calls.append(1)
        if len(calls) == 4:
            with torch.no_grad():
                next(g.parameters()).fill_(float("nan"))
        return result

    monkeypatch.setattr(training, "train_step", poisoning_step)
    with pytest.raises(InpaintError, match=r"diverged at step 4 \(NaN or infinity in generator"):
        train(tiny_config(faces, out, epochs=2, checkpoint_every=2), progress=False)
    assert read_checkpoint(out / CHECKPOINT_NAME)[1]["step"] == 3  # the first epoch's end


def test_a_full_disk_keeps_the_previous_checkpoint(faces, tmp_path, monkeypatch) -> None:
    out = tmp_path / "full"
    save_file = checkpoint_module.save_file
    saves = []

    def fill_the_disk(tensors, filename, metadata=None):
        saves.append(filename)
        if len(saves) == 1:
            return save_file(tensors, filename, metadata=metadata)
        with open(filename, "wb") as handle:
            handle.write(b"\0" * 1000)  # half a checkpoint, then the disk is full
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), filename)

    monkeypatch.setattr(checkpoint_module, "save_file", fill_the_disk)
    with pytest.raises(InpaintError) as caught:
        train(tiny_config(faces, out, epochs=2, checkpoint_every=2), progress=False)
    message = str(caught.value)
    assert "\n" not in message and "No space left on device" in message
    assert message.startswith(str(out / CHECKPOINT_NAME))
    assert read_checkpoint(out / CHECKPOINT_NAME)[1]["step"] == 2  # intact, loadable
    assert not list(out.glob(".*.tmp"))
