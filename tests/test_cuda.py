"""The CUDA paths: training, the z-search with adaptation, sampling, and ONNX on a GPU.

Skipped where torch sees no GPU (CI has none); ``benchmarks/device/session.sh`` runs them on
a lent GPU machine. Each test does the same work on the CPU and on the GPU and compares, so
a tensor left on the wrong device or a precision slip shows up as a mismatch, not only as a
crash. The GPU computes convolutions in TF32 or bf16, so the comparisons allow for that.
"""

from __future__ import annotations

import pytest
import torch

from inpaint_toolkit.inpainting.inpaint import SearchOptions, inpaint
from inpaint_toolkit.inpainting.search import Objective, search
from inpaint_toolkit.models import load_models
from inpaint_toolkit.registry import get_registry
from inpaint_toolkit.training import CHECKPOINT_NAME, train
from inpaint_toolkit.training.augment import augmenter, parse_policy
from tiny_training import tiny_config, write_smooth_faces

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine"),
]


def centre_hole(batch: int, size: int) -> torch.Tensor:
    known = torch.ones(batch, 1, size, size)
    known[..., size // 4 : 3 * size // 4, size // 4 : 3 * size // 4] = 0
    return known


@pytest.mark.parametrize("name", ["dcgan", "progressive"])
def test_a_seed_gives_the_same_codes_on_every_device(name):
    g = get_registry().build("generator", name, {"image_size": 32})
    on_cpu = g.sample_z(5, generator=torch.Generator().manual_seed(7))
    on_gpu = g.sample_z(5, generator=torch.Generator().manual_seed(7), device="cuda")
    assert on_gpu.device.type == "cuda" and torch.equal(on_gpu.cpu(), on_cpu)


def test_augmentation_draws_the_same_on_every_device():
    images = torch.rand(16, 3, 32, 32, generator=torch.Generator().manual_seed(3)) * 2 - 1
    apply = augmenter(parse_policy("color,translation,cutout"))
    on_cpu = apply(images, torch.Generator().manual_seed(11))
    on_gpu = apply(images.cuda(), torch.Generator().manual_seed(11))
    assert on_gpu.device.type == "cuda"
    torch.testing.assert_close(on_gpu.cpu(), on_cpu, atol=1e-5, rtol=0)


def test_training_on_cuda_gives_a_model_the_cpu_loads_and_resumes(tmp_path):
    faces = write_smooth_faces(tmp_path / "faces.npz", 48)
    out = tmp_path / "run"
    first = train(
        tiny_config(faces, out, epochs=1, device="cuda", precision="bf16"), progress=False
    )
    assert first.finished and first.step == 6
    resumed = train(
        tiny_config(faces, out, epochs=2, device="cuda", precision="bf16", resume=True),
        progress=False,
    )
    assert resumed.finished and resumed.step == 12

    g_cpu, _, _ = load_models(out / CHECKPOINT_NAME)  # loads on the CPU
    g_gpu, _, _ = load_models(out / CHECKPOINT_NAME, device="cuda")
    z = g_cpu.sample_z(8, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        on_cpu = g_cpu(z)
        on_gpu = g_gpu(z.cuda()).cpu()
    assert torch.isfinite(on_cpu).all() and on_cpu.std() > 0.01  # finite, not one flat image
    torch.testing.assert_close(on_gpu, on_cpu, atol=2e-2, rtol=0)


def test_search_on_cuda_follows_the_cpu_search(tiny_generator, tiny_discriminator):
    with torch.no_grad():
        targets = tiny_generator(
            tiny_generator.sample_z(3, generator=torch.Generator().manual_seed(5))
        )
    known = centre_hole(3, 32)
    results = {}
    for device in ("cpu", "cuda"):
        results[device] = search(
            tiny_generator.to(device),
            (targets * known).to(device),
            known.to(device),
            Objective.parse("weighted_l1+prior"),
            get_registry().build("optimizer", "adam", {"lr": 0.03}),
            discriminator=tiny_discriminator.to(device),
            iterations=40,
            restarts=2,
            precision="fp32",
            progress=False,
        )
    cpu, gpu = results["cpu"], results["cuda"]
    assert gpu.z.device.type == "cuda" and gpu.z.abs().max() <= 1
    assert (gpu.history[-1] < gpu.history[0]).all()
    torch.testing.assert_close(gpu.history.cpu(), cpu.history, atol=5e-3, rtol=2e-2)
    torch.testing.assert_close(gpu.generated.cpu(), cpu.generated, atol=5e-2, rtol=0)


# bf16 makes the search hand channels_last models to the adaptation (a failure seen once)
@pytest.mark.parametrize("precision", ["auto", "bf16"])
def test_inpainting_on_cuda_with_the_defaults_keeps_every_known_pixel(precision):
    g_cpu, d_cpu, _ = load_models()
    with torch.no_grad():
        faces = g_cpu(g_cpu.sample_z(4, generator=torch.Generator().manual_seed(3)))
    known = centre_hole(4, 64)
    damaged = faces * known
    options = SearchOptions(precision=precision)  # the defaults: learned start, adaptation
    on_gpu = inpaint(*load_models(device="cuda")[:2], damaged, known, options, progress=False)
    on_cpu = inpaint(g_cpu, d_cpu, damaged, known, options, progress=False)

    repaired = on_gpu.blended[:, 0]
    assert repaired.device.type == "cpu" and on_gpu.adapt_steps > 0
    kept = known.expand_as(repaired) > 0.5
    assert torch.equal(repaired[kept], damaged[kept])
    hole = ~kept
    gpu_error = (repaired - faces).abs()[hole].mean()
    cpu_error = (on_cpu.blended[:, 0] - faces).abs()[hole].mean()
    assert gpu_error < 0.25  # the hole of a face G can make, filled close to it
    assert abs(gpu_error - cpu_error) < 0.05


def test_onnx_generator_on_cuda_matches_torch(tmp_path, tiny_generator):
    from inpaint_toolkit.core.checkpoint import model_record
    from inpaint_toolkit.export.onnx_export import PARITY_TOLERANCE, export_generator
    from inpaint_toolkit.export.onnx_runtime import CUDA_PROVIDER, OnnxGenerator

    metadata = {"generator": model_record("dcgan", tiny_generator)}
    exported = export_generator(tiny_generator, tmp_path / "g.onnx", metadata=metadata)
    z = tiny_generator.sample_z(16, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = tiny_generator(z)
    automatic = OnnxGenerator(exported.path, device="auto")  # CUDA where the build has it
    assert (automatic(z) - expected).abs().max() <= PARITY_TOLERANCE
    if automatic.provider != CUDA_PROVIDER:
        pytest.skip("this onnxruntime build has no CUDA provider (install onnxruntime-gpu)")
    on_gpu = OnnxGenerator(exported.path, device="cuda")
    assert on_gpu.provider == CUDA_PROVIDER
    assert (on_gpu(z) - expected).abs().max() <= 1e-2  # cuDNN may pick TF32 kernels
