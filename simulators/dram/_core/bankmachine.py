"""Bank machines: one per bank, each proposes one command per cycle under the page policy.

A machine serves the scheduler's pick (:func:`.scheduler.pick`); after an ACT
it keeps its request unless the scheduler offers another hit to the open row
(``B_KEEP``).  Its command: ACT on a precharged bank, the CAS on a row hit,
PRE on a miss; no ACT or CAS while a forced refresh blocks the rank.  The
CAS auto-precharges (RDA/WRA) under ``PagePolicy``: Open (0) never;
OpenAdaptive (1) when more requests wait but none is another hit; Closed (2)
always; ClosedAdaptive (3) unless another hit waits.  A machine is busy for
the refresh manager while it holds a request (``B_BUSY``, DRAMSys's
``currentPayload``): from its next proposal while its bank has a queued
request until that request's CAS.

Proposals are recomputed only for banks whose own state or queue changed
(``B_DIRTY``); the others keep their command, and after a command elsewhere
only have their earliest cycle raised (:func:`retime`).  A kept proposal
may be earlier than the current cycle: it is legal now.  Times are
controller clock cycles.
"""
from .drampower import bank_command, flush
from .layout import (
    ACT, B_BUSY, B_CMD, B_CUR, B_DIRTY, B_GROUP, B_KEEP, B_OROW, B_PID, B_QN, B_STATE, B_TIME, C_BANK_NEXT,
    C_BANK_STALE, C_DIRTY, C_LAST_CMD, C_LAST_DIR, C_LAST_IC, C_LAST_IG, C_LAST_IRK, C_LAST_IT, C_PD_STATE, INF, K_PAGE,
    K_SCHED, NOP, PRE, R_ACTIVATED, R_BLOCKED, RD, RDA, S_NCMD, S_PROPOSE, T_BANKS_PER_RANK, T_RD_DATA, T_WR_DATA, WR,
    WRA,
)
from .response import push
from .scheduler import further_hit, pick, remove
from .timing import earliest, occupy_bus, record
from .timing import retime as retime_one


def propose(now, tv, dist, knobs, q, bk, lb, lg, lr, rk, ch, st, req_bg, req_row, req_w, req_addr):
    """New proposals (``bk[B_CMD/B_TIME/B_PID, b]``) of the bank machines whose state or queue
    changed (``B_DIRTY``; ``ch[C_DIRTY]``: any of them), legal at ``now`` at the earliest.

    The others keep theirs: :func:`retime` has raised them after every bank command since,
    and a proposal earlier than the current cycle means the current cycle.
    """
    if ch[C_DIRTY] == 0:
        return
    ch[C_DIRTY] = 0
    for b in range(bk.shape[1]):
        if bk[B_DIRTY, b] == 1:
            propose_one(b, now, tv, dist, knobs, q, bk, lb, lg, lr, rk, ch, st, req_bg, req_row, req_w, req_addr)


