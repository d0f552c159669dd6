"""One math thread per process (see DESIGN.md, "Threads").

On 2-core machines the default thread pools of OpenBLAS/OpenMP/MKL and torch
oversubscribe badly (a scikit-learn fit measured 170x slower).  Importing
``archgym`` sets the usual variables to 1 *unless the user already set them*;
they take effect only if numpy has not been imported yet, so worker processes
(sweeps, benchmarks) call :func:`limit_threads` on start, which also caps pools
that are already loaded (threadpoolctl) and torch.
"""
from __future__ import annotations

import os
import sys

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")

for _var in THREAD_VARS:
    os.environ.setdefault(_var, "1")


def limit_threads(n: int = 1) -> None:
    """Cap every math thread pool of this process at ``n`` threads."""
    for var in THREAD_VARS:
        os.environ[var] = str(n)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(n)
    except Exception:  # threadpoolctl missing or no pools loaded
        pass
    if "torch" in sys.modules:
        try:
            sys.modules["torch"].set_num_threads(n)
        except Exception:
            pass
