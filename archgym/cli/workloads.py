"""``archgym workloads show|export``: look at a network workload and write it for other tools
(work in :mod:`archgym.simulators.workloads`).

::

    archgym workloads show MODEL [--input-shape NAME=1x3x224x224 ...] [--set KEY=VALUE ...] [--json]
    archgym workloads export MODEL --to scalesim|timeloop|graph --out DIR
                             [--input-shape NAME=1x3x224x224 ...] [--set KEY=VALUE ...] [--force]

``MODEL`` is an ONNX file or any network workload the simulators take (a
shipped network name, a SCALE-Sim topology CSV).  ``--set`` keys:
``onnx_unsupported=skip`` (leave out, and list, operators archgym cannot
cost) and ``precision_bytes=N`` (bytes per element of the graph, default 1).
``export`` writes ``DIR/<name>.csv`` (SCALE-Sim topology), one Timeloop v0.4
problem ``DIR/<index>_<layer>.yaml`` per layer, or ``DIR/<name>.json`` (the
operator graph); it replaces no existing file without ``--force``.
"""
from __future__ import annotations

import argparse

from .args import Command, UsageError, key_values, print_json

__all__ = ["WORKLOADS"]

FORMATS = ("scalesim", "timeloop", "graph")  # checked against archgym.simulators.workloads.export.FORMATS by the tests
SET_KEYS = ("onnx_unsupported", "precision_bytes")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="an ONNX file, a shipped network name or a topology CSV")
    p.add_argument("--input-shape", action="append", metavar="NAME=1x3x224x224",
                   help="shape of a graph input with dynamic dimensions (repeatable)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="onnx_unsupported=skip, precision_bytes=N")


def _configure(s: argparse.ArgumentParser) -> None:
    sub = s.add_subparsers(dest="workloads_command", parser_class=type(s))
    show = sub.add_parser("show", help="layers, skipped operators and the operator graph's size")
    _common(show)
    show.add_argument("--json", action="store_true")
    exp = sub.add_parser("export", help="write a SCALE-Sim topology, Timeloop problems or the graph JSON")
    _common(exp)
    exp.add_argument("--to", required=True, choices=FORMATS)
    exp.add_argument("--out", required=True, metavar="DIR", help="folder to write into (created if needed)")
    exp.add_argument("--force", action="store_true", help="replace files that exist")


def _options(args) -> dict:
    opts = key_values(args.set)
    bad = sorted(set(opts) - set(SET_KEYS))
    if bad:
        raise UsageError(f"--set {bad[0]}: unknown key; allowed: {', '.join(SET_KEYS)}")
    precision = opts.get("precision_bytes", 1)
    if precision not in (1, 2, 4):
        raise UsageError(f"--set precision_bytes must be 1, 2 or 4, got {precision!r}")
    return {"input_shapes": args.input_shape, "onnx_unsupported": str(opts.get("onnx_unsupported", "error")),
            "precision_bytes": precision}


def _read(model: str, opts: dict):
    """(label, layers or None, graph or None, skipped) of any network workload."""
    from archgym.simulator import WorkloadError
    from archgym.simulators.workloads.network import as_network
    from archgym.simulators.workloads.layers import as_layers
    from archgym.simulators.workloads.opgraph import as_graph

    net = as_network(model, opts["input_shapes"], opts["onnx_unsupported"])
    if net is not None:
        return net.name, list(net.layers), net.graph(opts["precision_bytes"]), list(net.skipped)
    layers = graph = None
    try:
        label, layers = as_layers(model)
    except WorkloadError:
        label = model
    try:
        graph = as_graph(model, opts["precision_bytes"])
    except WorkloadError:
        if layers is None:
            raise
    return label, layers, graph, []


def _show(args, opts: dict) -> int:
    label, layers, graph, skipped = _read(args.model, opts)
    rows = [{"index": i, "name": lay.name, "kind": lay.kind, "M": lay.M, "N": lay.N, "K": lay.K,
             "repeat": lay.repeat, "macs": lay.macs} for i, lay in enumerate(layers or [])]
    summary = {"name": label, "layers": len(rows), "macs": sum(r["macs"] for r in rows), "skipped": skipped}
    if graph is not None:
        summary["graph"] = {"ops": graph.n_ops, "tensors": len(graph.tensors),
                            "weight_bytes": sum(t.bytes for t in graph.tensors.values() if t.kind == "weight"),
                            "precision_bytes": opts["precision_bytes"]}
    if args.json:
        print_json({**summary, "layer_table": rows})
        return 0
    print(f"{label}: {len(rows)} layers, {summary['macs'] / 1e9:.4g} GMACs")
    if rows:
        width = max(len(r["name"]) for r in rows)
        print(f"  {'#':>4}  {'layer':<{width}}  {'kind':<6} {'M':>8} {'N':>6} {'K':>6} {'x':>4} {'MACs':>12}")
        for r in rows:
            print(f"  {r['index']:>4}  {r['name']:<{width}}  {r['kind']:<6} {r['M']:>8} {r['N']:>6} {r['K']:>6} "
                  f"{r['repeat']:>4} {r['macs']:>12,}")
    if graph is not None:
        g = summary["graph"]
        print(f"graph: {g['ops']} operators, {g['tensors']} tensors, {g['weight_bytes']:,} weight bytes "
              f"at {g['precision_bytes']} byte(s) per element")
    if skipped:
        print(f"skipped ({len(skipped)}): {', '.join(skipped)}")
    return 0


def _export(args, opts: dict) -> int:
    from archgym.simulators.workloads.export import export_workload

    files = export_workload(args.model, args.to, args.out, force=args.force, **opts)
    shown = ", ".join(str(f) for f in files[:3]) + (f", ... ({len(files)} files)" if len(files) > 3 else "")
    print(f"wrote {shown}")
    return 0


def _run(args) -> int:
    if not args.workloads_command:
        raise UsageError("workloads: choose a subcommand: show, export")
    opts = _options(args)
    return _show(args, opts) if args.workloads_command == "show" else _export(args, opts)


WORKLOADS = Command("network workloads: show an ONNX model's layers, export to SCALE-Sim, Timeloop or graph JSON",
                    _configure, _run)
