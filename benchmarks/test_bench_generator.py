"""Generator forward (rendering, no gradients): torch fp32, the fast path, ONNX Runtime."""

from __future__ import annotations

import onnxruntime
import pytest
import torch
from bench_support import PATHS, prepare

from inpaint_toolkit.core import runtime
from inpaint_toolkit.core.checkpoint import model_record
from inpaint_toolkit.export.onnx_export import export_generator
from inpaint_toolkit.export.onnx_runtime import CUDA_PROVIDER, OnnxGenerator
from inpaint_toolkit.plugins.dcgan import DCGANGenerator, DCGANOptions


@pytest.fixture(scope="session")
def onnx_file(tmp_path_factory):
    torch.manual_seed(0)
    model = DCGANGenerator(DCGANOptions()).eval()
    path = tmp_path_factory.mktemp("onnx") / "dcgan64.onnx"
    export_generator(model, path, metadata={"generator": model_record("dcgan", model)})
    return path


@pytest.mark.parametrize("batch", [1, 64])
@pytest.mark.parametrize("path", ["fp32", "fast", "onnx"])
def test_generator_forward(path, batch, device, generator, onnx_file, measure):
    z = generator.sample_z(batch, generator=torch.Generator().manual_seed(0), device=device)
    if path == "onnx":
        if device.type == "cuda" and CUDA_PROVIDER not in onnxruntime.get_available_providers():
            pytest.skip("this onnxruntime build has no CUDA provider (onnxruntime-gpu)")
        # As many CPU threads as torch takes, so the comparison is like for like.
        onnx_generator = OnnxGenerator(onnx_file, device.type, threads=torch.get_num_threads())
        assert onnx_generator.provider.startswith(device.type.upper())  # no silent fallback

        def forward():
            return onnx_generator(z)
    else:
        model = prepare(generator, device, path).eval()
        precision = PATHS[path]

        def forward():
            with torch.no_grad(), runtime.autocast(device, precision):
                return model(z).float()

    measure(
        forward, case=f"generator forward, batch {batch}", path=path, items=batch, unit="image/s"
    )
