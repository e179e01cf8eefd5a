"""``run`` and ``eval`` under ``torchrun``: two CPU processes, each repairing its share of
the batches, give exactly the files one process gives (every rank has one thread, as
torchrun's workers do)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from inpaint_toolkit.cli import main

# Five images in batches of two: three batches, dealt unevenly to the two processes.
RUN = ["--mask", "center[size=12]", "--iterations", "3", "--restarts", "2", "--batch-size", "2"]
EVAL = ["--masks", "center[size=12],half", "--methods", "dcgan,telea", "--iterations", "2"]
EVAL += ["--restarts", "1", "--batch-size", "2", "--image-size", "32", "--limit", "5"]


def torchrun(arguments: list[str], cwd: Path) -> None:
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2"]
    command += ["--standalone", "-m", "inpaint_toolkit", *arguments, "--quiet"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for name in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(name, None)
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stderr.count("Traceback") == 0


def one_thread_main(arguments: list[str]) -> None:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert main([*arguments, "--quiet"]) == 0
    finally:
        torch.set_num_threads(threads)


def pixels(folder: Path) -> dict[str, np.ndarray]:
    return {path.name: np.asarray(Image.open(path)) for path in sorted(folder.glob("*.png"))}


def assert_same_pictures(expected: Path, actual: Path) -> None:
    want, got = pixels(expected), pixels(actual)
    assert sorted(got) == sorted(want) and want
    different = [name for name in want if not np.array_equal(want[name], got[name])]
    assert not different, different


@pytest.fixture
def crops(tmp_path: Path) -> list[str]:
    rng = np.random.default_rng(7)
    paths = []
    for index in range(5):
        blocks = rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)
        path = tmp_path / f"face{index}.png"
        Image.fromarray(blocks.repeat(8, 0).repeat(8, 1)).save(path)
        paths.append(str(path))
    return paths


@pytest.mark.slow
def test_run_under_torchrun_is_the_single_process_run(crops, tiny_checkpoint, tmp_path):
    arguments = ["run", *crops, "--checkpoint", str(tiny_checkpoint), *RUN]
    one_thread_main([*arguments, "--out", str(tmp_path / "single")])
    torchrun([*arguments, "--out", str(tmp_path / "sharded")], tmp_path)

    single = json.loads((tmp_path / "single" / "summary.json").read_text())
    sharded = json.loads((tmp_path / "sharded" / "summary.json").read_text())
    for summary in (single, sharded):
        del summary["seconds"], summary["settings"]["out"]
    assert sharded == single
    assert [image["name"] for image in single["images"]] == [f"face{i}" for i in range(5)]
    assert all(image["loss"] for image in single["images"])  # every one searched
    assert_same_pictures(tmp_path / "single", tmp_path / "sharded")


@pytest.mark.slow
def test_eval_under_torchrun_is_the_single_process_eval(faces_npz, tiny_checkpoint, tmp_path):
    arguments = ["eval", "--data", str(faces_npz), "--checkpoint", str(tiny_checkpoint), *EVAL]
    one_thread_main([*arguments, "--out", str(tmp_path / "single")])
    torchrun([*arguments, "--out", str(tmp_path / "sharded")], tmp_path)

    single = json.loads((tmp_path / "single" / "results.json").read_text())
    sharded = json.loads((tmp_path / "sharded" / "results.json").read_text())
    for result in (single, sharded):
        del result["settings"]["out"]
        for row in result["rows"]:
            del row["seconds_per_image"]
    assert sharded == single
    assert {row["method"] for row in single["rows"]} == {"ground_truth", "dcgan", "telea"}
    assert all(row["images"] == 5 for row in single["rows"])
    assert_same_pictures(tmp_path / "single", tmp_path / "sharded")
