"""Math threads: one per process, set by entry points, never by ``import archgym``.

On 2-core machines the default thread pools of OpenBLAS/OpenMP/MKL and torch
oversubscribe badly (a scikit-learn fit measured 170x slower).  Parallelism in
archgym comes from processes (sweep workers), so each process should run its
math on one thread.  Who sets what:

* **Entry points** -- the ``archgym`` command, sweep workers, benchmark
  scripts -- call :func:`limit_threads` first thing.  It sets the usual
  environment variables (inherited by child processes; read by numpy's BLAS
  only if numpy is not loaded yet), caps pools already loaded (threadpoolctl)
  and torch's intra-op pool.  It changes the process for good: that is what an
  entry point wants.
* **The library** sets nothing at import: a notebook user's BLAS is theirs.
  Where archgym itself runs math in a user's process (a searcher's model fit,
  an RL run), it wraps that work in :func:`math_threads`, which caps the
  pools for the duration and restores them afterwards.
"""
from __future__ import annotations

import contextlib
import os
import sys
from typing import Iterator

__all__ = ["THREAD_VARS", "limit_threads", "math_threads"]

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


def limit_threads(n: int = 1) -> None:
    """Cap every math thread pool of this process at ``n`` threads, for good
    (entry points only; see the module docstring)."""
    for var in THREAD_VARS:
        os.environ[var] = str(n)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(n)
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        pass
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(n)


@contextlib.contextmanager
def math_threads(n: int = 1) -> Iterator[None]:
    """Run the body with every loaded math pool (BLAS/OpenMP via threadpoolctl,
    torch if imported) capped at ``n`` threads; restore the previous limits after."""
    from threadpoolctl import threadpool_limits

    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch is not None else None
    if torch is not None:
        torch.set_num_threads(n)
    try:
        with threadpool_limits(n):
            yield
    finally:
        if torch is not None and before is not None:
            torch.set_num_threads(before)
