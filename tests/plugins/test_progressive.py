"""The progressive pair (ProGAN): the growth schedule, full-size shapes at every stage,
smooth fade-ins, the registry, training through every stage from the command line, and a
resume in the middle of a fade that is exact bit for bit.

Training runs are tiny, fp32 on the CPU (where the loop is deterministic), 32x32 images.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from inpaint_toolkit.core.checkpoint import read_checkpoint
from inpaint_toolkit.core.errors import InpaintError
from inpaint_toolkit.core.interfaces import Discriminator, Generator, GrowingModel
from inpaint_toolkit.models import load_models, package_models
from inpaint_toolkit.plugins.dcgan import (
    DCGANDiscriminator,
    DCGANDiscriminatorOptions,
    DCGANGenerator,
    DCGANOptions,
)
from inpaint_toolkit.plugins.progressive import (
    ProgressiveDiscriminator,
    ProgressiveDiscriminatorOptions,
    ProgressiveGenerator,
    ProgressiveGeneratorOptions,
    growth_stage,
)
from inpaint_toolkit.registry import get_registry
from inpaint_toolkit.training import CHECKPOINT_NAME, train
from inpaint_toolkit.training import loop as training
from inpaint_toolkit.training.config import TrainConfig
from tiny_training import assert_same_training_state, deterministic, metrics, write_smooth_faces
from tiny_training import tiny_config as tiny_training_config

# 64x64: phases of (1 - 0.3) / 8 of the run; the final stable phase starts at 0.7.
PHASE = 0.7 / 8
# The midpoint of each phase, and the (level, alpha) expected there.
MIDPOINTS = [(phase + 0.5) * PHASE for phase in range(8)] + [0.85]
STAGES = [(0, 1.0), (1, 0.5), (1, 1.0), (2, 0.5), (2, 1.0), (3, 0.5), (3, 1.0), (4, 0.5), (4, 1.0)]

SMALL_64 = {"image_size": 64, "widths": (16, 16, 8, 8, 8)}  # 4, 8, 16, 32, 64
TINY_WIDTHS = [16, 16, 8, 8]  # 4, 8, 16, 32
TINY_G = {"name": "progressive", "options": {"widths": TINY_WIDTHS, "z_dim": 16}}
TINY_D = {"name": "progressive", "options": {"widths": TINY_WIDTHS}}
STEPS = 12  # one epoch: 96 images, batches of 8
STOP_AT = 5  # 5 / 12 of the run lies in the fade-in of 16x16


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny convolutions run fastest on one thread; several fight over a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def small_pair() -> tuple[ProgressiveGenerator, ProgressiveDiscriminator]:
    torch.manual_seed(0)
    g = ProgressiveGenerator(ProgressiveGeneratorOptions(**SMALL_64))
    d = ProgressiveDiscriminator(ProgressiveDiscriminatorOptions(**SMALL_64))
    return g.eval(), d.eval()


def set_progress(fraction: float, *models: GrowingModel) -> None:
    for model in models:
        model.set_training_progress(fraction)


# --- the schedule and the stages -----------------------------------------------------------


def test_the_schedule_grows_one_resolution_at_a_time_with_linear_fades():
    for fraction, (level, alpha) in zip(MIDPOINTS, STAGES, strict=True):
        assert growth_stage(fraction, 4, 0.3) == (level, pytest.approx(alpha))
    assert growth_stage(0.0, 4, 0.3) == (0, 1.0)
    assert growth_stage(1.0, 4, 0.3) == (4, 1.0)
    assert growth_stage(0.7, 4, 0.3) == (4, 1.0)  # the final stable phase: 30% of the run

    # Across the fade-in of 16x16 (the fourth phase), alpha rises linearly from 0 to 1.
    start = 3 * PHASE
    for t in np.linspace(0.0, 0.99, 12):
        level, alpha = growth_stage(start + t * PHASE, 4, 0.3)
        assert level == 2 and alpha == pytest.approx(t, abs=1e-9)

    # A larger final share squeezes the growing phases into the rest of the run.
    assert growth_stage(0.45, 4, 0.3) == (3, pytest.approx(0.45 / PHASE - 5))
    assert growth_stage(0.45, 4, 0.6) == (4, 1.0)
    assert growth_stage(0.37, 4, 0.6) == (4, pytest.approx(0.37 / 0.05 - 7))
    with pytest.raises(ValueError, match="progress"):
        growth_stage(1.5, 4, 0.3)


def test_every_stage_takes_and_gives_full_size_images():
    g, d = small_pair()
    z = g.sample_z(4, generator=torch.Generator().manual_seed(0))
    for fraction, (level, alpha) in zip(MIDPOINTS, STAGES, strict=True):
        set_progress(fraction, g, d)
        assert (g.level, d.level) == (level, level)
        assert g.resolution == d.resolution == 4 * 2**level
        assert g.alpha == pytest.approx(alpha) and d.alpha == pytest.approx(alpha)
        with torch.no_grad():
            images = g(z)
            logits = d(images)
        assert images.shape == (4, 3, 64, 64)
        assert torch.isfinite(images).all() and images.abs().max() <= 1
        assert logits.shape == (4,) and torch.isfinite(logits).all()
    with pytest.raises(ValueError, match="64x64"):
        d(torch.zeros(2, 3, 32, 32))


def test_a_fresh_model_is_the_full_resolution_network_alone():
    g, d = small_pair()
    assert (g.resolution, g.alpha, d.resolution, d.alpha) == (64, 1.0, 64, 1.0)
    z = g.sample_z(3, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        x = z
        for block in g.blocks:  # every block, then the top to-RGB only
            x = block(x)
        assert torch.equal(g(z), torch.tanh(g.to_rgb[-1](x)))

        images = g(z)
        x = d.from_rgb[-1](images)
        for block in reversed(d.blocks):  # from the top resolution down to the logit
            x = block(x)
        assert torch.equal(d(images), x.squeeze(1))
        # Told progress 1.0 (or nearly) by a training loop, the models are the same.
        set_progress(0.999, g, d)
        assert torch.equal(g(z), images)


@pytest.mark.parametrize("level", [1, 2, 3, 4])
def test_a_new_block_fades_in_without_a_jump(level):
    """At the start of its fade, a new block changes nothing; its weight then grows."""
    g, d = small_pair()
    z = g.sample_z(4, generator=torch.Generator().manual_seed(2))
    images = torch.rand(4, 3, 64, 64, generator=torch.Generator().manual_seed(3)) * 2 - 1
    fade_start = (2 * level - 1) * PHASE
    outputs = []
    with torch.no_grad():
        for fraction in (fade_start - 1e-9, fade_start + 1e-12, fade_start + PHASE / 2):
            set_progress(fraction, g, d)
            outputs.append((g.level, g(z), d(images)))
    (before_level, g_before, d_before), (at_level, g_at, d_at), (_, g_mid, d_mid) = outputs
    assert (before_level, at_level) == (level - 1, level)
    torch.testing.assert_close(g_at, g_before, atol=1e-6, rtol=0)
    torch.testing.assert_close(d_at, d_before, atol=1e-5, rtol=1e-5)
    assert (g_mid - g_before).abs().max() > 1e-3
    assert (d_mid - d_before).abs().max() > 1e-4


def test_at_4x4_the_images_are_4x4_images_upsampled_and_d_sees_only_block_means():
    g, d = small_pair()
    set_progress(0.5 * PHASE, g, d)
    assert g.resolution == d.resolution == 4
    with torch.no_grad():
        images = g(g.sample_z(3, generator=torch.Generator().manual_seed(4)))
    blocks = images.reshape(3, 3, 4, 16, 4, 16)  # (B, C, row, y in block, column, x in block)
    assert torch.equal(blocks.amax(dim=(3, 5)), blocks.amin(dim=(3, 5)))
    assert blocks[:, :, :, 0, :, 0].std() > 1e-3  # but not one flat colour

    # D judges a picture by its 16x16 block means alone at this stage.
    noisy = torch.rand(3, 3, 64, 64, generator=torch.Generator().manual_seed(5)) * 2 - 1
    means = F.interpolate(F.avg_pool2d(noisy, 16), scale_factor=16)
    with torch.no_grad():
        torch.testing.assert_close(d(noisy), d(means), atol=1e-5, rtol=1e-5)
        set_progress(1.0, d)
        assert (d(noisy) - d(means)).abs().max() > 1e-4  # at full size it sees the detail


def test_switches_off_pixel_norm_equalized_lr_and_minibatch_std():
    torch.manual_seed(0)
    plain = ProgressiveGenerator(
        ProgressiveGeneratorOptions(**SMALL_64, pixel_norm=False, equalized_lr=False)
    )
    assert not any(type(m).__name__ == "PixelNorm" for m in plain.modules())
    convs = [m for m in plain.modules() if isinstance(m, torch.nn.Conv2d)]
    assert all(conv.scale == 1.0 for conv in convs)  # He init baked into the weights
    assert convs[1].weight.std().item() == pytest.approx((2 / (16 * 9)) ** 0.5, rel=0.1)

    g, d = small_pair()
    scaled = [m for m in g.modules() if isinstance(m, torch.nn.Conv2d)]
    assert scaled[1].weight.std().item() == pytest.approx(1.0, rel=0.1)  # stored N(0, 1)
    assert scaled[1].scale == pytest.approx((2 / (16 * 9)) ** 0.5)

    # Minibatch std: a batch of copies has no spread, so each copy's logit is its own.
    image = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(6)) * 2 - 1
    others = torch.rand(3, 3, 64, 64, generator=torch.Generator().manual_seed(7)) * 2 - 1
    alone = ProgressiveDiscriminator(
        ProgressiveDiscriminatorOptions(**SMALL_64, minibatch_std=False)
    )
    with torch.no_grad():
        copies = d(image.repeat(4, 1, 1, 1))
        mixed = d(torch.cat([image, others]))
        assert (copies[0] - mixed[0]).abs() > 1e-5  # the batch-mates matter with it on
        free = alone(torch.cat([image, others]))[0]
        torch.testing.assert_close(free, alone(image)[0])  # and not with it off


def test_default_sizes_are_no_bigger_than_the_dcgans():
    def count(model: torch.nn.Module) -> int:
        return sum(p.numel() for p in model.parameters())

    g, d = ProgressiveGenerator(), ProgressiveDiscriminator()
    widths = [len(block[1].weight) for block in g.blocks[1:]]
    assert widths == [256, 256, 128, 64]  # 8x8 .. 64x64, after 256 at 4x4
    assert count(g) < count(DCGANGenerator(DCGANOptions()))
    assert count(d) < 1.1 * count(DCGANDiscriminator(DCGANDiscriminatorOptions()))


# --- the registry --------------------------------------------------------------------------


def test_the_registry_builds_the_pair_and_checks_the_options():
    registry = get_registry()
    g = registry.build("generator", "progressive", {"image_size": 32})
    d = registry.build("discriminator", "progressive", {"image_size": 32})
    assert isinstance(g, ProgressiveGenerator) and isinstance(d, ProgressiveDiscriminator)
    assert isinstance(g, Generator) and isinstance(d, Discriminator)
    assert isinstance(g, GrowingModel) and isinstance(d, GrowingModel)
    assert registry.get("generator", "progressive").source == "built-in"
    assert (g.z_dim, g.image_size, g.z_range, d.image_size) == (100, 32, (-1.0, 1.0), 32)
    assert len(g.to_rgb) == len(d.from_rgb) == 4  # 4, 8, 16, 32
    for kind in ("generator", "discriminator"):
        spec = registry.get(kind, "progressive").spec
        assert spec.description and "\n" not in spec.description
        assert all(field.description for field in spec.options.model_fields.values())

    big = registry.build("generator", "progressive", {"image_size": 128, "widths": [8] * 6})
    big_d = registry.build("discriminator", "progressive", {"image_size": 128, "widths": [8] * 6})
    with torch.no_grad():
        assert big_d(big(big.sample_z(2))).shape == (2,)

    for options, named in (({"image_size": 48}, "image_size"), ({"widths": [8, 8]}, "widths")):
        with pytest.raises(InpaintError, match=named):
            registry.build("discriminator", "progressive", options)
    with pytest.raises(InpaintError, match="final_share"):
        registry.build("generator", "progressive", {"final_share": 1.0})


# --- training ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def faces(tmp_path_factory) -> Path:
    return write_smooth_faces(tmp_path_factory.mktemp("data") / "faces.npz", 96)


def tiny_config(data: Path, out: Path, **changes) -> TrainConfig:
    return tiny_training_config(data, out, generator=TINY_G, discriminator=TINY_D, **changes)


def test_training_from_the_command_line_goes_through_every_stage(faces, tmp_path):
    # The run's steps (progress step / 12) fall in every phase of a 32x32 schedule.
    stages = {growth_stage(step / STEPS, 3, 0.3) for step in range(STEPS)}
    assert {level for level, _ in stages} == {0, 1, 2, 3}
    assert {level for level, alpha in stages if alpha == 1} == {0, 1, 2, 3}
    assert {level for level, alpha in stages if 0 < alpha < 1} == {1, 2, 3}

    out = tmp_path / "run"
    widths = ",".join(map(str, TINY_WIDTHS))
    command = [
        sys.executable, "-m", "inpaint_toolkit", "train", "--data", str(faces),
        "--out", str(out), "--epochs", "1", "--batch-size", "8", "--image-size", "32",
        "--generator", f"progressive[widths=[{widths}],z_dim=16]",
        "--discriminator", f"progressive[widths=[{widths}]]",
        "--precision", "fp32", "--device", "cpu", "--quiet",
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env.pop("WORLD_SIZE", None)
    done = subprocess.run(
        command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"finished at step {STEPS}" in done.stdout

    g, d, metadata = load_models(out / CHECKPOINT_NAME)
    assert metadata["generator"]["options"]["widths"] == TINY_WIDTHS
    assert (g.resolution, g.alpha, d.resolution) == (32, 1.0, 32)  # loaded: finished
    with torch.no_grad():
        images = g(g.sample_z(2, generator=torch.Generator().manual_seed(0)))
        assert d(images).shape == (2,)
    assert images.shape == (2, 3, 32, 32)
    assert (images[..., ::2, ::2] != images[..., 1::2, 1::2]).any()  # real 32x32 detail

    # Every part of every resolution was trained at some stage: no tensor kept its start.
    torch.manual_seed(0)  # as the loop seeds before building G, then D
    registry = get_registry()
    start_g = registry.build("generator", "progressive", {**TINY_G["options"], "image_size": 32})
    start_d = registry.build(
        "discriminator", "progressive", {**TINY_D["options"], "image_size": 32}
    )
    tensors, _ = read_checkpoint(out / CHECKPOINT_NAME)
    for prefix, start in (("generator.", start_g), ("discriminator.", start_d)):
        for key, value in start.state_dict().items():
            assert not torch.equal(tensors[prefix + key], value), f"{prefix}{key} never trained"


def test_resuming_in_the_middle_of_a_fade_is_exact(faces, tmp_path, monkeypatch):
    probe = ProgressiveGenerator(ProgressiveGeneratorOptions(image_size=32, widths=TINY_WIDTHS))
    probe.set_training_progress(STOP_AT / STEPS)
    assert probe.resolution == 16 and 0 < probe.alpha < 1  # the 16x16 block half faded in

    straight = tmp_path / "straight"
    assert train(tiny_config(faces, straight, ema=0.999), progress=False).step == STEPS

    out = tmp_path / "stopped"
    log = training.RunFiles.log

    def log_then_terminate(self, record):
        log(self, record)
        if record["step"] == STOP_AT:
            os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(training.RunFiles, "log", log_then_terminate)
    stopped = train(tiny_config(faces, out, ema=0.999), progress=False)
    monkeypatch.undo()
    assert not stopped.finished and stopped.step == STOP_AT
    # Loaded from the stopped run's file (or its packaged copy), the pair is where it
    # stopped: mid-fade at 16x16, not a full-size network with unlearnt blocks.
    shipped = package_models(out / CHECKPOINT_NAME, tmp_path / "stopped.safetensors")
    for path in (out / CHECKPOINT_NAME, shipped):
        g, d, _ = load_models(path)
        assert g.progress == d.progress == pytest.approx(STOP_AT / STEPS)
        assert g.resolution == 16 and 0 < g.alpha < 1
    assert load_models(straight / CHECKPOINT_NAME)[0].progress == 1  # a finished run

    finished = train(tiny_config(faces, out, ema=0.999, resume=True), progress=False)
    assert finished.finished and finished.step == STEPS

    assert_same_training_state(straight, out)
    assert any(
        key.startswith("generator_ema.") for key in read_checkpoint(out / CHECKPOINT_NAME)[0]
    )
    assert deterministic(metrics(out)) == deterministic(metrics(straight))


def test_the_pair_brings_progans_optimiser_unless_the_user_sets_one(faces, tmp_path):
    def used(out: Path) -> dict:
        return read_checkpoint(out / CHECKPOINT_NAME)[1]["train_config"]

    train(tiny_config(faces, tmp_path / "own"), progress=False)
    assert (used(tmp_path / "own")["lr"], used(tmp_path / "own")["beta1"]) == (1e-3, 0.0)
    assert (used(tmp_path / "own")["beta2"], used(tmp_path / "own")["ema"]) == (0.99, 0.0)

    train(tiny_config(faces, tmp_path / "given", lr=5e-4), progress=False)
    assert (used(tmp_path / "given")["lr"], used(tmp_path / "given")["beta1"]) == (5e-4, 0.0)

    plain = {**TINY_G, "options": {**TINY_G["options"], "equalized_lr": False}}
    plain_d = {**TINY_D, "options": {**TINY_D["options"], "equalized_lr": False}}
    out = tmp_path / "plain"
    train(tiny_training_config(faces, out, generator=plain, discriminator=plain_d), progress=False)
    assert (used(out)["lr"], used(out)["beta1"]) == (2e-4, 0.5)  # He init: the DCGAN's
    assert used(out)["ema"] == 0.0
