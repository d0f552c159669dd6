"""Lower a read ONNX graph (:class:`.onnx_reader.OnnxGraph`) to archgym's layers and operator graph.

Pure Python on the reader's plain node list; imports no ``onnx``.  Rules
(the same conventions as the built-in workloads, so an exported network and
the built-in one of the same name agree):

**MAC operators become layers** (:class:`.layers.Layer`, SCALE-Sim's form,
batch 1, padding included) **and one graph operator each**:

* ``Conv`` (1-D or 2-D): input sizes include the pads (explicit or
  ``auto_pad``); ``group == C_in`` is depthwise (``kind="dwconv"``, the
  channel multiplier as ``num_filters``); other groups give one layer per
  group (``name[g3]``); a dilation ``d`` is lowered exactly, as TensorFlow's
  atrous convolution does, to the ``d x d`` phase sub-images, each an
  undilated convolution (``name[p0.1]``), so shapes and MACs are those of the
  real operator; a batch of ``N`` gives one layer per sample (``name[b1]``:
  SCALE-Sim has no batch).  Height and width must share one stride.
* ``Gemm``, ``MatMul``, ``Einsum`` (two operands, a contraction): GEMM layers
  ``(M, N, K)`` with the activation operand as the ifmap (``M`` its rows; a
  constant operand is the weight).  Leading batch dimensions of an operand
  multiplied by a 2-D weight fold into ``M``; batch dimensions both operands
  carry (attention's ``QK^T`` and ``AV`` per head) give one GEMM per batch
  element (``name[5]``).

**Everything else is memory traffic** (no layer; in the graph, the built-in
graphs' convention of one operation per output element, pooling one per
window element, reductions one per input element):

* views are zero-copy aliases, no operator: ``Reshape``, ``Flatten``,
  ``Squeeze``, ``Unsqueeze``, ``Identity``, ``Dropout``; ``Concat`` is a
  zero-copy concatenation (its consumers read every part), as in the
  built-in graphs;
* a unary element-wise operator (activations, ``BatchNormalization``, an
  ``Add``/``Mul``/... with a constant operand such as a bias) whose input is
  an operator's output read by nothing else is fused into that operator, as
  accelerators apply them on the output path (and as the built-in graphs
  omit them);
* every other supported operator (pooling, element-wise, normalization,
  softmax, transpose, slice, gather, pad, resize, reductions, ...) is one
  graph operator with zero weights.

Graph tensors: the graph inputs (``input``), each MAC operator's weight
(its constant multiplicand, e.g. ``Conv``'s ``W``; biases and batch-norm
parameters are folded away as in the built-in graphs; a weight larger than
the tile size is split into output-channel tiles, :class:`.graphs.GraphBuilder`),
and every operator output (``activation``).  An unsupported operator raises
one line naming it, or with ``unsupported="skip"`` is left out (its outputs
alias its first activation input) and listed in :attr:`.network.Network.skipped`.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from itertools import product
from typing import Sequence

from .layers import Layer
from .onnx_reader import OnnxGraph, OnnxModelError, OnnxNode

__all__ = ["UnsupportedOperatorError", "LoweredOp", "Lowered", "lower", "UNSUPPORTED_POLICIES", "SUPPORTED_OPS"]

UNSUPPORTED_POLICIES = ("error", "skip")

MAC_OPS = ("Conv", "Gemm", "MatMul", "Einsum")
VIEW_OPS = {"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Dropout"}
#: unary element-wise operators that fuse into their producer
UNARY_OPS = {"Relu", "LeakyRelu", "PRelu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Elu", "Selu",
             "Celu", "Gelu", "Erf", "Softplus", "Softsign", "Mish", "ThresholdedRelu", "BatchNormalization", "Abs",
             "Neg", "Sqrt", "Exp", "Log", "Reciprocal", "Floor", "Ceil", "Round", "Sign", "Cast", "Not"}
#: element-wise operators with two or more operands (fuse like unary ones when the other operands are constants)
BINARY_OPS = {"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean", "Where", "Equal", "Greater", "Less",
              "GreaterOrEqual", "LessOrEqual", "And", "Or", "Xor", "Mod", "BitShift"}
POOL_OPS = {"MaxPool", "AveragePool", "LpPool"}
GLOBAL_POOL_OPS = {"GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool"}
REDUCE_OPS = {"ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
              "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare", "ArgMax", "ArgMin"}
#: other data-movement or per-element operators: one graph operator, one operation per output element
OTHER_OPS = {"Softmax", "LogSoftmax", "Hardmax", "LayerNormalization", "InstanceNormalization", "GroupNormalization",
             "LpNormalization", "MeanVarianceNormalization", "LRN", "Transpose", "Slice", "Gather", "GatherElements",
             "GatherND", "Split", "Pad", "Resize", "Upsample", "DepthToSpace", "SpaceToDepth", "Expand", "Tile",
             "TopK", "CumSum", "Trilu", "ScatterElements", "ScatterND", "OneHot", "NonZero", "Range", "Shape",
             "Size", "ConstantOfShape", "IsNaN", "IsInf"}
SUPPORTED_OPS = frozenset(set(MAC_OPS) | VIEW_OPS | {"Concat"} | UNARY_OPS | BINARY_OPS | POOL_OPS | GLOBAL_POOL_OPS
                          | REDUCE_OPS | OTHER_OPS)


class UnsupportedOperatorError(OnnxModelError):
    """A node archgym cannot cost (one line naming the node and its operator type)."""


@dataclass(frozen=True)
class LoweredOp:
    """One graph operator, independent of the word size: reads ``inputs`` (graph inputs and other
    operators' outputs, views and concatenations resolved),
    writes ``outputs`` (value, elements), does ``macs`` operations; a MAC operator's weight has
    ``weight_elems`` elements and its single output is ``chw`` (split along ``c`` into weight tiles)."""

    name: str
    inputs: tuple[str, ...]
    outputs: tuple[tuple[str, int], ...]
    macs: int
    weight_elems: int = 0
    chw: tuple[int, int, int] | None = None


@dataclass(frozen=True)
class Lowered:
    """The lowering's result: layers with, per layer, the name of the graph operator computing
    it; graph inputs (value, elements); operators; the skipped nodes (``"name (OpType)"``)."""

    layers: tuple[Layer, ...]
    layer_ops: tuple[str, ...]
    inputs: tuple[tuple[str, int], ...]
    ops: tuple[LoweredOp, ...]
    skipped: tuple[str, ...]


def _numel(shape: Sequence[int]) -> int:
    return int(math.prod(shape))


class _Unsupported(Exception):
    """Internal: this node cannot be lowered (the reason completes the one-line message)."""


class _Lowering:
    def __init__(self, g: OnnxGraph, unsupported: str) -> None:
        if unsupported not in UNSUPPORTED_POLICIES:
            raise OnnxModelError(f"onnx_unsupported must be one of {', '.join(UNSUPPORTED_POLICIES)}, "
                                 f"got {unsupported!r}")
        self.g, self.policy = g, unsupported
        self.layers: list[Layer] = []
        self.layer_ops: list[str] = []
        self.ops: list[LoweredOp] = []
        self.aliases: dict[str, tuple[str, ...]] = {}
        self.produced: set[str] = set()  # values written by an operator (fusion targets)
        self.skipped: list[str] = []
        readers: dict[str, int] = {}
        for n in g.nodes:
            for t in dict.fromkeys(n.inputs):
                if t:
                    readers[t] = readers.get(t, 0) + 1
        for t in g.outputs:
            readers[t] = readers.get(t, 0) + 1
        self.readers = readers

    # -- helpers -------------------------------------------------------------------------------
    def where(self, node: OnnxNode) -> str:
        return f"{self.g.source}: node {node}"

    def shape(self, node: OnnxNode, tensor: str) -> tuple[int, ...]:
        s = self.g.shape(tensor)
        if s is None:
            raise OnnxModelError(f"{self.where(node)}: the shape of {tensor!r} is unknown after shape inference "
                                 "(give the graph inputs' shapes with --input-shape NAME=1x3x224x224)")
        return s

    def is_const(self, t: str) -> bool:
        return t in self.g.constants

    def acts(self, node: OnnxNode) -> list[str]:
        return [t for t in dict.fromkeys(node.inputs) if t and not self.is_const(t)]

    def emit(self, node: OnnxNode, macs: int, weight_elems: int = 0, chw: tuple[int, int, int] | None = None) -> None:
        outs = tuple((t, _numel(self.shape(node, t))) for t in node.outputs if t)
        ins = tuple(dict.fromkeys(p for t in self.acts(node) for p in self.aliases.get(t, (t,))))
        self.ops.append(LoweredOp(node.name, ins, outs, int(macs), int(weight_elems), chw))
        self.produced.update(t for t, _ in outs)

    def alias(self, tensor: str, sources: Sequence[str]) -> None:
        """``tensor`` is made of ``sources`` (resolved to operator outputs and graph inputs)."""
        self.aliases[tensor] = tuple(dict.fromkeys(p for s in sources for p in self.aliases.get(s, (s,))))

    def add_layer(self, node: OnnxNode, layer: Layer) -> None:
        self.layers.append(layer)
        self.layer_ops.append(node.name)

    # -- MAC operators ---------------------------------------------------------------------------
    def conv(self, node: OnnxNode) -> None:
        x, w = node.inputs[0], node.inputs[1]
        xs, ws, ys = self.shape(node, x), self.shape(node, w), self.shape(node, node.outputs[0])
        if len(xs) not in (3, 4):
            raise _Unsupported(f"a {len(xs) - 2}-D convolution (1-D and 2-D only)")
        if self.is_const(x) or not self.is_const(w):
            raise _Unsupported("a convolution whose filter is not a constant")
        spatial = xs[2:] if len(xs) == 4 else (1, xs[2])
        kern = tuple(ws[2:]) if len(ws) == 4 else (1, ws[2])
        one_d = len(xs) == 3
        a = node.attrs

        def pair(key: str, default: int) -> tuple[int, int]:
            v = list(a.get(key, [default] * (len(xs) - 2)))
            return (default, v[0]) if one_d else (v[0], v[1])

        strides, dil = pair("strides", 1), pair("dilations", 1)
        groups = int(a.get("group", 1))
        n, cin = xs[0], xs[1]
        cout = ws[0]
        out_sp = ys[2:] if len(ys) == 4 else (1, ys[2])
        pads = self._pads(node, spatial, kern, strides, dil, one_d)
        padded = [spatial[i] + pads[i][0] + pads[i][1] for i in range(2)]
        (ph, sh), (pw, sw) = (self._phases(padded[i], kern[i], strides[i], dil[i], out_sp[i]) for i in range(2))
        if sh != sw:  # one stride per layer: only a dimension with one output may differ (it reads k rows)
            if out_sp[0] == 1:
                ph, sh = [(kern[0], 1)], sw
            elif out_sp[1] == 1:
                pw, sw = [(kern[1], 1)], sh
            else:
                raise _Unsupported(f"strides {strides[0]}x{strides[1]} with dilations {dil[0]}x{dil[1]} differ "
                                   "between height and width (archgym's conv layers take one stride)")
        phases, stride = (ph, pw), sh
        depthwise = groups == cin and groups > 1 and cout % cin == 0
        per_in, per_out = cin // groups, cout // groups
        for b, grp in product(range(n), range(1 if depthwise else groups)):
            for (ih, oh), (iw, ow) in product(*phases):
                tags = ([f"b{b}"] if n > 1 else []) + ([f"g{grp}"] if groups > 1 and not depthwise else [])
                if len(ph) * len(pw) > 1:
                    tags.append(f"p{ph.index((ih, oh))}.{pw.index((iw, ow))}")
                name = node.name + (f"[{','.join(tags)}]" if tags else "")
                if depthwise:
                    lay = Layer(name, "dwconv", ih, iw, kern[0], kern[1], cin, cout // cin, stride, node.op_type)
                else:
                    lay = Layer(name, "conv", ih, iw, kern[0], kern[1], per_in, per_out, stride, node.op_type)
                self.add_layer(node, lay)
        macs = n * out_sp[0] * out_sp[1] * kern[0] * kern[1] * per_in * cout
        self.emit(node, macs, _numel(ws), (cout, out_sp[0], out_sp[1] * n))

    def _pads(self, node: OnnxNode, spatial: Sequence[int], kern: Sequence[int], strides: Sequence[int],
              dil: Sequence[int], one_d: bool) -> list[tuple[int, int]]:
        auto = str(node.attrs.get("auto_pad", "NOTSET"))
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            out = []
            for i in range(2):
                total = max((math.ceil(spatial[i] / strides[i]) - 1) * strides[i] + (kern[i] - 1) * dil[i] + 1
                            - spatial[i], 0)
                small, big = total // 2, total - total // 2
                out.append((small, big) if auto == "SAME_UPPER" else (big, small))
            return out
        if auto == "VALID":
            return [(0, 0), (0, 0)]
        p = list(node.attrs.get("pads", [0] * (2 if one_d else 4)))
        if one_d:
            return [(0, 0), (p[0], p[1])]
        return [(p[0], p[2]), (p[1], p[3])]

    @staticmethod
    def _phases(padded: int, k: int, s: int, d: int, out: int) -> tuple[list[tuple[int, int]], int]:
        """One dimension of a (dilated) convolution as undilated sub-convolutions: ``([(input size,
        outputs) per phase], stride)``.  Output ``o`` reads input ``o*s + i*d``; grouping outputs by
        ``o mod d/g`` (``g = gcd(s, d)``) leaves, on every ``d``-th input element, a ``k``-tap
        convolution of stride ``s/g``."""
        if d == 1:
            return [(padded, out)], s
        g = math.gcd(s, d)
        dp, sp = d // g, s // g
        phases = []
        for p in range(dp):
            n_p = len(range(p, out, dp))
            if n_p:
                phases.append(((n_p - 1) * sp + k, n_p))
        return phases, sp

    def _gemm_layers(self, node: OnnxNode, m: int, n: int, k: int, batch: int) -> None:
        for b in range(batch):
            name = node.name + (f"[{b}]" if batch > 1 else "")
            self.add_layer(node, Layer.gemm(name, m, n, k, node.op_type))

    def _gemm_op(self, node: OnnxNode, m: int, n: int, k: int, batch: int, weight: int) -> None:
        if min(m, n, k, batch) <= 0:
            raise _Unsupported(f"an empty product ({m}x{k} by {k}x{n})")
        self._gemm_layers(node, m, n, k, batch)
        self.emit(node, batch * m * n * k, weight, (n, batch * m, 1))

    def gemm(self, node: OnnxNode) -> None:
        a, b = node.inputs[0], node.inputs[1]
        sa, sb = self.shape(node, a), self.shape(node, b)
        if len(sa) != 2 or len(sb) != 2:
            raise _Unsupported("a Gemm whose operands are not matrices")
        m, k = (sa[1], sa[0]) if node.attrs.get("transA", 0) else sa
        n = sb[0] if node.attrs.get("transB", 0) else sb[1]
        self._matrix_product(node, a, b, [], [], m, n, k)

    def _matrix_product(self, node: OnnxNode, a: str, b: str, batch_a: Sequence[int], batch_b: Sequence[int],
                        m: int, n: int, k: int) -> None:
        """``A[batch_a..., m, k] @ B[batch_b..., k, n]`` with the activation as the ifmap."""
        ca, cb = self.is_const(a), self.is_const(b)
        if ca and not cb:  # out^T = B^T A^T: the activation B is the ifmap
            a, b, batch_a, batch_b, m, n = b, a, batch_b, batch_a, n, m
            ca, cb = cb, ca
        weight = _numel(list(batch_b) + [k, n]) if cb else 0
        if _numel(batch_b) == 1:  # B shared by every batch element: one GEMM with the batch folded into M
            self._gemm_op(node, _numel(batch_a) * m, n, k, 1, weight)
            return
        rank = max(len(batch_a), len(batch_b))
        pa = [1] * (rank - len(batch_a)) + list(batch_a)
        pb = [1] * (rank - len(batch_b)) + list(batch_b)
        batch = [max(x, y) for x, y in zip(pa, pb)]
        self._gemm_op(node, m, n, k, _numel(batch), weight)

    def matmul(self, node: OnnxNode) -> None:
        a, b = node.inputs[0], node.inputs[1]
        sa, sb = list(self.shape(node, a)), list(self.shape(node, b))
        if not sa or not sb:
            raise _Unsupported("a MatMul of a scalar")
        if len(sa) == 1:
            sa = [1, sa[0]]
        if len(sb) == 1:
            sb = [sb[0], 1]
        self._matrix_product(node, a, b, sa[:-2], sb[:-2], sa[-2], sb[-1], sa[-1])

    def einsum(self, node: OnnxNode) -> None:
        ins = [t for t in node.inputs if t]
        if len(ins) != 2:
            raise _Unsupported(f"an Einsum of {len(ins)} operands (two-operand contractions only)")
        eq = str(node.attrs.get("equation", "")).replace(" ", "")
        shapes = [self.shape(node, t) for t in ins]
        terms, out = _einsum_terms(eq, shapes)
        if terms is None:
            raise _Unsupported(f"Einsum {eq!r} is not a contraction ({out})")
        ta, tb = terms
        size: dict[str, int] = {}
        for term, shp in zip(terms, shapes):
            for ch, d in zip(term, shp):
                size[ch] = max(size.get(ch, 1), d)
        batch = [c for c in ta if c in tb and c in out]
        mm = [c for c in ta if c not in tb and c in out]
        nn = [c for c in tb if c not in ta and c in out]
        kk = [c for c in ta if c in tb and c not in out]
        only = [c for c in ta + tb if c not in out and not (c in ta and c in tb)]
        if only or len(set(ta)) != len(ta) or len(set(tb)) != len(tb):
            raise _Unsupported(f"Einsum {eq!r} is not a contraction (it sums or repeats an index of one operand)")
        prod = lambda cs: _numel([size[c] for c in cs])  # noqa: E731
        a, b = ins
        self._matrix_product(node, a, b, [prod(batch)], [prod(batch)], prod(mm), prod(nn), prod(kk))

    # -- the rest -----------------------------------------------------------------------------------
    def memory_op(self, node: OnnxNode) -> None:
        op = node.op_type
        outs = [self.shape(node, t) for t in node.outputs if t]
        out_elems = sum(_numel(s) for s in outs)
        if op in POOL_OPS:
            macs = out_elems * _numel(node.attrs.get("kernel_shape", [1]))
        elif op in GLOBAL_POOL_OPS or op in REDUCE_OPS:
            macs = _numel(self.shape(node, node.inputs[0]))
        else:
            macs = out_elems
        self.emit(node, macs)

    def fusable(self, node: OnnxNode) -> str | None:
        """The value a unary element-wise node fuses into, if any."""
        if node.op_type not in UNARY_OPS and node.op_type not in BINARY_OPS:
            return None
        acts = self.acts(node)
        if len(acts) != 1 or len([t for t in node.outputs if t]) != 1:
            return None
        src = acts[0]
        if src in self.produced and self.readers.get(src, 0) == 1:
            return src
        return None

    def node(self, node: OnnxNode) -> None:
        op = node.op_type
        if node.domain not in ("", "ai.onnx") or op not in SUPPORTED_OPS:
            raise _Unsupported(f"operator {op}" + (f" of domain {node.domain!r}" if node.domain not in ("", "ai.onnx")
                                                   else "") + " is not supported")
        if op == "Conv":
            self.conv(node)
        elif op == "Gemm":
            self.gemm(node)
        elif op == "MatMul":
            self.matmul(node)
        elif op == "Einsum":
            self.einsum(node)
        elif op in VIEW_OPS or op == "Concat":
            self.alias(node.outputs[0], self.acts(node) if op == "Concat" else self.acts(node)[:1])
            for t in node.outputs[1:]:  # Dropout's mask: no reader costs it
                if t:
                    self.alias(t, ())
        else:
            src = self.fusable(node)
            if src is not None:
                self.alias(node.outputs[0], (src,))
                self.produced.add(node.outputs[0])
            else:
                self.memory_op(node)

    def run(self) -> Lowered:
        for node in self.g.nodes:
            try:
                self.node(node)
            except _Unsupported as exc:
                if self.policy == "error":
                    raise UnsupportedOperatorError(
                        f"{self.where(node)}: {exc}; onnx_unsupported=skip leaves such nodes out") from None
                self.skipped.append(f"{node.name} ({node.op_type})")
                for t in node.outputs:
                    if t:
                        self.alias(t, self.acts(node)[:1])
        inputs = tuple((t, _numel(self.g.shapes[t] or (1,))) for t in self.g.inputs)
        return Lowered(tuple(self.layers), tuple(self.layer_ops), inputs, tuple(self.ops), tuple(self.skipped))


def _einsum_terms(eq: str, shapes: Sequence[Sequence[int]]) -> tuple[tuple[str, str] | None, str]:
    """The two input terms and the output of an einsum equation, ``...`` expanded to fresh letters.
    ``(None, reason)`` when it is not of the form ``a,b->c``."""
    if not re.fullmatch(r"[A-Za-z.]*,[A-Za-z.]*(->[A-Za-z.]*)?", eq):
        return None, "expected 'ab,bc->ac'"
    lhs, _, out = eq.partition("->")
    terms = lhs.split(",")
    used = set(re.sub(r"[^A-Za-z]", "", eq))
    fresh = (c for c in "ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkjihgfedcba" if c not in used)
    ell_rank = max((len(shp) - len(t.replace("...", "")) for t, shp in zip(terms, shapes) if "..." in t), default=0)
    ell = "".join(next(fresh) for _ in range(ell_rank))
    expanded = []
    for t, shp in zip(terms, shapes):
        if "..." in t:
            r = len(shp) - len(t.replace("...", ""))
            t = t.replace("...", ell[ell_rank - r:] if r else "")
        if len(t) != len(shp) or "." in t:
            return None, f"term {t!r} does not match a rank-{len(shp)} operand"
        expanded.append(t)
    if "->" in eq:
        out = out.replace("...", ell)
    else:  # implicit output: the letters that appear once, sorted (numpy's rule)
        letters = "".join(expanded)
        out = ell + "".join(sorted(c for c in set(letters) if letters.count(c) == 1 and c not in ell))
    return (expanded[0], expanded[1]), out


def lower(g: OnnxGraph, unsupported: str = "error") -> Lowered:
    """Layers and graph operators of a read ONNX graph (see the module docstring)."""
    return _Lowering(g, unsupported).run()
