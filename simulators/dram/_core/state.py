"""The core's fresh state arrays (plain numpy; built once per run, outside the compiled kernel)."""
from __future__ import annotations

import numpy as np

from .layout import (
    B_AP, B_CUR, B_DIRTY, B_LEN, B_OROW, C_AP_NEXT, C_BANK_NEXT, C_BUS_COL, C_BUS_ROW, C_DIRTY, C_HEAD_AVAIL, C_LAST_ACC, C_LAST_CMD, C_LEN, C_RESP_LAST,
    INF, LB_LEN, LG_LEN, LR_FAWI, LR_FAWN, LR_LEN, NEG, R_LEN, R_REF_TIME, R_TRIG, S_LEN, T_BANKS_PER_RANK, T_REFI,
    T_REFI_RANK,
)

__all__ = ["new_state"]


def new_state(tv: np.ndarray, nbanks: int, ngroups: int, bufsize: int, n: int) -> tuple[np.ndarray, ...]:
    """``(ch, bk, rk, lb, lg, lr, q, ready, rq, arbq, ff, flat)`` for ``nbanks`` banks in ``ngroups``
    groups (all ranks), a buffer of ``bufsize`` and ``n`` requests (see :mod:`.layout`): every bank
    precharged and due a proposal, no command issued yet, rank ``r``'s first refresh due at
    REFI - r * ``T_REFI_RANK`` (cycles).  ``ch``, ``rk`` and ``lr`` are views of one buffer,
    ``flat``, which :mod:`.idle` records and moves on as a whole; ``ff`` holds its records."""
    nranks = max(1, nbanks // int(tv[T_BANKS_PER_RANK]))
    flat = np.zeros(C_LEN + R_LEN * nranks + nranks * LR_LEN, np.int64)
    ch = flat[:C_LEN]
    rk = flat[C_LEN:C_LEN + R_LEN * nranks].reshape(R_LEN, nranks)
    lr = flat[C_LEN + R_LEN * nranks:].reshape(nranks, LR_LEN)
    ch[[C_BUS_ROW, C_BUS_COL, C_LAST_CMD, C_RESP_LAST, C_LAST_ACC]] = NEG
    ch[C_HEAD_AVAIL] = INF
    ch[C_AP_NEXT] = INF
    ch[C_BANK_NEXT] = INF
    bk = np.zeros((B_LEN, nbanks), np.int64)
    bk[[B_OROW, B_CUR, B_AP]] = -1
    bk[B_DIRTY] = 1
    ch[C_DIRTY] = 1
    rk[R_REF_TIME] = INF
    rk[R_TRIG] = tv[T_REFI] - np.arange(nranks) * tv[T_REFI_RANK]
    lb = np.full((nbanks, LB_LEN), NEG, np.int64)
    lg = np.full((ngroups, LG_LEN), NEG, np.int64)
    lr[:] = NEG
    lr[:, [LR_FAWN, LR_FAWI]] = 0
    q = np.zeros((nbanks, 2 * bufsize + 4), np.int64)
    ff = np.zeros((4, 1 + flat.size + S_LEN), np.int64)
    return (ch, bk, rk, lb, lg, lr, q, np.full(n, INF, np.int64), np.zeros(n, np.int64), np.zeros(n, np.int64),
            ff, flat)
