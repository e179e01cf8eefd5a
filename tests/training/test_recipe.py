"""The training recipe's parts on real computations: DiffAugment, the weight average, R1,
--init, and what a run with held-out faces logs and ships."""

from __future__ import annotations

import json
import math

import pytest
import torch

from inpaint_toolkit.core.checkpoint import read_checkpoint, unprefixed
from inpaint_toolkit.core.errors import InpaintError
from inpaint_toolkit.models import load_models, package_models
from inpaint_toolkit.plugins.dcgan import DCGANGenerator, DCGANOptions
from inpaint_toolkit.training import CHECKPOINT_NAME, ema, train
from inpaint_toolkit.training import augment as aug
from tiny_training import TINY_DCGAN_G, tiny_config, write_smooth_faces


@pytest.fixture(scope="module")
def faces(tmp_path_factory):
    return write_smooth_faces(tmp_path_factory.mktemp("data") / "faces.npz", 48)


def ramp(n: int = 4, side: int = 16) -> torch.Tensor:
    """Images whose every pixel is distinct, so a shift can be read off exactly."""
    values = torch.arange(n * 3 * side * side, dtype=torch.float32)
    return (values / values.max() * 2 - 1).view(n, 3, side, side)


def test_translation_moves_whole_images_by_whole_pixels_and_fills_with_zero():
    images = ramp()
    moved = aug.translation(images, torch.Generator().manual_seed(3))
    for original, shifted in zip(images, moved, strict=True):
        matches = [
            (dy, dx)
            for dy in range(-2, 3)
            for dx in range(-2, 3)
            if torch.equal(
                torch.roll(original, (dy, dx), (1, 2))[:, 2:-2, 2:-2], shifted[:, 2:-2, 2:-2]
            )
        ]
        assert len(matches) == 1  # exactly one integer shift explains the inside
        dy, dx = matches[0]
        if dy > 0:
            assert (shifted[:, :dy] == 0).all()  # what came in from outside is zero
        if dx < 0:
            assert (shifted[:, :, dx:] == 0).all()


def test_cutout_zeroes_a_quarter_of_the_area_at_most_and_keeps_the_rest():
    images = ramp(8) + 2  # no zero anywhere before the cut
    cut = aug.cutout(images, torch.Generator().manual_seed(0))
    zeroed = (cut == 0).all(dim=1).flatten(1).float().mean(1)
    assert ((zeroed > 0) & (zeroed <= 0.25)).all()
    kept = cut != 0
    assert torch.equal(cut[kept], images[kept])


def test_augmentations_are_reproducible_and_differentiable():
    apply = aug.augmenter(aug.parse_policy("color,translation,cutout"))
    images = ramp().requires_grad_(True)
    first = apply(images, torch.Generator().manual_seed(7))
    again = apply(images, torch.Generator().manual_seed(7))
    other = apply(images, torch.Generator().manual_seed(8))
    assert torch.equal(first, again) and not torch.equal(first, other)
    first.sum().backward()
    assert images.grad is not None and images.grad.abs().sum() > 0


def test_policy_parsing():
    assert aug.parse_policy("none") == [] and aug.augmenter([]) is None
    with pytest.raises(InpaintError, match="unknown augmentation 'flip'"):
        aug.parse_policy("color,flip")


def test_the_average_moves_towards_the_live_weights_by_one_minus_decay():
    torch.manual_seed(0)
    live = DCGANGenerator(DCGANOptions(image_size=32, z_dim=8, widths=(16, 8, 4)))
    average = ema.make_average(live)
    before = [p.clone() for p in average.parameters()]
    with torch.no_grad():
        for p in live.parameters():
            p.add_(1.0)
    ema.update_average(average, live, decay=0.9)
    for old, new, current in zip(before, average.parameters(), live.parameters(), strict=True):
        torch.testing.assert_close(new, 0.9 * old + 0.1 * current)
        assert not new.requires_grad


