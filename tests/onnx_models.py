"""Small hand-built ONNX models (``onnx.helper``) for the ONNX workload tests."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17


def model(nodes: Sequence[Any], inputs: Mapping[str, Any], outputs: Sequence[str],
          initializers: Mapping[str, np.ndarray] | None = None, opset: int = OPSET, name: str = "test",
          domains: Sequence[str] = ()) -> bytes:
    """Serialized model: ``inputs`` maps a name to its dims (ints or symbolic strings) or None (no shape)."""
    ins = [helper.make_tensor_value_info(n, TensorProto.FLOAT, dims) if dims is not None else
           helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n, dims in inputs.items()]
    outs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in outputs]
    inits = [numpy_helper.from_array(np.asarray(v), k) for k, v in (initializers or {}).items()]
    graph = helper.make_graph(list(nodes), name, ins, outs, initializer=inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]
                          + [helper.make_opsetid(d, 1) for d in domains])
    m.ir_version = 8
    return m.SerializeToString()


def weights(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def conv_model(x: Sequence[Any], w: Sequence[int], seed: int = 0, **attrs: Any) -> bytes:
    """One Conv (weight ``w``) on input ``x``."""
    node = helper.make_node("Conv", ["x", "W"], ["y"], name="conv", **attrs)
    return model([node], {"x": list(x)}, ["y"], {"W": weights(*w, seed=seed)})


def small_cnn(batch: Any = 1, seed: int = 0) -> bytes:
    """conv -> relu -> maxpool -> two branches (conv, conv) -> concat -> conv -> add (residual with
    the concat) -> global pool -> flatten -> gemm -> softmax: every lowering rule once."""
    nodes = [
        helper.make_node("Conv", ["x", "W1", "B1"], ["c1"], name="conv1", pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "W2"], ["a"], name="branch_a", pads=[1, 1, 1, 1]),
        helper.make_node("Conv", ["p1", "W3"], ["b"], name="branch_b"),
        helper.make_node("Concat", ["a", "b"], ["cat"], name="cat", axis=1),
        helper.make_node("Conv", ["cat", "W4"], ["c4"], name="mix"),
        helper.make_node("Add", ["c4", "cat"], ["res"], name="residual"),
        helper.make_node("GlobalAveragePool", ["res"], ["gp"], name="gap"),
        helper.make_node("Flatten", ["gp"], ["flat"], name="flatten", axis=1),
        helper.make_node("Gemm", ["flat", "Wfc", "Bfc"], ["logits"], name="fc", transB=1),
        helper.make_node("Softmax", ["logits"], ["prob"], name="softmax", axis=1),
    ]
    inits = {"W1": weights(8, 3, 3, 3, seed=seed), "B1": weights(8, seed=seed), "W2": weights(4, 8, 3, 3, seed=seed),
             "W3": weights(4, 8, 1, 1, seed=seed), "W4": weights(8, 8, 1, 1, seed=seed),
             "Wfc": weights(10, 8, seed=seed), "Bfc": weights(10, seed=seed)}
    return model(nodes, {"x": [batch, 3, 16, 16]}, ["prob"], inits)


def write(path: Any, data: bytes) -> str:
    with open(path, "wb") as f:
        f.write(data)
    return str(path)


def load(data: bytes) -> onnx.ModelProto:
    return onnx.load_model_from_string(data)
