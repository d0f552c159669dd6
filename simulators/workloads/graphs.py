"""DNN operator graphs (DAGs of tensors) for the scratchpad simulator.

Every builder returns a :class:`.opgraph.Graph`
at batch 1 with ``precision_bytes`` bytes per element.  Weights are separate
``weight`` tensors (so they compete for scratchpad space and spills really
happen); the network input is an ``input`` tensor; everything else is an
``activation``.  Weights larger than ``weight_tile_bytes`` (default 256 KiB)
are split into output-channel tiles, one operator each, as accelerators
stream weights (otherwise one 2.4 MB weight would set the minimum
scratchpad).  Concatenations are *zero-copy*: the consumer of a concat
reads every branch output directly (no concat operator, no copy), so all
branches stay live until it runs -- the case where scheduling matters.

Shapes follow the original papers (ResNet: He et al. 2016; MobileNetV2:
Sandler et al. 2018; GoogLeNet: Szegedy et al. 2015; BERT-base encoder:
Devlin et al. 2019; the NAS cell is a NASNet-style normal cell, Zoph et al.
2018, with a fixed, seeded choice of operations).  Padding keeps
``H_out = ceil(H / stride)``; biases and batch-norm parameters are folded
away; MACs count multiply-accumulates (element-wise ops count one per output
element).

Memory pressure (:mod:`.transforms`): every named graph can be built as a
mini-batch (``batch=B``: one operator per layer and sample, weights shared,
layer-major order) or as a training step (``training=True``: forward, loss,
backward with saved activations).  The ``*_train`` names and ``attention``
(one long-sequence multi-head self-attention block with per-head tensors)
are workloads whose peak live footprint is several times their largest
operator working set.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

from archgym.simulator import WorkloadError

from .opgraph import Graph, Op, Tensor
from .transforms import batched, training
from .transforms import training as _training

__all__ = ["GraphBuilder", "FMap", "GRAPH_BUILDERS", "graph_names", "build_graph", "resnet18", "resnet50",
           "mobilenetv2", "googlenet", "inception_stack", "transformer_encoder", "nas_cells", "random_dag",
           "attention", "resnet18_train", "mobilenetv2_train", "nas_cells_train", "transformer_train",
           "inception_train"]


#: default weight tile (bytes): larger weights are split into output-channel tiles
TILE = 262144


@dataclass(frozen=True)
class FMap:
    """A feature map: one or more tensors (zero-copy concat parts) of shape C x H x W."""

    parts: tuple[str, ...]
    c: int
    h: int
    w: int


class GraphBuilder:
    """Accumulates tensors and operators; sizes in elements x ``precision_bytes``."""

    def __init__(self, name: str, precision_bytes: int = 1, weight_tile_bytes: int | None = TILE) -> None:
        if precision_bytes not in (1, 2, 4):
            raise WorkloadError(f"precision_bytes must be 1, 2 or 4, got {precision_bytes!r}")
        self.name, self.p, self.tile = name, precision_bytes, weight_tile_bytes
        self.tensors: list[Tensor] = []
        self.ops: list[Op] = []

    def _tensor(self, name: str, elems: int, kind: str) -> str:
        self.tensors.append(Tensor(name, max(1, int(elems)) * self.p, kind))
        return name

    def input(self, c: int, h: int, w: int = 1, name: str = "input") -> FMap:
        return FMap((self._tensor(name, c * h * w, "input"),), c, h, w)

    def op(self, name: str, xs: Sequence[FMap], c: int, h: int, w: int, macs: int, weight_elems: int = 0,
           n_out: int = 1) -> FMap | list[FMap]:
        """Operator reading ``xs`` (+ a weight) and writing ``n_out`` maps of C x H x W.

        A weight larger than ``weight_tile_bytes`` is split along output
        channels into tiles, one operator each (``name/t0``, ...), as an
        accelerator streams weights: each tile reads the whole input and
        writes its channel slice; consumers read all slices (zero-copy)."""
        ins = [t for x in xs for t in x.parts]
        tiles = 1
        if weight_elems and self.tile and weight_elems * self.p > self.tile:
            need = math.ceil(weight_elems * self.p / self.tile)
            if n_out > 1:
                tiles = next((d for d in range(need, n_out + 1) if n_out % d == 0), n_out)
            else:
                tiles = min(need, c)
        slices = n_out if n_out > 1 else tiles
        # channel (or head) slices, grouped by tile
        per = [c // slices + (1 if k < c % slices else 0) for k in range(slices)] if n_out == 1 else [c] * n_out
        groups = [list(range(k * slices // tiles, (k + 1) * slices // tiles)) for k in range(tiles)]
        outs: list[str] = [""] * slices
        for k, grp in enumerate(groups):
            nm = name if tiles == 1 else f"{name}/t{k}"
            tin = list(ins)
            lo, hi = grp[0], grp[-1] + 1  # exact integer split of weights and MACs over tiles
            if weight_elems:
                tin.append(self._tensor(f"{nm}.w", weight_elems * hi // slices - weight_elems * lo // slices,
                                        "weight"))
            for s_ in grp:
                outs[s_] = self._tensor(f"{nm}.out" if slices == 1 else f"{name}.out{s_}", per[s_] * h * w,
                                        "activation")
            self.ops.append(Op(nm, tuple(tin), tuple(outs[s_] for s_ in grp),
                               int(macs * hi // slices - macs * lo // slices)))
        if n_out == 1:
            return FMap(tuple(outs), c, h, w)
        return [FMap((o,), c, h, w) for o in outs]

    def op_outputs(self, name: str, xs: Sequence[FMap], elems: Sequence[int], macs: int) -> list[FMap]:
        """Operator without a weight reading ``xs`` and writing one tensor per entry of ``elems``
        (``name.out``, or ``name.out0``, ``name.out1``, ... for several)."""
        ins = list(dict.fromkeys(t for x in xs for t in x.parts))
        names = [f"{name}.out"] if len(elems) == 1 else [f"{name}.out{k}" for k in range(len(elems))]
        outs = [self._tensor(nm, e, "activation") for nm, e in zip(names, elems)]
        self.ops.append(Op(name, tuple(ins), tuple(outs), int(macs)))
        return [FMap((o,), int(e), 1, 1) for o, e in zip(outs, elems)]

    def conv(self, name: str, x: FMap | Sequence[FMap], cout: int, k: int, stride: int = 1,
             groups: int = 1) -> FMap:
        xs = [x] if isinstance(x, FMap) else list(x)
        cin, h, w = sum(m.c for m in xs), xs[0].h, xs[0].w
        ho, wo = math.ceil(h / stride), math.ceil(w / stride)
        wel = k * k * (cin // groups) * cout
        return self.op(name, xs, cout, ho, wo, ho * wo * wel, wel)  # type: ignore[return-value]

    def dwconv(self, name: str, x: FMap, k: int, stride: int = 1) -> FMap:
        return self.conv(name, x, x.c, k, stride, groups=x.c)

    def pool(self, name: str, x: FMap | Sequence[FMap], k: int, stride: int) -> FMap:
        xs = [x] if isinstance(x, FMap) else list(x)
        c, ho, wo = sum(m.c for m in xs), math.ceil(xs[0].h / stride), math.ceil(xs[0].w / stride)
        return self.op(name, xs, c, ho, wo, c * ho * wo * k * k)  # type: ignore[return-value]

    def eltwise(self, name: str, xs: Sequence[FMap]) -> FMap:
        x = xs[0]
        return self.op(name, xs, x.c, x.h, x.w, x.c * x.h * x.w)  # type: ignore[return-value]

    def fc(self, name: str, x: FMap, cout: int) -> FMap:
        cin = x.c * x.h * x.w
        return self.op(name, [x], cout, 1, 1, cin * cout, cin * cout)  # type: ignore[return-value]

    def matmul(self, name: str, x: FMap, dout: int, n_out: int = 1) -> FMap | list[FMap]:
        """Token-wise linear layer: ``x`` is D x L; ``n_out`` equal output slices (heads)."""
        wel = x.c * dout
        return self.op(name, [x], dout // n_out, x.h, 1, x.h * wel, wel, n_out=n_out)

    def graph(self) -> Graph:
        return Graph.build(self.name, self.tensors, self.ops)


# -- networks ----------------------------------------------------------------------------------
def _resnet(name: str, blocks: Sequence[int], bottleneck: bool, precision_bytes: int, resolution: int,
            weight_tile_bytes: int | None) -> Graph:
    b = GraphBuilder(name, precision_bytes, weight_tile_bytes)
    x = b.input(3, resolution, resolution)
    x = b.conv("conv1", x, 64, 7, 2)
    x = b.pool("maxpool", x, 3, 2)
    cin = 64
    for s, n in enumerate(blocks):
        width = 64 * 2 ** s
        cout = width * 4 if bottleneck else width
        for i in range(n):
            stride = 2 if (i == 0 and s > 0) else 1
            p = f"l{s + 1}.{i}"
            if bottleneck:
                y = b.conv(f"{p}.conv1", x, width, 1)
                y = b.conv(f"{p}.conv2", y, width, 3, stride)
                y = b.conv(f"{p}.conv3", y, cout, 1)
            else:
                y = b.conv(f"{p}.conv1", x, width, 3, stride)
                y = b.conv(f"{p}.conv2", y, width, 3)
            short = b.conv(f"{p}.down", x, cout, 1, stride) if (stride != 1 or cin != cout) else x
            x = b.eltwise(f"{p}.add", [y, short])
            cin = cout
    x = b.pool("avgpool", x, x.h, x.h)
    b.fc("fc", x, 1000)
    return b.graph()


def resnet18(precision_bytes: int = 1, resolution: int = 224, weight_tile_bytes: int | None = TILE) -> Graph:
    """ResNet-18 (basic blocks 2-2-2-2)."""
    return _resnet("resnet18", [2, 2, 2, 2], False, precision_bytes, resolution, weight_tile_bytes)


def resnet50(precision_bytes: int = 1, resolution: int = 224, weight_tile_bytes: int | None = TILE) -> Graph:
    """ResNet-50 (bottlenecks 3-4-6-3)."""
    return _resnet("resnet50", [3, 4, 6, 3], True, precision_bytes, resolution, weight_tile_bytes)


def mobilenetv2(precision_bytes: int = 1, resolution: int = 224, weight_tile_bytes: int | None = TILE) -> Graph:
    """MobileNetV2 (width 1.0): inverted residual blocks, 64 operators."""
    b = GraphBuilder("mobilenetv2", precision_bytes, weight_tile_bytes)
    x = b.conv("conv1", b.input(3, resolution, resolution), 32, 3, 2)
    cin, k = 32, 0
    for t, c, n, s in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                       (6, 160, 3, 2), (6, 320, 1, 1)]:
        for i in range(n):
            stride = s if i == 0 else 1
            p = f"b{k}"
            y = b.conv(f"{p}.expand", x, cin * t, 1) if t != 1 else x
            y = b.dwconv(f"{p}.dw", y, 3, stride)
            y = b.conv(f"{p}.project", y, c, 1)
            x = b.eltwise(f"{p}.add", [y, x]) if (stride == 1 and cin == c) else y
            cin, k = c, k + 1
    x = b.conv("conv_last", x, 1280, 1)
    x = b.pool("avgpool", x, x.h, x.h)
    b.fc("fc", x, 1000)
    return b.graph()


_INCEPTION = {  # name: (1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool proj)
    "3a": (64, 96, 128, 16, 32, 32), "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64), "4b": (160, 112, 224, 24, 64, 64), "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64), "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128), "5b": (384, 192, 384, 48, 128, 128),
}


def _inception_modules(b: GraphBuilder, cur: list[FMap], modules: Sequence[str]) -> list[FMap]:
    for m in modules:
        if m in ("4a", "5a"):
            cur = [b.pool(f"pool_{m}", cur, 3, 2)]
        c1, r3, c3, r5, c5, pp = _INCEPTION[m]
        br1 = b.conv(f"i{m}.1x1", cur, c1, 1)
        br2 = b.conv(f"i{m}.3x3", b.conv(f"i{m}.3x3r", cur, r3, 1), c3, 3)
        br3 = b.conv(f"i{m}.5x5", b.conv(f"i{m}.5x5r", cur, r5, 1), c5, 5)
        br4 = b.conv(f"i{m}.pproj", b.pool(f"i{m}.pool", cur, 3, 1), pp, 1)
        cur = [br1, br2, br3, br4]
    return cur


def googlenet(precision_bytes: int = 1, resolution: int = 224, modules: Sequence[str] | None = None,
              weight_tile_bytes: int | None = TILE) -> Graph:
    """GoogLeNet: stem + nine Inception modules (4 branches, zero-copy concat)."""
    b = GraphBuilder("googlenet", precision_bytes, weight_tile_bytes)
    x = b.conv("conv1", b.input(3, resolution, resolution), 64, 7, 2)
    x = b.pool("pool1", x, 3, 2)
    x = b.conv("conv2r", x, 64, 1)
    x = b.conv("conv2", x, 192, 3)
    cur = _inception_modules(b, [b.pool("pool2", x, 3, 2)], modules or list(_INCEPTION))
    x = b.pool("avgpool", cur, cur[0].h, cur[0].h)
    b.fc("fc", x, 1000)
    return b.graph()


def transformer_encoder(precision_bytes: int = 1, seq: int = 128, d_model: int = 768, heads: int = 12,
                        d_ff: int = 3072, layers: int = 1, weight_tile_bytes: int | None = TILE) -> Graph:
    """BERT-base-style encoder layer(s): per-head attention branches, 45 operators per layer."""
    b = GraphBuilder("transformer", precision_bytes, weight_tile_bytes)
    x = b.input(d_model, seq)
    dh = d_model // heads
    for li in range(layers):
        p = f"L{li}"
        q = b.matmul(f"{p}.q", x, d_model, heads)
        k = b.matmul(f"{p}.k", x, d_model, heads)
        v = b.matmul(f"{p}.v", x, d_model, heads)
        ctx = []
        for h in range(heads):
            s = b.op(f"{p}.h{h}.scores", [q[h], k[h]], seq, seq, 1, seq * seq * dh)  # type: ignore[index]
            a = b.eltwise(f"{p}.h{h}.softmax", [s])  # type: ignore[list-item]
            ctx.append(b.op(f"{p}.h{h}.ctx", [a, v[h]], dh, seq, 1, seq * seq * dh))  # type: ignore[index]
        o = b.op(f"{p}.proj", ctx, d_model, seq, 1, seq * d_model * d_model, d_model * d_model)
        x = b.eltwise(f"{p}.ln1", [b.eltwise(f"{p}.add1", [o, x])])  # type: ignore[list-item]
        f = b.eltwise(f"{p}.gelu", [b.matmul(f"{p}.ff1", x, d_ff)])  # type: ignore[list-item]
        f = b.matmul(f"{p}.ff2", f, d_model)
        x = b.eltwise(f"{p}.ln2", [b.eltwise(f"{p}.add2", [f, x])])  # type: ignore[list-item]
    return b.graph()


#: NASNet-style normal cell: five nodes, each combining two (input index, op) pairs;
#: inputs 0 = previous-previous cell, 1 = previous cell, 2.. = earlier nodes.
_NAS_CELL = [((1, "sep3"), (1, "id")), ((0, "sep5"), (1, "sep3")), ((2, "avg3"), (0, "id")),
             ((0, "avg3"), (3, "sep3")), ((4, "sep5"), (1, "avg3"))]


def nas_cells(precision_bytes: int = 1, resolution: int = 32, cells: int = 4, channels: int = 64,
              weight_tile_bytes: int | None = TILE) -> Graph:
    """A stack of NASNet-style normal cells; a cell's output is the zero-copy
    concat of all five node outputs (as in DARTS), read by the 1x1
    pre-processing convs of the next two cells."""
    b = GraphBuilder("nas_cells", precision_bytes, weight_tile_bytes)
    x = b.conv("stem", b.input(3, resolution, resolution), channels, 3)
    prev2: list[FMap] = [x]
    prev: list[FMap] = [x]
    for ci in range(cells):
        p = f"c{ci}"
        states = [b.conv(f"{p}.pre0", prev2, channels, 1), b.conv(f"{p}.pre1", prev, channels, 1)]
        for ni, pair in enumerate(_NAS_CELL):
            outs = []
            for side, (src, kind) in enumerate(pair):
                s, nm = states[src], f"{p}.n{ni}.{side}"
                if kind == "id":
                    outs.append(s)
                elif kind == "avg3":
                    outs.append(b.pool(nm, s, 3, 1))
                else:
                    k = 3 if kind == "sep3" else 5
                    outs.append(b.conv(f"{nm}.pw", b.dwconv(f"{nm}.dw", s, k), channels, 1))
            states.append(b.eltwise(f"{p}.n{ni}.add", outs))
        prev2, prev = prev, states[2:]  # all node outputs, concatenated (DARTS-style)
    x = b.pool("gap", prev, prev[0].h, prev[0].h)
    b.fc("fc", x, 10)
    return b.graph()


def random_dag(n_ops: int, precision_bytes: int = 1, seed: int = 0, act_elems: int = 16384,
               weight_elems: int = 8192, p_skip: float = 0.5) -> Graph:
    """A seeded synthetic network of ``n_ops`` layers for solve-time scaling
    studies: each layer reads the previous output and, with probability
    ``p_skip``, one earlier output (long skips keep tensors live, so spills
    happen); activation and weight sizes vary by 1-4x."""
    import random

    rng = random.Random(seed)
    b = GraphBuilder(f"dag{n_ops}", precision_bytes, None)
    hist = [b.input(act_elems, 1)]
    for i in range(n_ops):
        xs = [hist[-1]]
        if len(hist) > 2 and rng.random() < p_skip:
            xs.append(hist[rng.randrange(0, len(hist) - 2)])
        a = act_elems * rng.randint(1, 4) // 2
        hist.append(b.op(f"op{i}", xs, a, 1, 1, a * 64, weight_elems * rng.randint(1, 4)))  # type: ignore[arg-type]
    return b.graph()


def inception_stack(precision_bytes: int = 1, resolution: int = 28, modules: Sequence[str] = ("3a", "3b"),
                    weight_tile_bytes: int | None = TILE) -> Graph:
    """A stack of GoogLeNet Inception modules without the stem (4 branches each,
    zero-copy concat), starting from the 192-channel 28x28 map of GoogLeNet."""
    b = GraphBuilder("inception", precision_bytes, weight_tile_bytes)
    cur: list[FMap] = [b.input(192, resolution, resolution)]
    cur = _inception_modules(b, cur, modules)
    x = b.pool("avgpool", cur, cur[0].h, cur[0].h)
    b.fc("fc", x, 1000)
    return b.graph()


def attention(precision_bytes: int = 1, seq: int = 512, d_model: int = 512, heads: int = 8,
              weight_tile_bytes: int | None = TILE) -> Graph:
    """One multi-head self-attention block (Vaswani et al. 2017) at a long
    sequence, with per-head tensors *and per-head operators*: each head has
    its own Q, K and V projections (``d_model x d_model/heads`` weights),
    scores (``seq x seq``), softmax and context; then the output projection
    and the residual add.  The default order runs every projection of every
    head first (as a framework's fused QKV matmul would), so all heads' Q/K/V
    are live at once; a head-by-head order needs far less memory: the
    schedule matters.  ``5 * heads + 2`` operators."""
    b = GraphBuilder("attention", precision_bytes, weight_tile_bytes)
    x = b.input(d_model, seq)
    dh = d_model // heads
    proj = {m: [b.matmul(f"h{h}.{m}", x, dh) for h in range(heads)] for m in ("q", "k", "v")}
    ctx = []
    for h in range(heads):
        sc = b.op(f"h{h}.scores", [proj["q"][h], proj["k"][h]], seq, seq, 1, seq * seq * dh)  # type: ignore[list-item]
        a = b.eltwise(f"h{h}.softmax", [sc])  # type: ignore[list-item]
        ctx.append(b.op(f"h{h}.ctx", [a, proj["v"][h]], dh, seq, 1, seq * seq * dh))  # type: ignore[list-item]
    o = b.op("proj", ctx, d_model, seq, 1, seq * d_model * d_model, d_model * d_model)
    b.eltwise("add", [o, x])  # type: ignore[list-item]
    return b.graph()


def resnet18_train(precision_bytes: int = 1, resolution: int = 32, **kw) -> Graph:
    """ResNet-18 training step (forward + backward, saved activations) at 32x32 (CIFAR size)."""
    return training(resnet18(precision_bytes, resolution, **kw))


def mobilenetv2_train(precision_bytes: int = 1, resolution: int = 32, **kw) -> Graph:
    """MobileNetV2 training step at 32x32."""
    return training(mobilenetv2(precision_bytes, resolution, **kw))


def nas_cells_train(precision_bytes: int = 1, resolution: int = 32, cells: int = 2, **kw) -> Graph:
    """Training step of two NASNet-style normal cells (branchy: concat + two-cell skips)."""
    return training(nas_cells(precision_bytes, resolution, cells, **kw))


def transformer_train(precision_bytes: int = 1, seq: int = 128, d_model: int = 256, heads: int = 4,
                      d_ff: int = 1024, **kw) -> Graph:
    """Training step of a small encoder layer (4 heads of 64, per-head tensors)."""
    return training(transformer_encoder(precision_bytes, seq, d_model, heads, d_ff, **kw))


def inception_train(precision_bytes: int = 1, resolution: int = 28, modules: Sequence[str] = ("3a",), **kw) -> Graph:
    """Training step of GoogLeNet's Inception 3a module (4 branches, zero-copy concat)."""
    return training(inception_stack(precision_bytes, resolution, modules, **kw))


GRAPH_BUILDERS: dict[str, Callable[..., Graph]] = {
    "resnet18": resnet18, "resnet50": resnet50, "mobilenetv2": mobilenetv2, "googlenet": googlenet,
    "inception": inception_stack, "transformer": transformer_encoder, "nas_cells": nas_cells,
    "attention": attention, "resnet18_train": resnet18_train, "mobilenetv2_train": mobilenetv2_train,
    "nas_cells_train": nas_cells_train, "transformer_train": transformer_train, "inception_train": inception_train,
}


def graph_names() -> list[str]:
    return list(GRAPH_BUILDERS)


def build_graph(name: str, precision_bytes: int = 1, *, batch: int = 1, training: bool = False,
                **kwargs) -> Graph:
    """Build a named network graph (see :data:`GRAPH_BUILDERS`); ``batch`` > 1
    and ``training`` apply :func:`~.transforms.batched` / :func:`~.transforms.training`
    (batch first).  Builder keywords pass through."""
    try:
        fn = GRAPH_BUILDERS[name]
    except KeyError:
        raise WorkloadError(f"unknown workload graph {name!r}; known: {', '.join(GRAPH_BUILDERS)}") from None
    try:
        g = fn(precision_bytes=precision_bytes, **kwargs)
    except TypeError as exc:  # an option the builder does not take
        raise WorkloadError(f"workload {name!r}: {exc}") from None
    g = batched(g, batch)
    return _training(g) if training else g
