"""The command line on bad files: ``inpaint-toolkit run`` ends with exit status 2 and
one ``error:`` line, never a traceback, for a broken image, .npz, config or checkpoint."""

from __future__ import annotations

import io
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from fuzz_support import encode, forge_size, make_image

SEED = 20240


def bad_files(folder: Path) -> list[tuple[str, list[str]]]:
    """(what, arguments) for ``run``: each names one damaged file, damaged at random. (The
    readers meet every other kind of damage in-process, in the other fuzz tests.)"""
    rng = random.Random(SEED)
    png = encode(make_image("RGB", 16, 16, rng.randrange(1000)), "PNG", None)
    huge = folder / "huge.png"
    huge.write_bytes(forge_size(png, "PNG", (rng.randint(6400, 30000), rng.randint(6400, 30000))))
    npy = io.BytesIO()
    np.save(npy, np.zeros((2, 8, 8, 3), np.uint8))
    npz = folder / "faces.npz"  # an .npy array, named .npz
    npz.write_bytes(npy.getvalue())
    checkpoint = folder / "model.safetensors"
    checkpoint.write_bytes(rng.randbytes(64))
    return [
        ("a PNG claiming a huge size", [str(huge)]),
        ("an .npy named .npz", [str(npz)]),
        ("a checkpoint of random bytes", ["--checkpoint", str(checkpoint)]),
    ]


@pytest.mark.slow
def test_run_on_bad_files_is_one_error_line(tmp_path: Path) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for what, arguments in bad_files(tmp_path):
        out = tmp_path / "out"
        done = subprocess.run(
            [sys.executable, "-m", "inpaint_toolkit", "run", *arguments, "--out", str(out)]
            + ["--iterations", "1", "--quiet"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=180,
        )
        lines = [line for line in done.stderr.splitlines() if not line.startswith("note: ")]
        assert done.returncode == 2, (what, done.stderr[-2000:])
        assert len(lines) == 1 and lines[0].startswith("error: "), (what, done.stderr[-2000:])
        assert "Traceback" not in done.stderr and done.stdout == "", what
        assert not out.exists() or not any(out.iterdir()), what  # nothing written
