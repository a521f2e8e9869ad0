"""Per-token int8 for an exported fp32 ONNX graph: the int8 recipe of the mpnet default.

Every MatMul with a constant 2-D weight becomes ONNX Runtime's integer GEMM (``MatMulInteger``,
uint8 activations x int8 weights) between a run-time quantization of its input and a rescale of
its output:

- weights: symmetric int8, one scale per output column, computed once here;
- activations: symmetric int8, one scale per *token* (per row: max |x| / 127), computed at run time
  with plain ONNX ops (Abs, ReduceMax, Div, QuantizeLinear), stored as uint8 around zero point 128.

ONNX Runtime's own ``quantize_dynamic`` uses one activation scale per call: outlier tokens (and the
padding of batch-mates) blurred every other token, 1.3-1.7% of mpnet's labels changed and a
sentence's answer depended on its batch. ``MatMulNBits`` (blockwise weights, per-row-and-block
activations) changed fewer labels but ran 1.6x slower on this CPU. One scale per token keeps each
token's precision to itself, so answers do not depend on the batch, and runs on the fast int8 GEMM;
reports/quantization.md has the measures. A MatMul reading an input already quantized (attention's
query, key and value projections) reuses it.

On x86 CPUs without AVX-512 VNNI or AVX-VNNI, ONNX Runtime's uint8 x int8 kernel can saturate 16-bit
sums; the probe check in int8.build then refuses the copy and torch predicts.
"""

from __future__ import annotations

from typing import Any

import numpy as np

ZERO_POINT = 128  # uint8 activations: q = round(x / scale) + 128, with |round(x / scale)| <= 127


def quantize_per_token(model: Any, bits: int = 8) -> tuple[Any, int]:
    """Rewrite `model` (an onnx.ModelProto, changed in place): returns it and the number of MatMuls quantized."""
    if not 2 <= bits <= 8:
        raise ValueError(f"bits is {bits!r}: per-token int8 weights take 2 to 8 bits")
    from onnx import TensorProto, helper, numpy_helper

    graph = model.graph
    weights = {i.name: i for i in graph.initializer}
    qmax = 2 ** (bits - 1) - 1
    consts = [numpy_helper.from_array(np.array(1.0, np.float32), "pt_one"),
              numpy_helper.from_array(np.array(ZERO_POINT, np.uint8), "pt_zero_point"),
              numpy_helper.from_array(np.array(1 / 127, np.float32), "pt_inv127"),
              numpy_helper.from_array(np.array(1e-8, np.float32), "pt_eps")]
    nodes: list[Any] = []
    quantized: dict[str, tuple[str, str]] = {}  # input name -> (uint8 tensor, its per-token scales)
    replaced: set[str] = set()  # weights already quantized
    count = 0
    for node in graph.node:
        w = weights.get(node.input[1]) if node.op_type == "MatMul" else None
        if w is None or len(w.dims) != 2:
            nodes.append(node)
            continue
        x, name = node.input[0], node.name or node.output[0]
        if x not in quantized:
            p = f"{name}/per_token"
            nodes += [
                helper.make_node("Abs", [x], [p + "/abs"], name=p + "/Abs"),
                helper.make_node("ReduceMax", [p + "/abs"], [p + "/max"], name=p + "/ReduceMax", axes=[-1], keepdims=1),
                helper.make_node("Mul", [p + "/max", "pt_inv127"], [p + "/scale0"], name=p + "/Scale"),
                helper.make_node("Max", [p + "/scale0", "pt_eps"], [p + "/scale"], name=p + "/Floor"),  # a zero row
                helper.make_node("Div", [x, p + "/scale"], [p + "/scaled"], name=p + "/Div"),
                helper.make_node("QuantizeLinear", [p + "/scaled", "pt_one", "pt_zero_point"], [p + "/q"],
                                 name=p + "/Quantize")]
            quantized[x] = (p + "/q", p + "/scale")
        q, scale = quantized[x]
        if w.name not in replaced:  # a weight shared by two MatMuls is quantized once
            fp32 = numpy_helper.to_array(w).astype(np.float32)
            column_scale = np.maximum(np.abs(fp32).max(axis=0), 1e-12) / qmax
            consts += [numpy_helper.from_array(np.clip(np.round(fp32 / column_scale), -qmax, qmax).astype(np.int8),
                                               w.name + "/int8"),
                       numpy_helper.from_array(column_scale.astype(np.float32), w.name + "/column_scale")]
            replaced.add(w.name)
        count += 1
        nodes += [
            helper.make_node("MatMulInteger", [q, w.name + "/int8", "pt_zero_point"], [name + "/int32"],
                             name=name + "/Integer"),
            helper.make_node("Cast", [name + "/int32"], [name + "/float"], name=name + "/Cast", to=TensorProto.FLOAT),
            helper.make_node("Mul", [name + "/float", scale], [name + "/token_scaled"], name=name + "/TokenScale"),
            helper.make_node("Mul", [name + "/token_scaled", w.name + "/column_scale"], [node.output[0]],
                             name=name + "/ColumnScale")]
    used = {name for n in nodes for name in n.input} | {o.name for o in graph.output}
    kept = [i for i in graph.initializer if i.name in used]  # an fp32 weight read elsewhere too stays
    del graph.initializer[:]
    graph.initializer.extend(kept + consts)
    del graph.node[:]
    graph.node.extend(nodes)
    return model, count
