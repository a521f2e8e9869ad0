"""Per-token int8 on a one-MatMul graph: close to fp32, one scale per token (so a token's output does not
depend on its batch-mates), weights shared by two MatMuls quantized once."""

import numpy as np
import pytest

from stance.models.per_token import quantize_per_token

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

RNG = np.random.default_rng(0)
W = (RNG.normal(size=(64, 48)) * 0.1).astype(np.float32)


def _graph(two_matmuls: bool = False) -> "onnx.ModelProto":
    nodes = [helper.make_node("MatMul", ["x", "W"], ["y"], name="mm")]
    outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)]
    if two_matmuls:
        nodes.append(helper.make_node("MatMul", ["x2", "W"], ["y2"], name="mm2"))
        outputs.append(helper.make_tensor_value_info("y2", TensorProto.FLOAT, None))
    inputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["b", "t", 64]) for n in ("x", "x2")[:len(nodes)]]
    graph = helper.make_graph(nodes, "g", inputs, outputs, [numpy_helper.from_array(W, "W")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _run(model: "onnx.ModelProto", **feed: np.ndarray) -> list[np.ndarray]:
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, feed)


def test_close_to_fp32_with_one_scale_per_token():
    model, count = quantize_per_token(_graph())
    ops = [n.op_type for n in model.graph.node]
    assert count == 1 and "MatMul" not in ops and ops.count("MatMulInteger") == 1
    assert {i.name for i in model.graph.initializer} >= {"W/int8", "W/column_scale"} and "W" not in {
        i.name for i in model.graph.initializer}
    x = RNG.normal(size=(2, 5, 64)).astype(np.float32)
    (y,) = _run(model, x=x)
    assert np.linalg.norm(y - x @ W) / np.linalg.norm(x @ W) < 0.02
    loud = x.copy()
    loud[1, 4] *= 1000  # an outlier token elsewhere in the batch leaves the other tokens' outputs alone
    (y_loud,) = _run(model, x=loud)
    assert np.allclose(y_loud[0], y[0]) and np.allclose(y_loud[1, :4], y[1, :4])
    assert np.linalg.norm(y_loud[1, 4] - loud[1, 4] @ W) / np.linalg.norm(loud[1, 4] @ W) < 0.02


def test_a_weight_read_twice_is_quantized_once():
    model, count = quantize_per_token(_graph(two_matmuls=True))
    names = [i.name for i in model.graph.initializer]
    assert count == 2 and names.count("W/int8") == 1 and "W" not in names
    x = RNG.normal(size=(1, 3, 64)).astype(np.float32)
    y, y2 = _run(model, x=x, x2=2 * x)
    assert np.allclose(2 * y, y2, rtol=1e-4, atol=1e-5)


def test_bits_are_checked():
    with pytest.raises(ValueError, match="bits is 9: per-token int8 weights take 2 to 8 bits"):
        quantize_per_token(_graph(), bits=9)
