"""Proxy files: a fitted proxy as plain arrays + JSON, checked before use, never executed.

A proxy file is a zip archive (``.npz``-like) holding

* ``meta.json`` -- format tag ``archgym-proxy/1``; the real simulator's name,
  version, workload label and space fingerprint; the options it was made with;
  its metrics, reference design and reference metrics; the model's
  hyperparameters, per-metric target transform and ensemble headers; the
  training data's provenance;
* one ``<name>.npy`` per array (tree arrays, the seen-values mask), read with
  ``allow_pickle=False``;
* ``SHA256`` -- the digest of ``meta.json`` and every array (name, dtype,
  shape, bytes), so a file edited after writing is refused.

Nothing in the file is imported, unpickled or evaluated: loading parses JSON
and numeric arrays, checks the digest, checks every tree (bounds, child ids
after their parent), then checks the identity against the simulator it will
stand in for.  Entries are written in a fixed order with a fixed timestamp,
so the same proxy always gives the same bytes and :func:`file_hash` (SHA-256
of the bytes, :func:`archgym.trial.file_sha256`) identifies a proxy by
content, as trial keys do.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
import zlib
from typing import Any, Mapping

import numpy as np

from archgym.simulator import Simulator
from archgym.standin import FileBackend, check_identity, jsonable
from archgym.trial import file_sha256 as file_hash  # SHA-256 of the bytes: a proxy's identity

from .forest import FlatForest
from .proxy import ProxyModel, ProxyModelError, ProxySimulator

__all__ = ["FORMAT", "ProxyFileError", "ProxyMismatchError", "write_proxy", "read_proxy", "file_hash",
           "read_meta", "PROXY_FILES"]

FORMAT = "archgym-proxy/1"
_MAX_META_BYTES = 50_000_000
_STAMP = (1980, 1, 1, 0, 0, 0)


class ProxyFileError(ProxyModelError):
    """A file given as a proxy is not one (foreign format, damaged or edited)."""


class ProxyMismatchError(ProxyFileError):
    """A proxy file was made for another simulator, version, space, workload or options."""


def _npy_bytes(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.ascontiguousarray(a), allow_pickle=False)
    return buf.getvalue()


def _digest(meta_bytes: bytes, arrays: Mapping[str, np.ndarray]) -> str:
    h = hashlib.sha256(meta_bytes)
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def write_proxy(proxy: ProxySimulator, path: str | os.PathLike) -> str:
    """Write ``proxy`` to ``path``; return the file's SHA-256."""
    model = proxy.model
    arrays: dict[str, np.ndarray] = {"seen": model.seen_, **model.ensemble_.arrays()}
    meta = jsonable({
        "format": FORMAT,
        "simulator": proxy.identity,
        "options": proxy.options,
        "metrics": [m.to_dict() for m in proxy.metrics],
        "parameters": proxy.space.names,
        "reference_config": proxy.reference_config(),
        "reference_metrics": proxy.reference_metrics(),
        "model": {**model.get_params(), "n_train": model.n_train_},
        "log_targets": model.log_,
        "has_feasibility": model.has_feasibility_,
        "n_features": model.ensemble_.n_features,
        "provenance": proxy.provenance,
    })
    meta_bytes = json.dumps(meta, sort_keys=True, indent=1).encode()
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        def put(name: str, data: bytes) -> None:
            zf.writestr(zipfile.ZipInfo(name, date_time=_STAMP), data, compress_type=zipfile.ZIP_DEFLATED)

        put("meta.json", meta_bytes)
        for name in sorted(arrays):
            put(f"{name}.npy", _npy_bytes(arrays[name]))
        put("SHA256", _digest(meta_bytes, arrays).encode())
    return file_hash(path)


