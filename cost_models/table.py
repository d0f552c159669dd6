"""Tabular backends: every design's metrics, computed once by the real simulator, answered by lookup.

A *tabular benchmark* (NAS-Bench-201, HPOBench's tabular problems) fixes the
value of every design of a small space once, so that every user, on every
machine, optimizes exactly the same function and regret against the table's
optimum is exact.  archgym needs this where a simulator's answer depends on
the machine: ``Scratchpad-v0``'s ILP policies stop at a wall-clock time limit
and its windowed search is *anytime*, so the same design can cost a little
less on a quiet machine than on a loaded one.  A table also turns seconds
per evaluation into microseconds, so many seeds of many searchers fit.

A table file is JSON (format ``archgym-table/1``, nothing in it is executed):

* ``simulator`` -- the identity of the simulator that filled it (name,
  version, workload label, space fingerprint), and the ``options`` it was
  made with; a table is refused for any other simulator, version, space,
  workload or options (:func:`archgym.standin.check_identity`, shared with proxy files);
* ``parameters``, ``metrics``, ``reference_config``, ``reference_metrics``
  (the env's normalization, so rewards equal the real simulator's);
* ``keys`` -- the mixed-radix key of each row's index vector (last parameter
  fastest), covering every design of the space that satisfies its
  constraints; ``values`` (one list per metric, ``null`` for NaN),
  ``feasible`` and ``reason``;
* ``provenance`` -- how and when it was computed (archgym version, seconds);
* ``sha256`` -- the digest of the canonical JSON of everything else, so a
  file edited after writing is refused.

``archgym proxy table ENV --workload W --out F.json`` writes one;
``archgym.make(ENV, workload=W, backend="F.json")`` (or ``--option
backend=F.json``) answers from it.  Trial keys hash backend files by content.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import time
from typing import Any, Mapping

import numpy as np
import pandas as pd

from archgym.simulator import FEASIBLE, REASON, Simulator
from archgym.standin import FileBackend, StandInSimulator, check_identity, jsonable, simulator_identity
from archgym.trial import file_sha256

from .proxy import ProxyModelError

__all__ = ["FORMAT", "TableFileError", "TabulatedSimulator", "write_table", "read_table", "TABLE_FILES", "TABLE_LIMIT"]

FORMAT = "archgym-table/1"
#: largest space a table is written for (a JSON row per design)
TABLE_LIMIT = 200_000


class TableFileError(ProxyModelError):
    """A file given as a table is not one, is damaged or edited, or fits another simulator."""


def _digest(body: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


class TabulatedSimulator(StandInSimulator):
    """The real simulator's stored values standing in for it (the stand-in
    protocol of :mod:`archgym.standin`; version ``<real>+table.<first 12 hex
    digits of the file's SHA-256>``, so stored runs say which table answered
    them).  Designs outside the space are refused (a table only knows the space)."""

    kind = "table"

    def __init__(self, base: Simulator, frame: pd.DataFrame, keys: np.ndarray, *, options: Mapping[str, Any],
                 reference_config: Mapping[str, Any], reference_metrics: Mapping[str, float],
                 provenance: Mapping[str, Any], content_hash: str) -> None:
        super().__init__(base, options=options, reference_config=reference_config,
                         reference_metrics=reference_metrics, provenance=provenance, content_hash=content_hash)
        self._frame = frame.reset_index(drop=True)
        self._strides = self.space.key_strides()
        self._row = np.full(int(np.prod(self.space.nvec.astype(np.int64))), -1, dtype=np.int64)
        self._row[keys] = np.arange(len(keys))

    def _rows(self, configs: list[dict]) -> np.ndarray:
        idx = np.array([self.space.encode(c) for c in configs], dtype=np.int64).reshape(len(configs), -1)
        rows = self._row[idx @ self._strides]
        if (rows < 0).any():  # only a design breaking a space constraint; validate() refuses those first
            raise TableFileError(f"the table has no row for {configs[int(np.argmin(rows))]}")
        return rows

    def _evaluate(self, config: dict) -> dict:
        return self._frame.iloc[int(self._rows([config])[0])].to_dict()

    def _evaluate_batch(self, configs: list[dict]) -> pd.DataFrame:
        return self._frame.iloc[self._rows(configs)]


def write_table(base: Simulator, path: str | os.PathLike, options: Mapping[str, Any] | None = None,
                provenance: Mapping[str, Any] | None = None, chunk: int = 5_000, progress=None) -> str:
    """Evaluate every design of ``base``'s space (those satisfying its
    constraints) once and write the table to ``path``; return the file's SHA-256.
    ``options``: the simulator options ``base`` was made with (besides the workload).
    ``progress``: optional callable ``(done, total)``."""
    import archgym

    space = base.space
    if space.size > TABLE_LIMIT:
        raise TableFileError(f"{base.name}'s space has {space.size:,} designs, more than the table limit "
                             f"{TABLE_LIMIT:,}; narrow it with options or use a proxy (archgym proxy train)")
    idx = space.grid_indices(constrained=True)
    t0 = time.perf_counter()
    parts = []
    for lo in range(0, len(idx), chunk):
        parts.append(base.evaluate_batch([space.decode(row) for row in idx[lo:lo + chunk]]))
        if progress is not None:
            progress(min(lo + chunk, len(idx)), len(idx))
    df = pd.concat(parts, ignore_index=True)
    seconds = time.perf_counter() - t0
    keys = idx @ space.key_strides()

    def col(name: str) -> list:
        return [None if not math.isfinite(v) else float(v) for v in df[name].astype(float)]

    body = jsonable({
        "format": FORMAT,
        "simulator": simulator_identity(base),
        "options": dict(options or {}),
        "parameters": space.names,
        "metrics": [m.to_dict() for m in base.metrics],
        "reference_config": base.reference_config(),
        "reference_metrics": base.reference_metrics(),
        "provenance": {"archgym_version": archgym.__version__, "designs": int(len(df)),
                       "evaluation_seconds": round(seconds, 1),
                       **dict(provenance or {})},
        "keys": keys.tolist(),
        "values": {m: col(m) for m in base.metric_names},
        "feasible": df[FEASIBLE].astype(bool).tolist(),
        "reason": df[REASON].astype(str).tolist(),
    })
    body["sha256"] = _digest(body)
    tmp = f"{os.fspath(path)}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(body, fh, sort_keys=True, separators=(",", ":"))
        fh.write("\n")
    os.replace(tmp, path)
    return file_sha256(path)


def read_table(path: str | os.PathLike, base: Simulator, options: Mapping[str, Any] | None = None
               ) -> TabulatedSimulator:
    """Load a table file to stand in for ``base`` (checked: format, digest, identity, shape)."""
    p = os.fspath(path)
    if not os.path.isfile(p):
        raise TableFileError(f"table file {p!r} does not exist")
    try:
        with open(p, encoding="utf-8") as fh:
            body = json.load(fh)
    except (ValueError, UnicodeDecodeError) as exc:
        raise TableFileError(f"{p!r} is not an archgym table file (expected {FORMAT} JSON: {exc})") from None
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        fmt = body.get("format") if isinstance(body, dict) else None
        raise TableFileError(f"{p!r} is not an archgym table file (format {fmt!r}, expected {FORMAT!r})")
    stored = body.pop("sha256", None)
    if stored != _digest(body):
        raise TableFileError(f"{p!r} was modified after it was written (content digest mismatch)")
    check_identity(p, body, base, options, kind="table", error=TableFileError,
                   remedy="rebuild it with `archgym proxy table`")
    try:
        keys = np.asarray(body["keys"], dtype=np.int64)
        n = len(keys)
        size = int(np.prod(base.space.nvec.astype(np.int64)))
        if keys.ndim != 1 or (n and (keys.min() < 0 or keys.max() >= size)) or len(np.unique(keys)) != n:
            raise ValueError("row keys do not fit the space")
        frame = pd.DataFrame({m: np.array([math.nan if v is None else float(v) for v in body["values"][m]])
                              for m in base.metric_names})
        frame[FEASIBLE] = np.asarray(body["feasible"], dtype=bool)
        frame[REASON] = [str(r) for r in body["reason"]]
        if len(frame) != n:
            raise ValueError("columns and keys differ in length")
        ref_cfg = base.space.validate(body["reference_config"])
        ref_metrics = {k: float(body["reference_metrics"][k]) for k in base.metric_names}
    except (KeyError, TypeError, ValueError) as exc:
        raise TableFileError(f"{p!r} is a malformed table file ({type(exc).__name__}: {exc})") from None
    return TabulatedSimulator(base, frame, keys, options=body.get("options", {}), reference_config=ref_cfg,
                              reference_metrics=ref_metrics, provenance=body.get("provenance", {}),
                              content_hash=file_sha256(p))


def _claims(path: str) -> bool:
    """A table file is JSON: its first non-blank byte is ``{``."""
    try:
        with open(path, "rb") as fh:
            return fh.read(64).lstrip()[:1] == b"{"
    except OSError:
        return False


#: the ``table`` entry of the ``archgym.backends`` entry-point group
TABLE_FILES = FileBackend("table", _claims, read_table)
