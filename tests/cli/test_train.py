"""``inpaint-toolkit train``: flags into a TrainConfig, a result line, one-line errors."""

from __future__ import annotations

import json

import pytest

from inpaint_toolkit.cli import main
from inpaint_toolkit.core.checkpoint import read_checkpoint

TINY_MODELS = [
    "--image-size", "32",
    "--generator", "dcgan[widths=[32,16,8],z_dim=16]",
    "--discriminator", "dcgan[widths=[8,16,32],z_dim=16,spectral_norm=false]",
    "--precision", "fp32", "--device", "cpu", "--quiet",
]  # fmt: skip


def test_train_writes_a_checkpoint_and_prints_its_path(faces_npz, tmp_path, capsys):
    out = tmp_path / "run"
    status = main(
        ["train", "--data", str(faces_npz), "--out", str(out), "--epochs", "1",
         "--batch-size", "8", "--seed", "3", "--no-flip", "--lr", "1e-4", *TINY_MODELS]
    )  # fmt: skip
    printed = capsys.readouterr()
    assert status == 0, printed.err
    checkpoint = out / "checkpoint.safetensors"
    assert f"finished at step 5; checkpoint: {checkpoint}" in printed.out  # 40 faces / 8

    # The flags reached the run: its configuration is in the checkpoint.
    _, metadata = read_checkpoint(checkpoint)
    config = metadata["train_config"]
    assert (config["seed"], config["flip"], config["lr"], config["batch_size"]) == (
        3, False, 1e-4, 8,
    )  # fmt: skip
    assert metadata["discriminator"]["options"]["spectral_norm"] is False
    assert metadata["generator"]["options"]["widths"] == [32, 16, 8]
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 5


def test_a_config_file_is_read_and_flags_override_it(faces_npz, tmp_path, capsys):
    config = tmp_path / "train.toml"
    config.write_text(f'data = ["{faces_npz}"]\nepochs = 7\nbatch_size = 20\nseed = 5\n')
    out = tmp_path / "run"
    status = main(
        ["train", "--config", str(config), "--out", str(out), "--epochs", "1", *TINY_MODELS]
    )
    assert status == 0, capsys.readouterr().err
    saved = read_checkpoint(out / "checkpoint.safetensors")[1]["train_config"]
    assert (saved["epochs"], saved["batch_size"], saved["seed"]) == (1, 20, 5)
    assert json.loads((out / "metrics.jsonl").read_text().splitlines()[-1])["step"] == 2


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--epochs", "0"], "epochs"),
        (["--batch-size", "1"], "batch_size"),
        (["--lr", "-1"], "lr"),
        (["--generator", "dcgan[widths=[32,16,8],z_dim=16,depth=3]"], "depth"),
    ],
)
def test_a_bad_value_is_a_one_line_error_naming_the_setting(
    faces_npz, tmp_path, capsys, flags, named
):
    out = tmp_path / "run"
    status = main(["train", "--data", str(faces_npz), "--out", str(out), *TINY_MODELS, *flags])
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert named in err
    assert not out.exists()


def test_resume_without_a_checkpoint_is_a_one_line_error(faces_npz, tmp_path, capsys):
    out = tmp_path / "nothing"
    status = main(["train", "--data", str(faces_npz), "--out", str(out), "--resume", *TINY_MODELS])
    err = capsys.readouterr().err
    assert status == 2
    assert err == f"error: --resume: no checkpoint at {out / 'checkpoint.safetensors'}\n"
