"""ONNX export of the generator: parity with torch, dynamic batch, metadata, errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from inpaint_toolkit.core.checkpoint import model_record
from inpaint_toolkit.core.errors import InpaintError
from inpaint_toolkit.core.interfaces import Generator
from inpaint_toolkit.export.onnx_export import PARITY_TOLERANCE, export_generator
from inpaint_toolkit.export.onnx_runtime import OnnxGenerator, read_onnx_metadata
from inpaint_toolkit.plugins.dcgan import DCGANGenerator, DCGANOptions

TRAINING_METADATA = {"step": 1234, "epoch": 2.5, "train_config": {"data": ["faces.npz"], "seed": 7}}


@pytest.fixture(scope="module")
def generator() -> DCGANGenerator:
    # conftest's tiny generator, built once here: exporting takes seconds, so once a module.
    torch.manual_seed(0)
    return DCGANGenerator(DCGANOptions(image_size=32, z_dim=16, widths=(32, 16, 8))).eval()


@pytest.fixture(scope="module")
def exported(generator, tmp_path_factory):
    path = tmp_path_factory.mktemp("onnx") / "generator.onnx"
    metadata = {"generator": model_record("dcgan", generator), **TRAINING_METADATA}
    return export_generator(generator, path, metadata=metadata)


def test_export_matches_torch_at_several_batch_sizes(exported, generator):
    assert exported.path.is_file()
    assert exported.passed and exported.max_abs_difference <= PARITY_TOLERANCE
    assert exported.batch_sizes == (1, 5)
    onnx_generator = OnnxGenerator(exported.path, device="cpu")
    for batch in (1, 3, 8):
        z = generator.sample_z(batch, generator=torch.Generator().manual_seed(batch))
        with torch.no_grad():
            expected = generator(z)
        got = onnx_generator(z)
        assert got.shape == (batch, 3, 32, 32)
        assert (got - expected).abs().max().item() <= PARITY_TOLERANCE


def test_batch_axis_is_dynamic_in_the_graph(exported):
    graph = onnx.load(str(exported.path)).graph
    (z,) = graph.input
    (images,) = graph.output
    assert z.name == "z" and images.name == "images"
    z_dims = [d.dim_param or d.dim_value for d in z.type.tensor_type.shape.dim]
    image_dims = [d.dim_param or d.dim_value for d in images.type.tensor_type.shape.dim]
    assert isinstance(z_dims[0], str) and z_dims[1:] == [16]
    assert image_dims == [z_dims[0], 3, 32, 32]


def test_metadata_is_stored_in_metadata_props(exported, generator):
    props = {p.key: json.loads(p.value) for p in onnx.load(str(exported.path)).metadata_props}
    assert props["z_dim"] == 16 and props["image_size"] == 32
    assert props["z_range"] == [-1.0, 1.0]
    assert props["generator"] == model_record("dcgan", generator)
    assert props["provenance"] == {"step": 1234, "epoch": 2.5, "data": ["faces.npz"], "seed": 7}
    assert read_onnx_metadata(exported.path) == props == exported.metadata


def test_export_leaves_the_callers_module_alone(generator, tmp_path):
    generator.train()
    try:
        export_generator(
            generator, tmp_path / "g.onnx", metadata={"generator": model_record("dcgan", generator)}
        )
        assert generator.training
    finally:
        generator.eval()


def test_cpu_provider_and_generator_protocol(exported, generator):
    onnx_generator = OnnxGenerator(exported.path, device="cpu")
    assert onnx_generator.provider == "CPUExecutionProvider"
    assert isinstance(onnx_generator, Generator)
    assert (onnx_generator.z_dim, onnx_generator.image_size) == (16, 32)
    assert onnx_generator.z_range == (-1.0, 1.0)
    # The same seed draws the same codes as the torch generator.
    z = onnx_generator.sample_z(4, generator=torch.Generator().manual_seed(5))
    assert torch.equal(z, generator.sample_z(4, generator=torch.Generator().manual_seed(5)))
    assert onnx_generator(z.numpy()).shape == (4, 3, 32, 32)


def test_onnx_generator_refuses_gradients_and_wrong_shapes(exported):
    onnx_generator = OnnxGenerator(exported.path, device="cpu")
    with pytest.raises(InpaintError, match="no gradients"):
        onnx_generator(torch.zeros(2, 16, requires_grad=True))
    with pytest.raises(InpaintError, match=r"z must be \(batch, 16\)"):
        onnx_generator(np.zeros((2, 15), dtype=np.float32))


def test_unreadable_and_missing_files_are_one_line_errors(tmp_path):
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"this is not a protobuf \x00\xff")
    with pytest.raises(InpaintError, match="not a readable ONNX model") as error:
        OnnxGenerator(garbage)
    assert "\n" not in str(error.value)
    with pytest.raises(InpaintError, match="no such ONNX file"):
        OnnxGenerator(tmp_path / "missing.onnx")


def test_an_onnx_file_without_our_metadata_is_refused(tmp_path):
    node = onnx.helper.make_node("Identity", ["z"], ["images"])
    tensor = onnx.helper.make_tensor_value_info("z", onnx.TensorProto.FLOAT, [None, 4])
    out = onnx.helper.make_tensor_value_info("images", onnx.TensorProto.FLOAT, [None, 4])
    graph = onnx.helper.make_graph([node], "g", [tensor], [out])
    model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", 20)])
    model.ir_version = 10
    onnx.save_model(model, tmp_path / "foreign.onnx")
    with pytest.raises(InpaintError, match="not a generator exported by inpaint-toolkit"):
        OnnxGenerator(tmp_path / "foreign.onnx")


class NoisyGenerator(DCGANGenerator):
    """Adds fresh noise at every call: onnxruntime cannot reproduce torch's draws."""

    def forward(self, z):
        images = super().forward(z)
        return images + 0.1 * torch.rand_like(images)


def test_a_mismatch_is_an_error_and_writes_nothing(tmp_path):
    noisy = NoisyGenerator(DCGANOptions(image_size=32, z_dim=8, widths=(8, 4))).eval()
    path = tmp_path / "noisy.onnx"
    with pytest.raises(InpaintError, match="does not match torch"):
        export_generator(noisy, path, metadata={"generator": model_record("dcgan", noisy)})
    assert list(tmp_path.iterdir()) == []


def test_metadata_without_a_generator_record_is_an_error(generator, tmp_path: Path):
    with pytest.raises(InpaintError, match="names no generator"):
        export_generator(generator, tmp_path / "g.onnx", metadata={"step": 3})