def test_recalibration_gives_the_statistics_of_the_fixed_codes_and_is_repeatable():
    torch.manual_seed(0)
    g = DCGANGenerator(DCGANOptions(image_size=32, z_dim=8, widths=(16, 8, 4)))
    ema.recalibrate(g)
    assert not g.training
    first = [b.clone() for b in g.buffers()]
    ema.recalibrate(g)
    assert all(torch.equal(a, b) for a, b in zip(first, g.buffers(), strict=True))
    # The projection's statistics are those of the calibration codes' activations.
    noise = torch.Generator().manual_seed(0)
    z = torch.cat([g.sample_z(ema.CALIBRATION_BATCH, generator=noise) for _ in range(4)])
    with torch.no_grad():
        projected = g.project(z).view(len(z), -1, g.start_size, g.start_size)
    torch.testing.assert_close(
        g.project_norm.running_mean, projected.mean((0, 2, 3)), rtol=1e-4, atol=1e-5
    )


def test_a_run_keeps_and_ships_the_average_and_scores_the_prior_each_epoch(faces, tmp_path):
    out = tmp_path / "run"
    train(tiny_config(faces, out, epochs=2, eval_data=[str(faces)]), progress=False)
    tensors, _ = read_checkpoint(out / CHECKPOINT_NAME)
    average = unprefixed("generator_ema", tensors)
    live = unprefixed("generator", tensors)
    assert average.keys() == live.keys()
    assert any(not torch.equal(average[k], live[k]) for k in average)

    g, _, _ = load_models(out / CHECKPOINT_NAME)  # the average is what a run gives
    assert torch.equal(g.state_dict()["project.weight"], average["project.weight"])
    shipped = package_models(out / CHECKPOINT_NAME, tmp_path / "shipped.safetensors")
    small, _ = read_checkpoint(shipped)
    assert not any(key.startswith("generator_ema.") for key in small)
    assert torch.equal(small["generator.project.weight"], average["project.weight"].half())

    scores = [json.loads(line) for line in (out / "scores.jsonl").read_text().splitlines()]
    assert [s["epoch"] for s in scores] == [1, 2] and [s["step"] for s in scores] == [6, 12]
    for s in scores:
        assert s["samples"] == 48 and s["swd"] > 0 and 0 <= s["judge_faces"] <= 1
    assert (out / "swd.png").exists() and (out / "judge.png").exists()


def test_init_starts_from_a_models_weights_and_r1_trains_finite(faces, tmp_path):
    first = tmp_path / "first"
    train(tiny_config(faces, first, ema=0.0, augment="none"), progress=False)
    source, _ = read_checkpoint(first / CHECKPOINT_NAME)
    second = tmp_path / "second"
    config = tiny_config(
        faces, second, init=str(first / CHECKPOINT_NAME), r1=10.0, time_limit_minutes=1e-7
    )
    train(config, progress=False)  # one step from the first run's weights
    after, meta = read_checkpoint(second / CHECKPOINT_NAME)
    assert meta["step"] == 1
    moved = after["generator.project.weight"] - source["generator.project.weight"]
    assert 0 < moved.abs().max() < 0.05  # one Adam step away, not a fresh start
    record = json.loads((second / "metrics.jsonl").read_text().splitlines()[0])
    assert math.isfinite(record["loss_d"]) and record["loss_d"] > 0


def test_init_with_another_architecture_is_a_one_line_error(faces, tmp_path):
    first = tmp_path / "first"
    train(tiny_config(faces, first, time_limit_minutes=1e-7), progress=False)
    wider = {"name": "dcgan", "options": {**TINY_DCGAN_G["options"], "widths": [64, 16, 8]}}
    config = tiny_config(faces, tmp_path / "b", generator=wider, init=str(first / CHECKPOINT_NAME))
    with pytest.raises(InpaintError, match="does not fit the model") as caught:
        train(config, progress=False)
    assert "\n" not in str(caught.value)


def test_score_every_skips_epochs_but_always_scores_the_last(faces, tmp_path):
    out = tmp_path / "run"
    config = tiny_config(faces, out, epochs=3, eval_data=[str(faces)], score_every=2)
    train(config, progress=False)
    scores = [json.loads(line) for line in (out / "scores.jsonl").read_text().splitlines()]
    assert [s["epoch"] for s in scores] == [2, 3]
