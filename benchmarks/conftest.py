"""Shared pieces of the speed benchmarks (pytest-benchmark; not part of the test run).

Every benchmark runs once per ``device``: the CPU, and CUDA where torch sees a GPU (a
skip says so where not). A measured call ends with ``torch.cuda.synchronize`` on CUDA, so
the time is that of the work and not of queuing it. :func:`measure` also records, in
``benchmark.extra_info``, what ``benchmarks/report.py`` needs: the case, the path (``fp32``,
``fast`` = the runtime module's bf16 autocast + channels_last, ``onnx``), and a rate
(images or image-iterations per second, from the median round).

The models are the real 64x64 DCGAN with random weights: speed does not depend on what
the weights learnt.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
import torch
from bench_support import PATHS

from inpaint_toolkit.core import runtime
from inpaint_toolkit.plugins.dcgan import (
    DCGANDiscriminator,
    DCGANDiscriminatorOptions,
    DCGANGenerator,
    DCGANOptions,
)


def pytest_benchmark_update_machine_info(config: Any, machine_info: dict[str, Any]) -> None:
    import onnxruntime

    machine_info["torch"] = torch.__version__
    machine_info["torch_threads"] = torch.get_num_threads()
    machine_info["omp_num_threads"] = os.environ.get("OMP_NUM_THREADS")
    machine_info["onnxruntime"] = onnxruntime.__version__
    machine_info["cpu_fast_bf16"] = runtime.cpu_has_fast_bf16()
    if torch.cuda.is_available():
        machine_info["cuda_device"] = torch.cuda.get_device_name()


@pytest.fixture(params=["cpu", "cuda"])
def device(request: pytest.FixtureRequest) -> torch.device:
    if request.param == "cuda" and not torch.cuda.is_available():
        pytest.skip("no CUDA GPU on this machine")
    return torch.device(request.param)


@pytest.fixture
def generator(device: torch.device) -> DCGANGenerator:
    torch.manual_seed(0)
    return DCGANGenerator(DCGANOptions()).to(device)


@pytest.fixture
def discriminator(device: torch.device) -> DCGANDiscriminator:
    torch.manual_seed(1)
    return DCGANDiscriminator(DCGANDiscriminatorOptions()).to(device)


@pytest.fixture
def measure(benchmark: Any, device: torch.device) -> Callable[..., None]:
    """``measure(fn, case=..., path=..., items=..., unit=...)`` times ``fn``.

    ``items`` is how many units one call does (images, or images x iterations); ``rounds``
    fixes the number of rounds for calls too long to repeat freely.
    """

    def run(
        fn: Callable[[], Any],
        *,
        case: str,
        path: str,
        items: float,
        unit: str,
        rounds: int | None = None,
    ) -> None:
        def synchronised() -> Any:
            result = fn()
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            return result

        benchmark.group = f"{case} [{device.type}]"
        if rounds is None:
            synchronised()  # warm-up: oneDNN / cuDNN pick their kernels on the first call
            benchmark(synchronised)
        else:
            benchmark.pedantic(synchronised, rounds=rounds, iterations=1, warmup_rounds=0)
        median = benchmark.stats.stats.median
        benchmark.extra_info.update(
            case=case,
            path=path,
            device=device.type,
            unit=unit,
            items=items,
            rate=items / median,
            precision=PATHS.get(path, "fp32"),
        )

    return run
