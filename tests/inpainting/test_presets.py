"""``--preset paper``: the seed paper's method exactly, with any setting given on top."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from inpaint_toolkit.cli import main
from inpaint_toolkit.evaluation.evaluate import EvalSettings, build_methods
from inpaint_toolkit.inpainting.config import RunConfig
from inpaint_toolkit.inpainting.inpaint import PRESETS, ZSearchOptions


def test_the_paper_preset_fills_in_every_setting_it_names() -> None:
    config = RunConfig.model_validate({"preset": "paper"})
    for key, value in PRESETS["paper"].items():
        assert getattr(config, key) == value
    assert (config.init, config.adapt, config.iterations, config.restarts) == (
        "random", "none", 1500, 8,
    )  # fmt: skip


def test_settings_given_beside_the_preset_win() -> None:
    config = RunConfig.model_validate({"preset": "paper", "iterations": 20, "blend": "overlay"})
    assert (config.iterations, config.blend, config.restarts) == (20, "overlay", 8)


def test_an_unknown_preset_is_refused() -> None:
    with pytest.raises(ValueError, match="preset"):
        ZSearchOptions.model_validate({"preset": "fastest"})


def test_eval_hands_the_preset_to_the_dcgan_method(tiny_checkpoint) -> None:
    settings = EvalSettings(
        data=["unused"], methods="dcgan", preset="paper", iterations=7,
        checkpoint=str(tiny_checkpoint),
    )  # fmt: skip
    (method,) = build_methods(settings)
    options = method.inpainter.options
    assert (options.init, options.adapt, options.restarts, options.iterations) == (
        "random", "none", 8, 7,
    )  # fmt: skip


def test_run_with_the_preset_is_the_paper_settings_spelt_out(tiny_checkpoint, tmp_path) -> None:
    common = ["--checkpoint", str(tiny_checkpoint), "--quiet", "--precision", "fp32"]
    common += ["--iterations", "12", "--mask", "center"]
    assert main(["run", *common, "--preset", "paper", "--out", str(tmp_path / "a")]) == 0
    spelt = ["--init", "random", "--adapt", "none", "--restarts", "8", "--blend", "poisson"]
    spelt += ["--detail", "0"]  # the paper pastes the fill as generated
    assert main(["run", *common, *spelt, "--out", str(tmp_path / "b")]) == 0
    a = json.loads((tmp_path / "a" / "summary.json").read_text())
    b = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert a["images"] == b["images"]
    pixels = [Image.open(tmp_path / run / "astronaut_inpainted.png").tobytes() for run in "ab"]
    assert pixels[0] == pixels[1]


def test_a_bad_preset_on_the_command_line_is_refused(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["run", "--preset", "fastest"])
    assert "invalid choice" in capsys.readouterr().err


@pytest.mark.parametrize("preset", [["paper"], {"name": "paper"}, 3])
def test_a_preset_that_is_not_a_name_is_refused(preset) -> None:
    with pytest.raises(ValueError, match="preset"):
        RunConfig.model_validate({"preset": preset})


def test_the_default_search_length_follows_where_it_starts(tiny_generator) -> None:
    from inpaint_toolkit.inpainting.inpaint import SearchOptions, build_plugin, search_length
    from inpaint_toolkit.models import load_models

    packaged, _, _ = load_models(need_discriminator=False)
    auto = build_plugin("initializer", "auto")
    assert search_length(SearchOptions(), auto, packaged) == (1, 1)  # the packaged encoder
    assert search_length(SearchOptions(), auto, tiny_generator) == (1500, 8)  # no encoder
    random = build_plugin("initializer", "random")
    assert search_length(SearchOptions(), random, packaged) == (1500, 8)
    given = SearchOptions(iterations=40, restarts=3)
    assert search_length(given, auto, packaged) == (40, 3)
