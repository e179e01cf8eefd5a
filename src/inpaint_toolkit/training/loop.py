"""GAN training: the non-saturating objective, plain torch, top to bottom.

Runs as is on one CPU or GPU, and under ``torchrun`` on several processes
(DistributedDataParallel; each rank takes its own slice of every epoch's shuffle; only
rank 0 writes files). Everything a resumed run needs goes into one safetensors checkpoint
(``state.py``), written atomically every ``checkpoint_every`` steps, at each epoch's end,
and when the run is interrupted (Ctrl-C, SIGTERM, time limit). The data order of an epoch
is a pure function of (seed, epoch), and every random draw comes from one saved RNG, so a
resumed run continues bit for bit where the stopped one left off.

The recipe (docs/model.md says why each default): a moving average of G's weights
(``ema.py``) and a light R1 penalty; as options, differentiable augmentation of all D sees
(``augment.py``) and separate learning rates. Models that change during training (the progressive
pair grows) implement ``GrowingModel`` and are told the progress before every step; the
loop knows nothing else about them.
"""

from __future__ import annotations

import math
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm import tqdm

from inpaint_toolkit.core import distributed, runtime
from inpaint_toolkit.core.errors import InpaintError
from inpaint_toolkit.core.images import to_tensor
from inpaint_toolkit.core.interfaces import GrowingModel, TrainingRecipe
from inpaint_toolkit.data.faces import load_faces, open_faces
from inpaint_toolkit.registry import Registry, get_registry
from inpaint_toolkit.training import ema
from inpaint_toolkit.training.augment import augmenter, parse_policy
from inpaint_toolkit.training.config import TrainConfig
from inpaint_toolkit.training.run_files import RunFiles, sample_grid
from inpaint_toolkit.training.state import (
    TrainingState,
    diverged,
    initialise_from,
    non_finite,
    restore_training_state,
    save_training_state,
)

CHECKPOINT_NAME = "checkpoint.safetensors"
SAMPLE_COUNT = 64
R1_EVERY = 16  # the penalty is applied lazily (Karras et al. 2020), scaled to match
SCORE_SEED = 2024  # the fixed codes the per-epoch scores are drawn from

Augment = Callable[[Tensor], Tensor]


@dataclass
class TrainResult:
    checkpoint: Path
    step: int
    epoch: int
    finished: bool  # False when stopped early (interrupt or time limit); --resume continues


