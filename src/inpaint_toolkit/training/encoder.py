"""``inpaint-toolkit train-encoder``: teach a network to guess z from a damaged face.

The generator is fixed; only the encoder learns. Each batch mixes two kinds of faces,
each damaged by one of the toolkit's own mask plugins (drawn at random per image):

* the generator's own samples, whose true code is known: the encoder is also pulled
  towards that code (Chai et al. 2021), which teaches it the generator's coordinates;
* real training faces, which teach it what the test faces will look like (never the
  test files: ``--data`` is read as a training split).

The loss is the L1 distance of ``G(E(damaged))`` to the clean face, averaged over the
known pixels (the context the search will fit) and over the hole separately, so a small
hole counts as much as a large one. The run file is rewritten every ``save_every`` steps
and on Ctrl-C, and ``resume`` continues it.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import Tensor
from tqdm import tqdm

from inpaint_toolkit.core import runtime
from inpaint_toolkit.core.checkpoint import prefixed, read_checkpoint, unprefixed
from inpaint_toolkit.core.config import Config, Precision, Seed
from inpaint_toolkit.core.errors import InpaintError
from inpaint_toolkit.core.expressions import parse_choice_list
from inpaint_toolkit.core.images import to_tensor
from inpaint_toolkit.core.notices import notice
from inpaint_toolkit.data.faces import open_faces
from inpaint_toolkit.models import load_models
from inpaint_toolkit.models.encoder import Encoder, load_encoder, save_encoder
from inpaint_toolkit.registry import get_registry

TRAINING_MASKS = "center,half[side=random],pixels,pattern,blocks,strokes"


class EncoderTrainConfig(Config):
    """What ``train-encoder`` runs; unknown keys are an error."""

    data: list[str] = Field(
        default_factory=list, description="training faces; none: the generator's samples only"
    )
    checkpoint: str | None = Field(None, description="the generator's model (default: packaged)")
    out: Path = Field(Path("runs/encoder.safetensors"), description="the encoder's run file")
    init: str | None = Field(
        None,
        description="start from this encoder's weights, even one made for another generator "
        "(the one this generator was fine-tuned from, say)",
    )
    steps: int = Field(3000, ge=1, description="optimiser steps")
    batch_size: int = Field(64, ge=2)
    lr: float = Field(1e-3, gt=0, description="Adam's learning rate")
    real_fraction: float = Field(0.5, ge=0, le=1, description="share of real faces per batch")
    latent_weight: float = Field(
        0.1, ge=0, description="weight of the pull to the true code, on generated faces"
    )
    masks: str = Field(TRAINING_MASKS, description="mask plugins drawn from, one per image")
    widths: list[int] = Field([32, 64, 128, 256], min_length=1)
    save_every: int = Field(100, ge=1, description="rewrite the run file every N steps")
    resume: bool = Field(False, description="continue the run file in --out")
    seed: Seed = 0
    precision: Precision = "auto"
    device: str = "auto"


def train_encoder(config: EncoderTrainConfig, *, progress: bool = True) -> Path:
    device = runtime.resolve_device(config.device)
    precision = runtime.resolve_precision(config.precision, device)
    generator, _, _ = load_models(config.checkpoint, need_discriminator=False, device=device)
    generator.requires_grad_(False)  # gradients flow through G to the encoder only
    registry = get_registry()
    masks = [registry.build("mask", c.name, c.options) for c in parse_choice_list(config.masks)]
    if not masks:
        raise InpaintError("train-encoder needs at least one mask plugin")
    faces = open_faces(config.data, generator.image_size) if config.data else None
    real_count = round(config.batch_size * config.real_fraction) if faces is not None else 0
    if faces is not None and len(faces) < real_count:
        raise InpaintError(f"{len(faces)} training faces are fewer than {real_count} per batch")

    with torch.random.fork_rng(devices=[]):  # the seed alone sets the first weights
        torch.manual_seed(config.seed)
        encoder = Encoder(
            z_dim=generator.z_dim,
            image_size=generator.image_size,
            widths=tuple(config.widths),
            z_range=generator.z_range,
        ).to(device)
    if config.init is not None:
        _start_from(config.init, encoder, generator)
    optimizer = torch.optim.Adam(encoder.parameters(), lr=config.lr)
    start = 0
    if config.resume and config.out.is_file():
        start = _resume(config.out, encoder, optimizer, generator, device)
        notice(f"resuming {config.out} at step {start}")
    encoder.train()

    def save(step: int) -> None:
        extra = prefixed("optimizer", _flat_optimizer_state(optimizer))
        meta = {"step": step, "train_config": config.model_dump(mode="json")}
        save_encoder(config.out, encoder, generator, extra_tensors=extra, metadata=meta)

    config.out.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    bar = tqdm(range(start, config.steps), disable=not progress, unit="step", dynamic_ncols=True)
    step = start
    try:
        for step in bar:
            draw = torch.Generator().manual_seed(config.seed * 1_000_003 + step)
            clean, codes = _batch(generator, faces, config.batch_size, real_count, draw, device)
            damaged, known = _damage(clean.cpu(), masks, draw)
            damaged, known = damaged.to(device), known.to(device)
            with runtime.autocast(device, precision):
                guessed = encoder(damaged, known)
                rebuilt = generator(guessed).float()
            loss = _region_l1(rebuilt, clean, known) + _region_l1(rebuilt, clean, 1 - known)
            if codes is not None and config.latent_weight > 0:
                loss = loss + config.latent_weight * F.mse_loss(guessed[real_count:], codes)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if not torch.isfinite(loss):
                raise InpaintError(f"the encoder's loss became {loss.item()} at step {step}")
            bar.set_postfix(loss=f"{loss.item():.4f}")
            if (step + 1) % config.save_every == 0:
                save(step + 1)
                notice(
                    f"step {step + 1}: loss {loss.item():.4f}, "
                    f"{time.perf_counter() - started:.0f} s"
                )
        step = config.steps
    except KeyboardInterrupt:
        save(step)
        notice(f"interrupted: saved step {step} to {config.out}; --resume continues it")
        raise
    save(step)
    return config.out


def _batch(
    generator: torch.nn.Module,
    faces,
    size: int,
    real_count: int,
    draw: torch.Generator,
    device: torch.device,
) -> tuple[Tensor, Tensor | None]:
    """Real faces first, then generated ones; the codes of the generated ones."""
    parts, codes = [], None
    if real_count:
        indices = torch.randint(len(faces), (real_count,), generator=draw)
        parts.append(to_tensor(faces.take(indices.numpy())).to(device))
    if size > real_count:
        codes = generator.sample_z(size - real_count, generator=draw, device=device)
        with torch.no_grad():
            parts.append(generator(codes).float())
    return torch.cat(parts), codes


def _damage(clean: Tensor, masks: list, draw: torch.Generator) -> tuple[Tensor, Tensor]:
    """Each image damaged by one mask plugin drawn at random."""
    which = torch.randint(len(masks), (clean.shape[0],), generator=draw)
    damaged, known = clean.clone(), torch.ones_like(clean[:, :1])
    for index, mask in enumerate(masks):
        rows = (which == index).nonzero().squeeze(1)
        if len(rows):
            result = mask(clean[rows], draw)
            damaged[rows], known[rows] = result.images, result.known.float()
    return damaged, known


def _region_l1(rebuilt: Tensor, clean: Tensor, region: Tensor) -> Tensor:
    """Mean absolute error over the pixels of ``region`` (per image, then over images
    that have any such pixel)."""
    area = region.flatten(1).sum(1)
    error = ((rebuilt - clean).abs() * region).flatten(1).sum(1) / (3 * area.clamp(min=1))
    has = area > 0
    return error[has].mean() if has.any() else error.sum() * 0


def _flat_optimizer_state(optimizer: torch.optim.Optimizer) -> dict[str, Tensor]:
    state = optimizer.state_dict()["state"]
    return {
        f"{index}.{key}": torch.as_tensor(value)
        for index, values in state.items()
        for key, value in values.items()
    }


def _start_from(
    path: str | Path, encoder: Encoder, generator: torch.nn.Module, *, same_generator: bool = False
) -> None:
    """Copy the weights of the encoder in ``path`` into ``encoder`` (same options needed;
    ``same_generator``: it must have been made for ``generator``, as a run to resume)."""
    loaded = load_encoder(path, generator, same_generator=same_generator)
    if loaded.options() != encoder.options():
        raise InpaintError(
            f"{path}: its encoder has other options ({loaded.options()}) than asked for "
            f"({encoder.options()})"
        )
    encoder.load_state_dict(loaded.state_dict())


def _resume(
    path: Path,
    encoder: Encoder,
    optimizer: torch.optim.Optimizer,
    generator: torch.nn.Module,
    device: torch.device,
) -> int:
    _start_from(path, encoder, generator, same_generator=True)
    tensors, metadata = read_checkpoint(path)
    saved = unprefixed("optimizer", tensors)
    if saved:
        state = optimizer.state_dict()
        for key, value in saved.items():
            index, name = key.split(".", 1)
            state["state"].setdefault(int(index), {})[name] = value.to(device)
        optimizer.load_state_dict(state)
    return int(metadata.get("step", 0))
