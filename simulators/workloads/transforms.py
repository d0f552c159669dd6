"""Graph transforms that create memory pressure: mini-batches and training.

Both take a validated :class:`~.opgraph.Graph` (any network, built or loaded)
and return a new one; neither changes tensor sizes.

* :func:`batched`: ``batch`` samples, one operator per (layer, sample), all
  samples sharing the layer's weights.  The default order is *layer-major*
  (every sample through a layer before the next layer), as a framework runs a
  batch; a weight is then used ``batch`` times in a row while every sample's
  activations stay live.  Reordering towards sample-major trades weight
  reloads for activation footprint: the schedule matters.
* :func:`training`: forward pass, a loss operator, then the backward pass in
  reverse order.  Assumptions (stated, as in frameworks that save inputs for
  backward): the backward operator of a forward operator ``f`` reads the
  gradient of every output of ``f``, every forward input of ``f`` (saved
  activations and weights) and writes the gradient of every activation input
  (one partial per consumer) and of every weight (``dW``: an activation no
  operator reads, hence stored off chip once, as a weight update is).  An
  activation with several consumers gets an accumulation operator that sums
  its partial gradients.  MACs: backward = 2 x forward (input and weight
  gradients), accumulation and loss one per element.  Every forward
  activation read by a backward operator stays live across the whole middle
  of the run, so the peak live footprint far exceeds any one operator's
  working set.
"""
from __future__ import annotations

from .opgraph import Graph, GraphError, Op, Tensor

__all__ = ["batched", "training", "peak_live_bytes"]


def batched(graph: Graph, batch: int) -> Graph:
    """``batch`` per-sample copies of every operator sharing weights, layer-major order."""
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise GraphError(f"batch must be a positive integer, got {batch!r}")
    if batch == 1:
        return graph

    def name(t: str, s: int) -> str:
        return t if graph.tensors[t].kind == "weight" else f"{t}@{s}"

    tensors = [v for v in graph.tensors.values() if v.kind == "weight"]
    tensors += [Tensor(f"{v.name}@{s}", v.bytes, v.kind) for s in range(batch)
                for v in graph.tensors.values() if v.kind != "weight"]
    ops = [Op(f"{op.name}@{s}", tuple(name(t, s) for t in op.inputs), tuple(name(t, s) for t in op.outputs),
              op.macs) for op in graph.ops for s in range(batch)]
    return Graph.build(f"{graph.name}_b{batch}", tensors, ops)


def training(graph: Graph) -> Graph:
    """Forward + loss + backward with saved activations (see the module docstring)."""
    tensors = list(graph.tensors.values())
    ops = list(graph.ops)
    grad: dict[str, list[str]] = {}  # activation -> its partial gradients, in production order

    def new(nm: str, nbytes: int) -> str:
        tensors.append(Tensor(nm, nbytes, "activation"))
        return nm

    outs = graph.graph_outputs
    loss_out = tuple(new(f"d.{y}", graph.size(y)) for y in outs)
    ops.append(Op("loss", tuple(outs), loss_out, sum(graph.size(y) for y in outs)))
    for y, d in zip(outs, loss_out):
        grad[y] = [d]
    for i in range(graph.n_ops - 1, -1, -1):
        f = graph.ops[i]
        gin = []
        for y in f.outputs:
            parts = grad.get(y, [])
            if not parts:  # an output nothing reads gradients from (cannot happen after the loss)
                continue
            if len(parts) == 1:
                gin.append(parts[0])
            else:
                total = new(f"d.{y}", graph.size(y))
                ops.append(Op(f"{f.name}.gacc", tuple(parts), (total,), graph.size(y) * (len(parts) - 1)))
                gin.append(total)
        if not gin:
            continue
        wouts = []
        for x in dict.fromkeys(f.inputs):
            kind = graph.tensors[x].kind
            if kind == "input":
                continue
            part = new(f"d{i}.{x}", graph.size(x))
            wouts.append(part)
            if kind == "activation":
                grad.setdefault(x, []).append(part)
        if not wouts:
            continue
        reads = tuple(dict.fromkeys(gin + list(f.inputs)))
        ops.append(Op(f"{f.name}.bwd", reads, tuple(wouts), 2 * f.macs))
    return Graph.build(f"{graph.name}_train", tensors, ops)


def peak_live_bytes(graph: Graph, order=None) -> int:
    """Largest total size of tensors live at one step of ``order`` (default: the
    graph's), a tensor being live from its first to its last use: the smallest
    scratchpad in which that order needs no non-compulsory traffic."""
    order = graph.default_order() if order is None else list(order)
    delta = [0] * (len(order) + 1)
    for t, u in graph.uses(order).items():
        delta[u[0]] += graph.size(t)
        delta[u[-1] + 1] -= graph.size(t)
    best = cur = 0
    for d in delta[:-1]:
        cur += d
        best = max(best, cur)
    return best