def train(
    config: TrainConfig, *, registry: Registry | None = None, progress: bool = True
) -> TrainResult:
    """Train per ``config``; models are built by name from ``registry`` (default: the
    installed plugins)."""
    registry = registry or get_registry()
    rank, world = distributed.init()
    device = distributed.device_for(runtime.resolve_device(config.device))
    precision = runtime.resolve_precision(config.precision, device)
    memory_format = runtime.memory_format(device, precision)
    if device.type == "cuda":
        # Every step has the same shapes, so cuDNN's timed choice of kernels pays at once.
        torch.backends.cudnn.benchmark = True
    out = Path(config.out)
    checkpoint_path = out / CHECKPOINT_NAME
    policy = parse_policy(config.augment)

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
    config = with_model_defaults(config, g, d)
    opt_g = torch.optim.Adam(g.parameters(), **config.adam_settings("g"))
    opt_d = torch.optim.Adam(d.parameters(), **config.adam_settings("d"))
    noise = torch.Generator().manual_seed(config.seed * 7919 + rank)  # every random draw
    g_ema = ema.make_average(g) if config.ema > 0 else None
    state = TrainingState(g, d, opt_g, opt_d, noise, g_ema)
    step = 0

    if config.resume:
        if not checkpoint_path.exists():
            raise InpaintError(f"--resume: no checkpoint at {checkpoint_path}")
        step = restore_training_state(checkpoint_path, state, config, rank)
    elif checkpoint_path.exists():  # every rank sees it, so every rank stops
        raise InpaintError(
            f"{checkpoint_path} exists; pass --resume to continue it or choose another --out"
        )
    elif config.init:
        initialise_from(config.init, state)

    faces = open_faces(config.data, config.image_size)
    steps_per_epoch = len(faces) // world // config.batch_size
    if steps_per_epoch == 0:
        raise InpaintError(
            f"{len(faces)} images are fewer than one batch of {config.batch_size} per process"
        )
    total_steps = steps_per_epoch * config.epochs
    held_out = (
        to_tensor(load_faces(config.eval_data, config.image_size, split="test").images)
        if config.eval_data and rank == 0
        else None
    )
    if held_out is not None:  # a judge that cannot run should stop the run now, not at epoch 1
        from inpaint_toolkit.evaluation.judge import FaceJudge

        FaceJudge()
    sampled = g_ema if g_ema is not None else g  # what is sampled, scored and shipped
    fixed_z = g.sample_z(SAMPLE_COUNT, generator=torch.Generator().manual_seed(1234), device=device)
    augment = _augment_with(policy, noise)

    if world > 1:
        # A growing model's not-yet-grown blocks get no gradient: DDP must expect that.
        g_train: nn.Module = nn.parallel.DistributedDataParallel(
            g, find_unused_parameters=isinstance(g, GrowingModel)
        )
        d_train: nn.Module = nn.parallel.DistributedDataParallel(
            d, find_unused_parameters=isinstance(d, GrowingModel)
        )
    else:
        g_train, d_train = g, d

    files = RunFiles(out, enabled=rank == 0, resume_step=step if config.resume else None)
    saved_step = step if config.resume else None  # the last good checkpoint's
    if rank == 0:
        files.note(
            f"{len(faces)} images ({faces.skipped} unreadable skipped), {steps_per_epoch} steps "
            f"per epoch, {world} process(es), {device.type} {precision}, "
            f"lr G {opt_g.defaults['lr']} D {opt_d.defaults['lr']}, "
            f"betas {opt_g.defaults['betas']}, "
            f"ema {config.ema or 'off'}, augment {','.join(policy) or 'off'}, r1 {config.r1}"
        )

    def use_sampled() -> None:
        """Ready the sampled generator for use: statistics for its averaged weights."""
        if g_ema is not None:
            ema.recalibrate(g_ema)
        else:
            g.eval()

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
    stopped_early = False
    with _stop_requests() as stop:
        while step < total_steps:
            epoch, index = divmod(step, steps_per_epoch)
            order = torch.randperm(
                len(faces), generator=torch.Generator().manual_seed(config.seed * 100_003 + epoch)
            )[rank::world]
            batch_ids = order[index * config.batch_size : (index + 1) * config.batch_size]
            real = _flip(to_tensor(faces.take(batch_ids.numpy())), config.flip, noise)
            real = runtime.to_device(real, device).contiguous(memory_format=memory_format)
            z = g.sample_z(config.batch_size, generator=noise, device=device)
            for model in (g, d, g_ema):
                if isinstance(model, GrowingModel):
                    model.set_training_progress(step / total_steps)
            g_train.train()
            d_train.train()
            started = time.perf_counter()

            r1 = r1_weight(config.r1, step)
            d_real, d_fake, loss_d, loss_g = train_step(
                g_train, d_train, opt_g, opt_d, real, z, device, precision, augment=augment, r1=r1
            )
            if g_ema is not None:
                ema.update_average(g_ema, g, config.ema)
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
            files.log(record)
            if _agree(not math.isfinite(record["loss_d"] + record["loss_g"]), world):
                files.flush()  # the losses that led here, for the post-mortem
                losses = f"loss_d {record['loss_d']}, loss_g {record['loss_g']}"
                raise diverged(step, saved_step, losses)
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
            saving = epoch_done or stopped_early or step % config.checkpoint_every == 0
            if (epoch_done or saving) and rank == 0:
                use_sampled()
            if epoch_done and rank == 0:
                files.samples(sample_grid(sampled, fixed_z), epoch + 1)
                scored = (epoch + 1) % config.score_every == 0 or step == total_steps
                if held_out is not None and scored:
                    _score(sampled, held_out, files, step, epoch + 1, bar)
            if saving:
                if broken := non_finite(state):  # finite losses, yet the step made NaNs
                    raise diverged(step, saved_step, f"NaN or infinity in {broken[0]}")
                rng_states = _gather_rng(noise, world)
                if rank == 0:
                    files.flush()
                    save_training_state(
                        checkpoint_path,
                        state,
                        config,
                        step=step,
                        steps_per_epoch=steps_per_epoch,
                        rng_states=rng_states,
                    )
                saved_step = step
            if stopped_early:
                reason = "time limit reached" if timed_out else "interrupted"
                bar.write(f"{reason}: checkpoint saved at step {step}; continue with --resume")
                break
    bar.close()
    files.plot()
    files.close()
    distributed.finish()
    return TrainResult(checkpoint_path, step, step // steps_per_epoch, not stopped_early)


def with_model_defaults(config: TrainConfig, g: nn.Module, d: nn.Module) -> TrainConfig:
    """``config`` with the models' own ``training_defaults`` (``TrainingRecipe``) for the
    settings the user left unset; G's word wins where the two differ."""
    wanted: dict[str, Any] = {}
    for model in (d, g):
        if isinstance(model, TrainingRecipe):
            wanted.update(model.training_defaults)
    unset = {key: value for key, value in wanted.items() if key not in config.model_fields_set}
    return config.model_copy(update=unset) if unset else config


def r1_weight(gamma: float, step: int) -> float:
    """Lazy R1: the whole interval's penalty on every ``R1_EVERY``-th step, none between."""
    return gamma * R1_EVERY if gamma and step % R1_EVERY == 0 else 0.0


def train_step(
    g: nn.Module,
    d: nn.Module,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    real: Tensor,
    z: Tensor,
    device: torch.device,
    precision: str,
    *,
    augment: Augment | None = None,
    r1: float = 0.0,
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """One D update, then one G update; returns D's logits on real and fake, and the losses.

    ``augment`` is applied to everything D sees, real and fake, in both updates; ``r1``
    is the weight of the gradient penalty on reals this step (0: none).
    """
    seen = augment or (lambda images: images)
    # Discriminator: real -> 1, fake -> 0. softplus(-x) is -log sigmoid(x), stably.
    if r1:
        real = real.detach().requires_grad_(True)
    with runtime.autocast(device, precision):
        fake = g(z)
        d_real = d(seen(real)).float()
        d_fake = d(seen(fake.detach())).float()
        loss_d = F.softplus(-d_real).mean() + F.softplus(d_fake).mean()
    if r1:
        (gradient,) = torch.autograd.grad(d_real.sum(), real, create_graph=True)
        loss_d = loss_d + r1 / 2 * gradient.float().square().sum(dim=(1, 2, 3)).mean()
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    opt_d.step()

    # Generator, non-saturating: maximise log D(G(z)) rather than minimise log(1 - D).
    with runtime.autocast(device, precision):
        loss_g = F.softplus(-d(seen(fake)).float()).mean()
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    return d_real.detach(), d_fake.detach(), loss_d.detach(), loss_g.detach()


def _augment_with(policy: list[str], noise: torch.Generator) -> Augment | None:
    apply = augmenter(policy)
    if apply is None:
        return None
    return lambda images: apply(images, noise)


def _flip(images: Tensor, flip: bool, noise: torch.Generator) -> Tensor:
    if flip:
        flips = torch.rand(len(images), generator=noise) < 0.5
        images[flips] = images[flips].flip(-1)
    return images


def _score(
    g: nn.Module, held_out: Tensor, files: RunFiles, step: int, epoch: int, bar: tqdm
) -> None:
    from inpaint_toolkit.evaluation.prior_score import score_generator

    score = score_generator(g, held_out, seed=SCORE_SEED)
    files.log_scores({"step": step, "epoch": epoch, **score.as_record()})
    bar.write(
        f"epoch {epoch}: SWD {score.swd:.2f}, judge faces {score.judge_faces:.1%} "
        f"eyes {score.judge_eyes:.1%} ({score.samples} samples)"
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