def retime(bk, dist, lr, ch, bpr):
    """After a bank command (``ch[C_LAST_*]``), raise every other proposal's earliest cycle
    by the constraints that command added (:func:`.timing.retime`); dirty banks propose anew."""
    ch[C_BANK_STALE] = 1
    for b in range(bk.shape[1]):
        c = bk[B_CMD, b]
        if c != NOP and bk[B_DIRTY, b] == 0:
            bk[B_TIME, b] = retime_one(bk[B_TIME, b], c, bk[B_GROUP, b], b // bpr, dist, lr, ch)


def settle(now, after_command, tv, dist, knobs, q, bk, lb, lg, lr, rk, ch, st, req_bg, req_row, req_w, req_addr):
    """End of a step: :func:`propose` (for cycle ``now`` at the earliest) and, if
    ``after_command``, :func:`retime`, in one pass; returns the earliest proposal's cycle
    (``INF``: none), kept exact in ``ch[C_BANK_NEXT]``."""
    if ch[C_DIRTY] == 0 and not after_command and ch[C_BANK_STALE] == 0:
        return ch[C_BANK_NEXT]
    ch[C_DIRTY] = 0
    bpr = tv[T_BANKS_PER_RANK]
    t = INF
    for b in range(bk.shape[1]):
        if bk[B_DIRTY, b] == 1:
            propose_one(b, now, tv, dist, knobs, q, bk, lb, lg, lr, rk, ch, st, req_bg, req_row, req_w, req_addr)
        elif after_command and bk[B_CMD, b] != NOP:
            bk[B_TIME, b] = retime_one(bk[B_TIME, b], bk[B_CMD, b], bk[B_GROUP, b], b // bpr, dist, lr, ch)
        if bk[B_CMD, b] != NOP and bk[B_TIME, b] < t:
            t = bk[B_TIME, b]
    ch[C_BANK_NEXT] = t
    ch[C_BANK_STALE] = 0
    return t


def propose_one(b, now, tv, dist, knobs, q, bk, lb, lg, lr, rk, ch, st, req_bg, req_row, req_w, req_addr):
    """Bank ``b``'s machine proposes its command and the earliest cycle >= ``now`` it is legal."""
    bpr = tv[T_BANKS_PER_RANK]
    page = knobs[K_PAGE]
    sched = knobs[K_SCHED]
    bk[B_DIRTY, b] = 0
    st[S_PROPOSE] += 1
    bk[B_CMD, b] = NOP
    ch[C_BANK_STALE] = 1
    if ch[C_PD_STATE] == 1:
        return
    r = pick(b, sched, ch[C_LAST_DIR], q, bk, req_row, req_w, req_addr)
    if r < 0:
        bk[B_BUSY, b] = 0
        return
    if bk[B_KEEP, b] == 1:
        if req_row[r] == bk[B_OROW, b]:
            bk[B_CUR, b] = r
    else:
        bk[B_CUR, b] = r
    bk[B_BUSY, b] = 1
    p = bk[B_CUR, b]
    rank = b // bpr
    c = NOP
    if bk[B_STATE, b] == 0:
        if rk[R_BLOCKED, rank] == 0:
            c = ACT
    elif req_row[p] == bk[B_OROW, b]:
        if rk[R_BLOCKED, rank] == 0:
            auto = False
            if page == 1:
                auto = bk[B_QN, b] >= 2 and not further_hit(b, sched, q, bk, req_row)
            elif page == 2:
                auto = True
            elif page == 3:
                auto = not further_hit(b, sched, q, bk, req_row)
            if req_w[p] == 1:
                c = WRA if auto else WR
            else:
                c = RDA if auto else RD
    elif bk[B_KEEP, b] == 0:
        c = PRE
    if c != NOP:
        bk[B_CMD, b] = c
        bk[B_TIME, b] = earliest(c, b, req_bg[p], rank, now, dist, lb, lg, lr, ch)
        bk[B_PID, b] = p
        bk[B_GROUP, b] = req_bg[p]
        ch[C_BANK_NEXT] = min(ch[C_BANK_NEXT], bk[B_TIME, b])


def issue(b, now, tv, eparams, q, bk, lb, lg, lr, rk, ch, st, ready, rq, req_bg, req_row, req_w):
    """Issue bank ``b``'s proposed command at ``now``; True if it was a CAS (its request
    then leaves the buffer for the response queue)."""
    c = bk[B_CMD, b]
    p = bk[B_PID, b]
    g = req_bg[p]
    rank = b // tv[T_BANKS_PER_RANK]
    ch[C_LAST_IC] = c
    ch[C_LAST_IG] = g
    ch[C_LAST_IRK] = rank
    ch[C_LAST_IT] = now
    flush(now, tv, st, ch, bk)
    ch[C_LAST_CMD] = now
    occupy_bus(c, now, tv, ch)
    st[S_NCMD] += 1
    record(c, b, g, rank, now, lb, lg, lr)
    bank_command(c, b, now, tv, eparams, st, ch, bk, lb)
    if c == ACT:
        bk[B_STATE, b] = 1
        bk[B_OROW, b] = req_row[p]
        bk[B_KEEP, b] = 1
        rk[R_ACTIVATED, rank] += 1
        return False
    if c == PRE:
        bk[B_STATE, b] = 0
        bk[B_KEEP, b] = 0
        rk[R_ACTIVATED, rank] -= 1
        return False
    bk[B_KEEP, b] = 0
    bk[B_BUSY, b] = 0
    if c == RDA or c == WRA:
        bk[B_STATE, b] = 0
        rk[R_ACTIVATED, rank] -= 1
    remove(b, p, req_w[p], q, ch, bk)
    push(p, now + (tv[T_RD_DATA] if c == RD or c == RDA else tv[T_WR_DATA]), ch, ready, rq)
    return True


def replan_all(bk, ch):
    """Every bank machine must propose again (after a refresh or power-down command)."""
    for b in range(bk.shape[1]):
        bk[B_DIRTY, b] = 1
    ch[C_DIRTY] = 1
