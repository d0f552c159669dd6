"""Response queue: requests leave the controller at most one per cycle.

``RespQueue`` Fifo (and the Fifo/Simple arbiters) return responses in data
completion order, i.e. CAS order (``rq``, a FIFO of request ids); Reorder
(or the Reorder arbiter) in request order (``C_NEXT_ID``).  A request's data
is complete at ``ready[id]`` (CAS + the protocol's read or write latency,
``INF`` until its CAS); its completion time is the cycle its response leaves
(``resp_cyc``).  Times are controller clock cycles.
"""
from .layout import C_NDONE, C_NEXT_ID, C_RESP_LAST, C_RQ_HEAD, C_RQ_TAIL, INF


def push(p, t, ch, ready, rq):
    """Request ``p``'s data is complete at ``t``; queue it in CAS order."""
    ready[p] = t
    rq[ch[C_RQ_TAIL]] = p
    ch[C_RQ_TAIL] += 1


def pop(now, in_order, ch, ready, rq, resp_cyc):
    """Send at most one response at ``now``; True if one left."""
    if ch[C_RESP_LAST] >= now:
        return False
    rid = -1
    if in_order:
        i = ch[C_NEXT_ID]
        if i < ready.shape[0] and ready[i] <= now:
            rid = i
            ch[C_NEXT_ID] += 1
    elif ch[C_RQ_HEAD] < ch[C_RQ_TAIL] and ready[rq[ch[C_RQ_HEAD]]] <= now:
        rid = rq[ch[C_RQ_HEAD]]
        ch[C_RQ_HEAD] += 1
    if rid < 0:
        return False
    resp_cyc[rid] = now
    ch[C_RESP_LAST] = now
    ch[C_NDONE] += 1
    return True


def next_time(in_order, ch, ready, rq):
    """Cycle at which the next response can leave (``INF``: none is known yet)."""
    if in_order:
        i = ch[C_NEXT_ID]
        if i < ready.shape[0] and ready[i] < INF:
            return max(ready[i], ch[C_RESP_LAST] + 1)
    elif ch[C_RQ_HEAD] < ch[C_RQ_TAIL]:
        return max(ready[rq[ch[C_RQ_HEAD]]], ch[C_RESP_LAST] + 1)
    return INF
