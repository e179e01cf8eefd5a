"""Several processes under ``torchrun``: joining them, dealing out work, gathering results.

Without torchrun (``WORLD_SIZE`` unset or 1) every helper is a no-op, so the code that
uses them reads as single-process code. Under torchrun the processes talk through gloo
for CPU tensors and NCCL for CUDA ones; every exchange here goes through the CPU.

``sharded(items, work)`` is how ``run`` and ``eval`` scale out: the items are dealt
round-robin, one per process per round, each process does its own, and rank 0 gets every
result in the items' order, one round at a time (so it holds at most one per process).
Work that depends only on its item (the seed of a batch is derived from its index) then
gives exactly what one process would.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import torch
import torch.distributed as dist

Item = TypeVar("Item")
Result = TypeVar("Result")
_JOINED_HERE: list[bool] = []  # whether init() made the process group (so finish() ends it)


def init() -> tuple[int, int]:
    """``(rank, world size)``, joining torchrun's process group on first call."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return 0, 1
    if not dist.is_initialized():
        if torch.cuda.is_available():  # "cuda" then means this process's own GPU
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group("cpu:gloo,cuda:nccl" if torch.cuda.is_available() else "gloo")
        _JOINED_HERE.append(True)
    return dist.get_rank(), world


def finish() -> None:
    """Wait for every process, then leave the group if ``init`` joined it."""
    if _JOINED_HERE and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
        _JOINED_HERE.clear()


def device_for(device: torch.device) -> torch.device:
    """Under torchrun, each process on a node takes its own GPU."""
    if device.type == "cuda" and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return device


def sharded(items: Sequence[Item], work: Callable[[Item], Result]) -> Iterator[Result]:
    """``work(item)`` for every item, each done by one process; on rank 0 the results in
    the items' order, on the others nothing. One process: a plain, lazy ``map``."""
    rank, world = init()
    if world == 1:
        yield from map(work, items)
        return
    for start in range(0, len(items), world):
        mine = work(items[start + rank]) if start + rank < len(items) else None
        results = gather(mine)
        yield from results[: len(items) - start]


def gather(value: Any) -> list[Any]:
    """Every process's ``value``, in rank order, on rank 0; ``[]`` on the others. Tensors
    arrive on rank 0's CPU."""
    rank, world = init()
    if world == 1:
        return [value]
    parts = _exchange(_pack(value), to_all=False)
    return [_unpack(part) for part in parts] if rank == 0 else []


def from_rank_zero(value: Any) -> Any:
    """Rank 0's ``value`` on every process (a folder name with the time in it, say)."""
    rank, world = init()
    if world == 1:
        return value
    return _unpack(_exchange(_pack(value), to_all=True)[0])


def _pack(value: Any) -> torch.Tensor:
    buffer = io.BytesIO()
    torch.save(value, buffer)
    return torch.frombuffer(bytearray(buffer.getvalue()), dtype=torch.uint8)


def _unpack(data: torch.Tensor) -> Any:
    # Written by torch.save in a process of this same job: trusted, unlike user files.
    return torch.load(io.BytesIO(data.numpy().tobytes()), map_location="cpu", weights_only=False)


def _exchange(payload: torch.Tensor, *, to_all: bool) -> list[torch.Tensor]:
    """Every rank's bytes (padded to the longest, then cut back) on rank 0, or on all."""
    rank, world = dist.get_rank(), dist.get_world_size()
    sizes = [torch.zeros(1, dtype=torch.int64) for _ in range(world)]
    dist.all_gather(sizes, torch.tensor([payload.numel()]))
    longest = max(int(size) for size in sizes)
    padded = torch.zeros(longest, dtype=torch.uint8)
    padded[: payload.numel()] = payload
    received = [torch.empty(longest, dtype=torch.uint8) for _ in range(world)]
    if to_all:
        dist.all_gather(received, padded)
    else:
        dist.gather(padded, received if rank == 0 else None, dst=0)
    return [part[: int(size)] for part, size in zip(received, sizes, strict=True)]