def _read(path: str) -> tuple[dict, dict[str, np.ndarray]]:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise ProxyFileError(f"{path!r} is not an archgym proxy file (expected {FORMAT}: arrays + JSON)") from None
    with zf:
        names = set(zf.namelist())
        if "meta.json" not in names or "SHA256" not in names:
            raise ProxyFileError(f"{path!r} is not an archgym proxy file (no meta.json/SHA256 entry)")
        try:
            if zf.getinfo("meta.json").file_size > _MAX_META_BYTES:
                raise ProxyFileError(f"{path!r}: meta.json is implausibly large")
            meta_bytes = zf.read("meta.json")
            meta = json.loads(meta_bytes)
            stored = zf.read("SHA256").decode("ascii").strip()
            arrays = {}
            for entry in sorted(names - {"meta.json", "SHA256"}):
                if not entry.endswith(".npy"):
                    raise ProxyFileError(f"{path!r}: unexpected entry {entry!r}")
                with zf.open(entry) as fh:
                    arrays[entry[:-4]] = np.lib.format.read_array(fh, allow_pickle=False)
        except ProxyFileError:
            raise
        except (ValueError, KeyError, UnicodeDecodeError, zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
            raise ProxyFileError(f"{path!r} is a damaged proxy file ({type(exc).__name__}: {exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        fmt = meta.get("format") if isinstance(meta, dict) else None
        raise ProxyFileError(f"{path!r} is not an archgym proxy file (format {fmt!r}, expected {FORMAT!r})")
    if _digest(meta_bytes, arrays) != stored:
        raise ProxyFileError(f"{path!r} was modified after it was written (content digest mismatch)")
    return meta, arrays


def read_meta(path: str | os.PathLike) -> dict:
    """The checked metadata of a proxy file (identity, options, model, provenance)."""
    return _read(os.fspath(path))[0]


def _check_identity(path: str, meta: dict, base: Simulator, options: Mapping[str, Any] | None) -> None:
    check_identity(path, meta, base, options, kind="proxy", verb="trained", error=ProxyMismatchError,
                   remedy="retrain it with `archgym proxy train`")


def read_proxy(path: str | os.PathLike, base: Simulator, options: Mapping[str, Any] | None = None) -> ProxySimulator:
    """Load a proxy file to stand in for ``base`` (see the module docstring)."""
    p = os.fspath(path)
    if not os.path.isfile(p):
        raise ProxyFileError(f"proxy file {p!r} does not exist")
    meta, arrays = _read(p)
    _check_identity(p, meta, base, options)
    try:
        params = {k: meta["model"][k] for k in ("model", "n_estimators", "min_samples_leaf", "max_features",
                                                 "log_targets", "random_state")}
        model = ProxyModel(**params)
        from archgym.features import SpaceEncoder

        model.encoder_ = SpaceEncoder(base.space)
        model.metric_names_ = base.metric_names
        model.log_ = {name: bool(meta["log_targets"][name]) for name in base.metric_names}
        model.has_feasibility_ = bool(meta["has_feasibility"])
        if int(meta["n_features"]) != model.encoder_.n_features:
            raise ValueError("ensemble feature count does not fit the space")
        model.ensemble_ = FlatForest.from_arrays(arrays, model.encoder_.n_features)
        if model.ensemble_.n_outputs != len(base.metric_names) + model.has_feasibility_:
            raise ValueError("ensemble outputs do not match the metrics")
        model.seen_ = arrays["seen"]
        if model.seen_.dtype != bool or model.seen_.shape != (int(base.space.nvec.sum()),):
            raise ValueError("seen-values mask does not fit the space")
        model.n_train_ = int(meta["model"]["n_train"])
        ref_cfg = base.space.validate(meta["reference_config"])
        ref_metrics = {k: float(meta["reference_metrics"][k]) for k in base.metric_names}
    except (KeyError, TypeError, ValueError) as exc:
        raise ProxyFileError(f"{p!r} is a malformed proxy file ({type(exc).__name__}: {exc})") from None
    return ProxySimulator(base, model, identity=meta["simulator"], options=meta.get("options", {}),
                          reference_config=ref_cfg, reference_metrics=ref_metrics,
                          provenance=meta.get("provenance", {}), content_hash=file_hash(p))


def _claims(path: str) -> bool:
    """A proxy file is a zip archive: it starts with ``PK``."""
    try:
        with open(path, "rb") as fh:
            return fh.read(2) == b"PK"
    except OSError:
        return False


#: the ``proxy`` entry of the ``archgym.backends`` entry-point group
PROXY_FILES = FileBackend("proxy", _claims, read_proxy)
