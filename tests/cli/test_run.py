"""``inpaint-toolkit run`` end to end on tiny random models, and its one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inpaint_toolkit.cli import main

FAST = ["--iterations", "15", "--restarts", "2", "--quiet", "--precision", "fp32"]


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(["run", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def face_png(path: Path, size: tuple[int, int] = (48, 40), mode: str = "RGB") -> Path:
    rng = np.random.default_rng(0)
    channels = {"RGB": 3, "RGBA": 4, "L": 1}[mode]
    pixels = rng.integers(0, 256, (size[1], size[0], channels), dtype=np.uint8)
    Image.fromarray(pixels.squeeze(-1) if channels == 1 else pixels, mode).save(path)
    return path


def test_run_writes_every_result(tiny_checkpoint, tmp_path, capsys) -> None:
    out = tmp_path / "out"
    code, stdout, _ = run_cli(
        ["--checkpoint", str(tiny_checkpoint), "--out", str(out), "--samples", "2", *FAST],
        capsys,
    )
    assert code == 0 and str(out) in stdout
    for suffix in ("inpainted", "generated", "damaged", "compare", "sample2"):
        assert (out / f"astronaut_{suffix}.png").exists(), suffix
    assert (out / "loss.png").exists()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["objective"] == "1*weighted_l1 + 0.003*prior"
    assert summary["iterations_run"] == 15
    [record] = summary["images"]
    assert record["missing_fraction"] == 0.25  # the centre square of half the side
    assert len(record["loss"]) == 2 and record["loss"][0] <= record["loss"][1]
    inpainted = np.asarray(Image.open(out / "astronaut_inpainted.png"))
    damaged = np.asarray(Image.open(out / "astronaut_damaged.png"))
    assert inpainted.shape == (32, 32, 3)
    assert (inpainted[:8] == damaged[:8]).all()  # known pixels are kept ...
    assert (inpainted[8:24, 8:24] != damaged[8:24, 8:24]).any()  # ... the hole is filled


def test_folder_of_images_of_another_size(tiny_checkpoint, tmp_path, capsys) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    face_png(folder / "a.png")
    face_png(folder / "b.jpg", size=(70, 90))
    out = tmp_path / "out"
    code, _, err = run_cli(
        [
            str(folder),
            "--no-align",  # noise, not photographs with faces: crop and resize them
            "--checkpoint",
            str(tiny_checkpoint),
            "--out",
            str(out),
            "--mask",
            "half[side=top]",
            *FAST,
        ],
        capsys,
    )
    assert code == 0
    assert {p.name for p in out.glob("*_inpainted.png")} == {"a_inpainted.png", "b_inpainted.png"}


def test_single_image_resized_with_a_notice(tiny_checkpoint, tmp_path, capsys) -> None:
    image = face_png(tmp_path / "face.png")
    code, _, err = run_cli(
        [
            str(image),
            "--no-align",
            "--checkpoint",
            str(tiny_checkpoint),
            "--out",
            str(tmp_path / "o"),
            *FAST,
        ],
        capsys,
    )
    assert code == 0
    assert "48x40 centre-cropped and resized to 32x32" in err


def test_mask_with_nothing_missing_copies_the_input(tiny_checkpoint, tmp_path, capsys) -> None:
    mask = tmp_path / "mask.png"
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(mask)  # all black: nothing missing
    code, _, err = run_cli(
        [
            "--checkpoint",
            str(tiny_checkpoint),
            "--mask-file",
            str(mask),
            "--out",
            str(tmp_path / "o"),
            *FAST,
        ],
        capsys,
    )
    assert code == 0 and "nothing missing; the input is copied" in err
    out = tmp_path / "o"
    assert (
        np.asarray(Image.open(out / "astronaut_inpainted.png"))
        == np.asarray(Image.open(out / "astronaut_damaged.png"))
    ).all()
    assert not (out / "astronaut_generated.png").exists()  # no search was run


def test_all_missing_is_plain_generation(tiny_checkpoint, tmp_path, capsys) -> None:
    code, _, err = run_cli(
        [
            "--checkpoint",
            str(tiny_checkpoint),
            "--mask",
            "center[size=32]",
            "--out",
            str(tmp_path / "o"),
            *FAST,
        ],
        capsys,
    )
    assert code == 0 and "plain generation" in err
    assert (tmp_path / "o" / "astronaut_generated.png").exists()


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--loss", "weighted_l1+priorr"], "unknown loss 'priorr'"),
        (["--loss", "weighted_l1[windw=9]"], "windw"),
        (["--mask", "circle"], "unknown mask 'circle'"),
        (["--optimizer", "lbfgs"], "unknown optimizer 'lbfgs'"),
        (["--generator", "stylegan"], "not 'stylegan'"),
        (["--samples", "3", "--restarts", "2"], "samples"),
        (["--mask-file", "/nonexistent/mask.png"], "/nonexistent/mask.png"),
    ],
)
def test_bad_settings_are_one_line_errors(tiny_checkpoint, tmp_path, capsys, args, expected):
    code, _, err = run_cli(
        ["--checkpoint", str(tiny_checkpoint), "--out", str(tmp_path / "o"), *FAST, *args],
        capsys,
    )
    assert code == 2
    assert err.startswith("error:") and expected in err and err.count("\n") == 1


@pytest.mark.parametrize("kind", ["text", "rgba", "grey", "missing"])
def test_bad_inputs_are_one_line_errors(tiny_checkpoint, tmp_path, capsys, kind):
    path = tmp_path / f"input_{kind}.png"
    if kind == "text":
        path.write_text("not an image")
    elif kind == "rgba":
        face_png(path, mode="RGBA")
    elif kind == "grey":
        face_png(path, mode="L")
    crop_path = "--no-align"  # the face-crop reader; photographs: tests/cli/test_run_photos.py
    code, _, err = run_cli(
        [
            str(path),
            crop_path,
            "--checkpoint",
            str(tiny_checkpoint),
            "--out",
            str(tmp_path / "o"),
            *FAST,
        ],
        capsys,
    )
    assert code == 2 and err.startswith("error:") and err.count("\n") == 1
    assert str(path) in err


def test_checkpoint_that_is_not_one(tmp_path, capsys) -> None:
    fake = tmp_path / "model.safetensors"
    fake.write_bytes(b"\x00" * 64)
    code, _, err = run_cli(["--checkpoint", str(fake), *FAST], capsys)
    assert code == 2 and "not a safetensors checkpoint" in err
