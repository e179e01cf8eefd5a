"""GAN training: the non-saturating DCGAN objective, plain torch, top to bottom.

Runs as is on one CPU or GPU, and under ``torchrun`` on several processes
(DistributedDataParallel; each rank takes its own slice of every epoch's shuffle; only
rank 0 writes files). Everything a resumed run needs (models, optimisers, step, the noise
RNG) goes into one safetensors checkpoint, written atomically every ``checkpoint_every``
steps, at each epoch's end, and when the run is interrupted (Ctrl-C, SIGTERM, time
limit). The data order of an epoch is a pure function of (seed, epoch), so a resumed run
continues bit for bit where the killed one stopped.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm import tqdm

from inpaint_toolkit.core import runtime
from inpaint_toolkit.core.checkpoint import (
    model_record,
    prefixed,
    read_checkpoint,
    save_checkpoint,
    unprefixed,
)
from inpaint_toolkit.core.config import TrainConfig
from inpaint_toolkit.core.data import load_faces
from inpaint_toolkit.core.images import save_grid, to_tensor
from inpaint_toolkit.core.plots import plot_curves
from inpaint_toolkit.errors import InpaintError

CHECKPOINT_NAME = "checkpoint.safetensors"
SAMPLE_COUNT = 64


@dataclass
class TrainingState:
    """What a checkpoint saves and a resume restores, besides the step."""

    g: nn.Module
    d: nn.Module
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    noise: torch.Generator  # draws z and the flips


@dataclass
class TrainResult:
    checkpoint: Path
    step: int
    epoch: int
    finished: bool  # False when stopped early (interrupt or time limit); --resume continues


def train(config: TrainConfig, *, progress: bool = True) -> TrainResult:
    rank, world = _init_distributed()
    device = runtime.resolve_device(config.device)
    if world > 1 and device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    precision = runtime.resolve_precision(config.precision, device)
    memory_format = runtime.memory_format(device, precision)
    out = Path(config.out)
    checkpoint_path = out / CHECKPOINT_NAME

    from inpaint_toolkit.registry import get_registry

    registry = get_registry()
    model_options = {"image_size": config.image_size}
    torch.manual_seed(config.seed)  # initial weights
    g = registry.build(
        "generator", config.generator.name, {**model_options, **config.generator.options}
    )
    d = registry.build(
        "discriminator",
        config.discriminator.name,
        {**model_options, **config.discriminator.options},
    )
    g = g.to(device, memory_format=memory_format)
    d = d.to(device, memory_format=memory_format)
    betas = (config.beta1, config.beta2)
    opt_g = torch.optim.Adam(g.parameters(), lr=config.lr, betas=betas)
    opt_d = torch.optim.Adam(d.parameters(), lr=config.lr, betas=betas)
    noise = torch.Generator().manual_seed(config.seed * 7919 + rank)  # z and flips
    state = TrainingState(g, d, opt_g, opt_d, noise)
    step = 0

    if config.resume:
        if not checkpoint_path.exists():
            raise InpaintError(f"--resume: no checkpoint at {checkpoint_path}")
        step = _restore(checkpoint_path, state, config, rank)
    elif checkpoint_path.exists():  # every rank sees it, so every rank stops
        raise InpaintError(
            f"{checkpoint_path} exists; pass --resume to continue it or choose another --out"
        )

    faces = load_faces(config.data, config.image_size)
    images = torch.from_numpy(faces.images).permute(0, 3, 1, 2).contiguous()  # uint8 NCHW
    steps_per_epoch = len(images) // world // config.batch_size
    if steps_per_epoch == 0:
        raise InpaintError(
            f"{len(images)} images are fewer than one batch of {config.batch_size} per process"
        )
    total_steps = steps_per_epoch * config.epochs
    fixed_z = g.sample_z(SAMPLE_COUNT, generator=torch.Generator().manual_seed(1234), device=device)

    if world > 1:
        g_train: nn.Module = nn.parallel.DistributedDataParallel(g)
        d_train: nn.Module = nn.parallel.DistributedDataParallel(d)
    else:
        g_train, d_train = g, d

    writer = _RunFiles(out, enabled=rank == 0, resume_step=step if config.resume else None)
    if rank == 0:
        writer.note(
            f"{len(images)} images ({faces.skipped} unreadable skipped), {steps_per_epoch} steps "
            f"per epoch, {world} process(es), {device.type} {precision}"
        )
    deadline = (
        time.monotonic() + config.time_limit_minutes * 60 if config.time_limit_minutes else None
    )
    bar = tqdm(
        total=total_steps,
        initial=step,
        disable=not progress or rank != 0,
        unit="step",
        dynamic_ncols=True,
    )
    g_train.train()
    d_train.train()
    stopped_early = False
    with _stop_requests() as stop:
        while step < total_steps:
            epoch, index = divmod(step, steps_per_epoch)
            order = torch.randperm(
                len(images), generator=torch.Generator().manual_seed(config.seed * 100_003 + epoch)
            )[rank::world]
            batch_ids = order[index * config.batch_size : (index + 1) * config.batch_size]
            real = _augment(images[batch_ids], config.flip, noise)
            real = real.to(device, memory_format=memory_format, non_blocking=True)
            z = g.sample_z(config.batch_size, generator=noise, device=device)
            started = time.perf_counter()

            d_real, d_fake, loss_d, loss_g = train_step(
                g_train, d_train, opt_g, opt_d, real, z, device, precision
            )
            step += 1

            if device.type == "cuda":
                torch.cuda.synchronize(device)
            rate = config.batch_size * world / (time.perf_counter() - started)
            record = {
                "step": step,
                "epoch": epoch,
                "loss_d": round(loss_d.item(), 5),
                "loss_g": round(loss_g.item(), 5),
                "d_real": round(torch.sigmoid(d_real).mean().item(), 4),
                "d_fake": round(torch.sigmoid(d_fake).mean().item(), 4),
                "images_per_s": round(rate, 1),
            }
            writer.log(record)
            bar.update(1)
            bar.set_postfix(
                epoch=epoch + 1,
                D=f"{record['loss_d']:.3f}",
                G=f"{record['loss_g']:.3f}",
                img_s=f"{rate:.0f}",
            )
            epoch_done = step % steps_per_epoch == 0
            timed_out = deadline is not None and time.monotonic() > deadline
            stopped_early = _agree(stop.requested or timed_out, world) and step < total_steps
            if epoch_done:
                writer.samples(g, fixed_z, epoch + 1)
            if epoch_done or stopped_early or step % config.checkpoint_every == 0:
                writer.checkpoint(checkpoint_path, state, config, step, steps_per_epoch, world)
            if stopped_early:
                reason = "time limit reached" if timed_out else "interrupted"
                bar.write(f"{reason}: checkpoint saved at step {step}; continue with --resume")
                break
    bar.close()
    writer.plot()
    writer.close()
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()
    return TrainResult(checkpoint_path, step, step // steps_per_epoch, not stopped_early)


def train_step(
    g: nn.Module,
    d: nn.Module,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    real: Tensor,
    z: Tensor,
    device: torch.device,
    precision: str,
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """One D update, then one G update; returns D's logits on real and fake, and the losses."""
    # Discriminator: real -> 1, fake -> 0. softplus(-x) is -log sigmoid(x), stably.
    with runtime.autocast(device, precision):
        fake = g(z)
        d_real = d(real).float()
        d_fake = d(fake.detach()).float()
        loss_d = F.softplus(-d_real).mean() + F.softplus(d_fake).mean()
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    opt_d.step()

    # Generator, non-saturating: maximise log D(G(z)) rather than minimise log(1 - D).
    with runtime.autocast(device, precision):
        loss_g = F.softplus(-d(fake).float()).mean()
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    return d_real.detach(), d_fake.detach(), loss_d.detach(), loss_g.detach()


