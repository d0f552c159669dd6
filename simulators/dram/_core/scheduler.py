"""Scheduler and its buffer: admission of requests and the pick of each bank machine.

Buffer (``SchedulerBuffer``, ``RequestBufferSize`` = ``bufsize``):

* Bankwise (0): room if the bank of the *last stored* request holds fewer
  than ``bufsize`` requests (DRAMSys tests that bank, not the new request's);
* ReadWrite (1): room if fewer than ``bufsize`` reads and fewer than
  ``bufsize`` writes are stored;
* Shared (2): room if fewer than ``bufsize`` requests are stored.

Requests wait in per-bank queues ``q`` (oldest first; ``bk[B_QN, b]`` long).
The pick (``Scheduler``) for bank ``b``: Fifo (0) the oldest request; FrFcfs
(1) the oldest hit to the open row, else the oldest; FrFcfsGrp (2) the oldest
hit in the last CAS direction without an address hazard (an older hit to the
same address), else the oldest hit, else the oldest.  A precharged bank always
takes the oldest.  Request fields come from the trace arrays ``req_*``.
"""
from .layout import (
    B_DIRTY, B_OROW, B_QN, B_STATE, C_DIRTY, C_LAST_BANK, C_LAST_DIR, C_NEXT_CAS, C_NRD, C_NTOT, C_NWR, K_BUFKIND, K_BUFSIZE,
)


def has_space(knobs, ch, bk):
    """True if the buffer can store one more request."""
    bufsize = knobs[K_BUFSIZE]
    kind = knobs[K_BUFKIND]
    if kind == 0:
        return bk[B_QN, ch[C_LAST_BANK]] < bufsize
    if kind == 1:
        return ch[C_NRD] < bufsize and ch[C_NWR] < bufsize
    return ch[C_NTOT] < bufsize


def store(r, b, is_write, q, ch, bk):
    """Store request ``r`` (bank ``b``) at the end of its bank's queue."""
    q[b, bk[B_QN, b]] = r
    bk[B_QN, b] += 1
    ch[C_NTOT] += 1
    if is_write == 1:
        ch[C_NWR] += 1
    else:
        ch[C_NRD] += 1
    ch[C_LAST_BANK] = b
    bk[B_DIRTY, b] = 1
    ch[C_DIRTY] = 1


def remove(b, p, is_write, q, ch, bk):
    """Take request ``p`` out of bank ``b``'s queue after its CAS: it leaves the buffer,
    sets the CAS direction (FrFcfsGrp) and moves request order on (CmdMux Strict)."""
    k = 0
    while q[b, k] != p:
        k += 1
    while k < bk[B_QN, b] - 1:
        q[b, k] = q[b, k + 1]
        k += 1
    bk[B_QN, b] -= 1
    ch[C_NTOT] -= 1
    if is_write == 1:
        ch[C_NWR] -= 1
    else:
        ch[C_NRD] -= 1
    ch[C_LAST_DIR] = is_write
    ch[C_NEXT_CAS] += 1


def pick(b, sched, last_dir, q, bk, req_row, req_w, req_addr):
    """The request bank ``b``'s machine should serve (-1: its queue is empty)."""
    n = bk[B_QN, b]
    if n == 0:
        return -1
    if sched == 0 or bk[B_STATE, b] == 0:
        return q[b, 0]
    orow = bk[B_OROW, b]
    r0 = -1
    for i in range(n):
        r = q[b, i]
        if req_row[r] == orow:
            if sched == 1:
                return r
            if r0 < 0:
                r0 = r
            if req_w[r] == last_dir:
                hazard = False
                for j in range(i):
                    rj = q[b, j]
                    if req_row[rj] == orow and req_addr[rj] == req_addr[r]:
                        hazard = True
                        break
                if not hazard:
                    return r
    if r0 >= 0:
        return r0
    return q[b, 0]


def further_hit(b, sched, q, bk, req_row):
    """True if the scheduler can offer bank ``b`` another hit to its open row after the
    current one (Fifo: the second-oldest request is a hit; else two hits are queued)."""
    orow = bk[B_OROW, b]
    if sched == 0:
        return bk[B_QN, b] >= 2 and req_row[q[b, 1]] == orow
    c = 0
    for i in range(bk[B_QN, b]):
        if req_row[q[b, i]] == orow:
            c += 1
            if c >= 2:
                return True
    return False
