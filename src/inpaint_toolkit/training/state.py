"""What a training checkpoint holds, and how a resume restores it exactly.

One safetensors file: the models (``generator.``, ``discriminator.``, and the weight
average ``generator_ema.``), both optimisers (flattened: safetensors holds tensors only,
so their hyper-parameters go to the JSON metadata), every rank's noise RNG, the step and
the run's configuration. ``package_models`` later slims it to the shipped model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor, nn

from inpaint_toolkit.core.checkpoint import (
    load_state_strict,
    model_record,
    prefixed,
    read_checkpoint,
    save_checkpoint,
    unprefixed,
)
from inpaint_toolkit.core.errors import InpaintError
from inpaint_toolkit.training.config import TrainConfig

# Settings that fix what the data order and noise are: changing one on resume would start
# another run in the old one's folder.
SETTINGS_FIXED_ON_RESUME = ("batch_size", "seed", "image_size", "world_size")


@dataclass
class TrainingState:
    """What a checkpoint saves and a resume restores, besides the step."""

    g: nn.Module
    d: nn.Module
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    noise: torch.Generator  # draws z, the flips and the augmentations
    g_ema: nn.Module | None = None  # the moving average of G's weights, if the run keeps one


def save_training_state(
    path: Path,
    state: TrainingState,
    config: TrainConfig,
    *,
    step: int,
    steps_per_epoch: int,
    rng_states: list[Tensor],
) -> None:
    tensors = {
        **prefixed("generator", state.g.state_dict()),
        **prefixed("discriminator", state.d.state_dict()),
    }
    if state.g_ema is not None:
        tensors.update(prefixed("generator_ema", state.g_ema.state_dict()))
    meta: dict[str, Any] = {
        "generator": model_record(config.generator.name, state.g),
        "discriminator": model_record(config.discriminator.name, state.d),
        "step": step,
        "epoch": step / steps_per_epoch,
        "train_config": config.model_dump(mode="json"),
        "world_size": len(rng_states),
    }
    for name, optimizer in (("optimizer_g", state.opt_g), ("optimizer_d", state.opt_d)):
        flat, optimizer_meta = _flatten_optimizer(optimizer)
        tensors.update(prefixed(name, flat))
        meta[name] = optimizer_meta
    for rank, rng_state in enumerate(rng_states):
        tensors[f"rng.noise.{rank}"] = rng_state
    save_checkpoint(path, tensors, meta)


def restore_training_state(path: Path, state: TrainingState, config: TrainConfig, rank: int) -> int:
    """Load ``path`` into ``state``; returns the step to continue from."""
    tensors, meta = read_checkpoint(path)
    saved = {**meta.get("train_config", {}), "world_size": meta.get("world_size", 1)}
    current = {
        **config.model_dump(mode="json"),
        "world_size": dist.get_world_size() if dist.is_initialized() else 1,
    }
    for key in SETTINGS_FIXED_ON_RESUME:
        if key in saved and saved[key] != current[key]:
            raise InpaintError(
                f"--resume: {key} is {current[key]} but the checkpoint was made with "
                f"{saved[key]}; resuming would not continue the same run"
            )
    load_state_strict(state.g, unprefixed("generator", tensors), f"{path} (generator)")
    load_state_strict(state.d, unprefixed("discriminator", tensors), f"{path} (discriminator)")
    if state.g_ema is not None:
        average = unprefixed("generator_ema", tensors)
        if not average:
            raise InpaintError(
                f"--resume: {path} keeps no weight average; resume with --ema 0, as it was made"
            )
        load_state_strict(state.g_ema, average, f"{path} (generator_ema)")
    for name, optimizer in (("optimizer_g", state.opt_g), ("optimizer_d", state.opt_d)):
        optimizer.load_state_dict(_unflatten_optimizer(unprefixed(name, tensors), meta[name]))
        # The saved state carries the old run's rate and betas; this run's settings win, as
        # every other setting does (a run resumed with --lr 1e-4 must train at 1e-4).
        for group in optimizer.param_groups:
            group.update(config.adam_settings(name[-1]))
    rng = tensors.get(f"rng.noise.{rank}")
    if rng is None:
        raise InpaintError(f"--resume: {path} has no RNG state for process {rank}")
    state.noise.set_state(rng)
    return int(meta["step"])


def non_finite(state: TrainingState) -> list[str]:
    """The model and optimiser tensors holding NaN or infinity: a diverged run, whose
    weights must never overwrite the last good checkpoint."""
    named = {
        **prefixed("generator", state.g.state_dict()),
        **prefixed("discriminator", state.d.state_dict()),
        **(prefixed("generator_ema", state.g_ema.state_dict()) if state.g_ema else {}),
    }
    for name, optimizer in (("optimizer_g", state.opt_g), ("optimizer_d", state.opt_d)):
        named.update(prefixed(name, _flatten_optimizer(optimizer)[0]))
    return [k for k, v in named.items() if v.is_floating_point() and not torch.isfinite(v).all()]


def diverged(step: int, saved_step: int | None, what: str) -> InpaintError:
    """The one-line error a diverged run stops with."""
    kept = (
        f"the checkpoint of step {saved_step} is kept"
        if saved_step is not None
        else "no checkpoint was written"
    )
    return InpaintError(
        f"training diverged at step {step} ({what}); stopped without saving, {kept}; "
        "start again with a lower --lr (or --lr-g, --lr-d), from that checkpoint with --init"
    )


def initialise_from(path: str | Path, state: TrainingState) -> None:
    """Start G and D (and the average) from a model file's weights: fine-tuning."""
    tensors, _ = read_checkpoint(path)
    # A training checkpoint's average is the better generator; a packaged model has one G.
    generator = unprefixed("generator_ema", tensors) or unprefixed("generator", tensors)
    load_state_strict(state.g, generator, f"--init {path} (generator)")
    load_state_strict(
        state.d, unprefixed("discriminator", tensors), f"--init {path} (discriminator)"
    )
    if state.g_ema is not None:
        state.g_ema.load_state_dict(state.g.state_dict())


def _flatten_optimizer(optimizer: torch.optim.Optimizer) -> tuple[dict[str, Tensor], dict]:
    """Optimiser state as flat tensors plus JSON (safetensors holds tensors only)."""
    state = optimizer.state_dict()
    tensors: dict[str, Tensor] = {}
    for param_id, values in state["state"].items():
        for key, value in values.items():
            tensors[f"{param_id}.{key}"] = value if torch.is_tensor(value) else torch.tensor(value)
    return tensors, {"param_groups": state["param_groups"]}


def _unflatten_optimizer(tensors: dict[str, Tensor], meta: dict) -> dict[str, Any]:
    state: dict[int, dict[str, Tensor]] = {}
    for key, value in tensors.items():
        param_id, name = key.split(".", 1)
        state.setdefault(int(param_id), {})[name] = value
    return {"state": state, "param_groups": meta["param_groups"]}