def _augment(batch: Tensor, flip: bool, noise: torch.Generator) -> Tensor:
    images = to_tensor(batch.permute(0, 2, 3, 1).numpy())
    if flip:
        flips = torch.rand(len(images), generator=noise) < 0.5
        images[flips] = images[flips].flip(-1)
    return images


def _init_distributed() -> tuple[int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return 0, 1
    if not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend)
    return dist.get_rank(), world


def _restore(path: Path, state: TrainingState, config: TrainConfig, rank: int) -> int:
    from inpaint_toolkit.core.checkpoint import load_state_strict

    tensors, meta = read_checkpoint(path)
    saved = meta.get("train_config", {})
    current = {
        **config.model_dump(mode="json"),
        "world_size": dist.get_world_size() if dist.is_initialized() else 1,
    }
    saved = {**saved, "world_size": meta.get("world_size", 1)}
    for key in ("batch_size", "seed", "image_size", "world_size"):
        if key in saved and saved[key] != current[key]:
            raise InpaintError(
                f"--resume: {key} is {current[key]} but the checkpoint was made with "
                f"{saved[key]}; resuming would not continue the same run"
            )
    load_state_strict(state.g, unprefixed("generator", tensors), f"{path} (generator)")
    load_state_strict(state.d, unprefixed("discriminator", tensors), f"{path} (discriminator)")
    for name, optimizer in (("optimizer_g", state.opt_g), ("optimizer_d", state.opt_d)):
        optimizer.load_state_dict(_unflatten_optimizer(unprefixed(name, tensors), meta[name]))
    rng = tensors.get(f"rng.noise.{rank}")
    if rng is None:
        raise InpaintError(f"--resume: {path} has no RNG state for process {rank}")
    state.noise.set_state(rng)
    return int(meta["step"])


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


