from __future__ import annotations

from pathlib import Path

import pytest

from inpaint_toolkit.core.config import load_config
from inpaint_toolkit.core.errors import InpaintError
from inpaint_toolkit.inpainting.config import RunConfig
from inpaint_toolkit.training.config import TrainConfig


def test_toml_then_flags(tmp_path: Path) -> None:
    path = tmp_path / "run.toml"
    path.write_text('iterations = 300\nmask = "half[side=top]"\nseed = 4\n')
    config = load_config(RunConfig, path, {"seed": 9, "restarts": None})
    assert (config.iterations, config.mask, config.seed) == (300, "half[side=top]", 9)
    assert config.restarts is None  # not given anywhere: the default (by where it starts)


def test_unknown_keys_are_refused_with_their_name(tmp_path: Path) -> None:
    path = tmp_path / "run.toml"
    path.write_text("iteratoins = 300\n")
    with pytest.raises(InpaintError, match="iteratoins"):
        load_config(RunConfig, path, {})
    with pytest.raises(InpaintError, match="epochs"):
        load_config(TrainConfig, None, {"data": ["x.npz"], "epochs": 0})


def test_bad_toml_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("iterations = = 3")
    with pytest.raises(InpaintError, match="not valid TOML"):
        load_config(RunConfig, path, {})
    with pytest.raises(InpaintError, match="no such config file"):
        load_config(RunConfig, tmp_path / "missing.toml", {})
