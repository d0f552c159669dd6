"""Refresh manager: one per rank, all-bank refresh with postponing and pulling in.

Every tREFI a refresh is due (rank ``r`` first at REFI - r * ``T_REFI_RANK``).
While any bank machine of the rank is busy (holds a request, see
:mod:`.bankmachine`; on a saturated channel some machine nearly always does) a
due refresh is postponed, up to ``RefreshMaxPostponed`` times; then it is forced: the rank
is blocked for new ACT/CAS commands, precharged (PREA) if a bank is open, and
refreshed (REFA).  While idle, refreshes are pulled in, up to
``RefreshMaxPulledin`` ahead.  Times are controller clock cycles.

State per rank (``rk``): ``R_REF_STATE`` (0 regular, 1 pulled in), ``R_FLEX``
(postponed minus pulled-in refreshes), ``R_TRIG`` (next trigger),
``R_REF_CMD``/``R_REF_TIME`` (the command wanted now and its earliest cycle).
"""
from .drampower import flush, precharge_all, refresh
from .layout import (
    B_BUSY, B_DIRTY, B_KEEP, B_STATE, C_DIRTY, C_LAST_CMD, INF, K_MAXPOST, K_MAXPULL, K_REFRESH, LR_PREA, LR_REFA,
    NOP, PREA, R_ACTIVATED, R_BLOCKED, R_FLEX, R_REF_CMD, R_REF_STATE, R_REF_TIME, R_TRIG, REFA, S_NCMD,
    T_BANKS_PER_RANK, T_REFI,
)
from .timing import earliest_rank, occupy_bus


def plan(now, tv, dist, knobs, bk, rk, lr, ch):
    """Each rank's refresh command wanted at ``now``; returns the first rank whose
    command is legal now (-1: none).  A forced refresh blocks its rank and marks its
    bank machines for a new proposal."""
    bpr = tv[T_BANKS_PER_RANK]
    refi = tv[T_REFI]
    maxpost = knobs[K_MAXPOST]
    ready_rank = -1
    for r in range(rk.shape[1]):
        rk[R_REF_CMD, r] = NOP
        rk[R_REF_TIME, r] = INF
        if knobs[K_REFRESH] != 1 or now < rk[R_TRIG, r]:
            continue
        if now >= rk[R_TRIG, r] + refi:
            rk[R_TRIG, r] += refi
            rk[R_REF_STATE, r] = 0
        busy = False
        for b in range(r * bpr, (r + 1) * bpr):
            if bk[B_BUSY, b] == 1:
                busy = True
                break
        go = False
        if rk[R_REF_STATE, r] == 0:
            if rk[R_FLEX, r] == maxpost:
                if rk[R_BLOCKED, r] == 0:
                    rk[R_BLOCKED, r] = 1
                    for b in range(r * bpr, (r + 1) * bpr):
                        bk[B_DIRTY, b] = 1
                    ch[C_DIRTY] = 1
                go = True
            elif busy:
                rk[R_FLEX, r] += 1
                rk[R_TRIG, r] += refi
            else:
                go = True
        else:
            if busy:
                rk[R_REF_STATE, r] = 0
                rk[R_TRIG, r] += refi
            else:
                go = True
        if go:
            cmd = PREA if rk[R_ACTIVATED, r] > 0 else REFA
            rk[R_REF_CMD, r] = cmd
            rk[R_REF_TIME, r] = earliest_rank(cmd, r, now, dist, lr, ch)
            if rk[R_REF_TIME, r] == now and ready_rank < 0:
                ready_rank = r
    return ready_rank


def issue(r, now, tv, knobs, bk, rk, lr, ch, st):
    """Issue rank ``r``'s planned refresh command (PREA or REFA) at ``now``."""
    bpr = tv[T_BANKS_PER_RANK]
    cmd = rk[R_REF_CMD, r]
    flush(now, tv, st, ch, bk)
    if cmd == PREA:
        for b in range(r * bpr, (r + 1) * bpr):
            bk[B_STATE, b] = 0
            bk[B_KEEP, b] = 0
        rk[R_ACTIVATED, r] = 0
        lr[r, LR_PREA] = now
        precharge_all(r * bpr, (r + 1) * bpr, now, tv, st, ch, bk)
    else:
        lr[r, LR_REFA] = now
        rk[R_BLOCKED, r] = 0
        refresh(now, tv, st, ch)
        if rk[R_REF_STATE, r] == 1:
            rk[R_FLEX, r] -= 1
        else:
            rk[R_REF_STATE, r] = 1
        if rk[R_FLEX, r] == -knobs[K_MAXPULL]:
            rk[R_REF_STATE, r] = 0
            rk[R_TRIG, r] += tv[T_REFI]
    ch[C_LAST_CMD] = now
    occupy_bus(cmd, now, tv, ch)
    st[S_NCMD] += 1


def next_time(now, knobs, rk):
    """Earliest cycle a refresh command or trigger is due after ``now`` (``INF``: none)."""
    t = INF
    for r in range(rk.shape[1]):
        if rk[R_REF_CMD, r] != NOP:
            t = min(t, rk[R_REF_TIME, r])
        elif knobs[K_REFRESH] == 1 and rk[R_TRIG, r] > now:
            t = min(t, rk[R_TRIG, r])
    return t