class _RunFiles:
    """What a training run writes: metrics (JSON lines), sample grids, plots, checkpoint."""

    def __init__(self, out: Path, *, enabled: bool, resume_step: int | None):
        self.out = out
        self.enabled = enabled
        self.metrics_path = out / "metrics.jsonl"
        if not enabled:
            return
        out.mkdir(parents=True, exist_ok=True)
        (out / "samples").mkdir(exist_ok=True)
        if resume_step is not None and self.metrics_path.exists():
            # Drop what a killed run logged after its last checkpoint: it will be redone.
            kept = [
                line
                for line in self.metrics_path.read_text().splitlines()
                if line and json.loads(line).get("step", 0) <= resume_step
            ]
            self.metrics_path.write_text("".join(line + "\n" for line in kept))
        # A new run starts a fresh log: a run killed before its first checkpoint (so
        # restarted without --resume) must not leave its steps in front of these.
        self._metrics = self.metrics_path.open("w" if resume_step is None else "a")

    def note(self, message: str) -> None:
        tqdm.write(message)

    def log(self, record: dict[str, Any]) -> None:
        if self.enabled:
            self._metrics.write(json.dumps(record) + "\n")

    def samples(self, g: nn.Module, fixed_z: Tensor, epoch: int) -> None:
        if not self.enabled:
            return
        g.eval()  # as inpainting will use it: batch norm from running statistics
        with torch.no_grad():
            images = g(fixed_z).float()
        g.train()
        save_grid(images, self.out / "samples" / f"epoch_{epoch:03d}.png")
        save_grid(images, self.out / "samples.png")
        self.plot()

    def checkpoint(
        self,
        path: Path,
        state: TrainingState,
        config: TrainConfig,
        step: int,
        steps_per_epoch: int,
        world: int,
    ) -> None:
        # Every rank's noise RNG goes in, so a resumed multi-process run is exact too.
        rng_states = _gather_rng(state.noise, world)
        if not self.enabled:
            return
        self._metrics.flush()
        tensors = {
            **prefixed("generator", state.g.state_dict()),
            **prefixed("discriminator", state.d.state_dict()),
        }
        meta: dict[str, Any] = {
            "generator": model_record(config.generator.name, state.g),
            "discriminator": model_record(config.discriminator.name, state.d),
            "step": step,
            "epoch": step / steps_per_epoch,
            "train_config": config.model_dump(mode="json"),
            "world_size": world,
        }
        for name, optimizer in (("optimizer_g", state.opt_g), ("optimizer_d", state.opt_d)):
            flat, optimizer_meta = _flatten_optimizer(optimizer)
            tensors.update(prefixed(name, flat))
            meta[name] = optimizer_meta
        for rank, rng_state in enumerate(rng_states):
            tensors[f"rng.noise.{rank}"] = rng_state
        save_checkpoint(path, tensors, meta)

    def close(self) -> None:
        if self.enabled:
            self._metrics.close()

    def plot(self) -> None:
        if not self.enabled or not self.metrics_path.exists():
            return
        self._metrics.flush()
        records = [json.loads(line) for line in self.metrics_path.read_text().splitlines() if line]
        if not records:
            return
        steps = [r["step"] for r in records]
        smooth = max(1, len(records) // 200)  # average into at most ~200 points
        for key, title in (("loss_d", "Discriminator loss"), ("loss_g", "Generator loss")):
            values = [r[key] for r in records]
            xs = steps[smooth - 1 :: smooth]
            ys = [
                sum(values[i : i + smooth]) / smooth
                for i in range(0, len(values) - smooth + 1, smooth)
            ]
            plot_curves(
                {key: (xs[: len(ys)], ys)}, self.out / f"{key}.png", title=title, xlabel="step"
            )


def _agree(flag: bool, world: int) -> bool:
    """True on every rank if it is on any: all ranks must stop (and save) at the same step."""
    if world == 1:
        return flag
    value = torch.tensor([float(flag)])
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


def _gather_rng(noise: torch.Generator, world: int) -> list[Tensor]:
    state = noise.get_state()
    if world == 1:
        return [state]
    gathered = [torch.empty_like(state) for _ in range(world)]
    dist.all_gather(gathered, state)
    return gathered


@contextmanager
def _stop_requests() -> Iterator[Any]:
    """Turn the first Ctrl-C / SIGTERM into a request to stop after the current step.

    The step finishes, the checkpoint is written, and the run ends; a second Ctrl-C
    interrupts at once.
    """

    class Stop:
        requested = False

    stop = Stop()
    previous: dict[int, Any] = {}

    def request(signum: int, frame: Any) -> None:
        if stop.requested:
            raise KeyboardInterrupt
        stop.requested = True

    try:
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, request)
    except ValueError:  # not the main thread: signals cannot be caught here
        pass
    try:
        yield stop
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
