"""Trace player and arbiter: when requests reach the controller.

Player: strictly in order.  Request ``i`` is sent at ``max(t_i, next
player-clock edge after END_REQ of i-1)`` (absolute STL) or ``edge + t_i``
(relative), and reaches the arbiter at the next controller-clock edge
(ceil).  Clock periods ``tck_ps``/``player_ps`` in ps; ``req_t`` in player
cycles; everything else in controller clock cycles.

Arbiter (``Arbiter``): Simple (0) forwards one request at a time and returns
END_REQ only when the controller accepted it (it ignores
MaxActiveTransactions); Fifo (1) and Reorder (2) accept up to
MaxActiveTransactions outstanding requests, return END_REQ at once and feed
the controller one request per cycle (``arbq``, a FIFO of request ids).  A
slot freed by a response admits the waiting request only after that cycle's
command decision (:func:`release`).
"""
from .layout import (
    C_ACTIVE, C_AQ_HEAD, C_AQ_TAIL, C_ARRIVAL, C_HEAD_AVAIL, C_LAST_ACC, C_NEXT_REQ, C_PEND_FREE, C_SPACE_BLOCKED, INF,
    K_ARBITER, K_MAXACT,
)
from .scheduler import has_space, store


def first_arrival(req_t, tck_ps, player_ps):
    """Controller cycle at which the first request arrives."""
    return (req_t[0] * player_ps + tck_ps - 1) // tck_ps


def arrival(e, i, req_t, tck_ps, player_ps, relative):
    """Controller cycle at which request ``i`` arrives, given END_REQ of ``i - 1`` at cycle ``e``."""
    edge = ((e * tck_ps) // player_ps + 1) * player_ps
    if relative:
        s = edge + req_t[i] * player_ps
    else:
        s = max(edge, req_t[i] * player_ps)
    return (s + tck_ps - 1) // tck_ps


def _accepts(knobs, ch):
    """True if the arbiter can take the player's next request."""
    if knobs[K_ARBITER] == 0:
        return ch[C_AQ_HEAD] == ch[C_AQ_TAIL]
    return ch[C_ACTIVE] < knobs[K_MAXACT]


def take(now, knobs, ch, arbq, send_cyc, req_t, tck_ps, player_ps, relative):
    """The arbiter takes the player's next request if it has arrived and there is room."""
    nxt = ch[C_NEXT_REQ]
    if nxt >= req_t.shape[0] or now < ch[C_ARRIVAL] or not _accepts(knobs, ch):
        return
    if ch[C_AQ_HEAD] == ch[C_AQ_TAIL]:
        ch[C_HEAD_AVAIL] = max(now, ch[C_LAST_ACC] + 1)
    arbq[ch[C_AQ_TAIL]] = nxt
    ch[C_AQ_TAIL] += 1
    ch[C_SPACE_BLOCKED] = 0
    send_cyc[nxt] = ch[C_ARRIVAL]
    if knobs[K_ARBITER] != 0:
        ch[C_ACTIVE] += 1
        if nxt + 1 < req_t.shape[0]:
            ch[C_ARRIVAL] = arrival(now, nxt + 1, req_t, tck_ps, player_ps, relative)
    ch[C_NEXT_REQ] = nxt + 1


def forward(now, knobs, q, ch, bk, arbq, req_t, req_bank, req_w, tck_ps, player_ps, relative):
    """The controller accepts the arbiter's head request if the scheduler's buffer has room."""
    if ch[C_AQ_HEAD] >= ch[C_AQ_TAIL] or now < ch[C_HEAD_AVAIL]:
        return
    space = has_space(knobs, ch, bk)
    ch[C_SPACE_BLOCKED] = 0 if space else 1
    if not space:
        return
    r = arbq[ch[C_AQ_HEAD]]
    ch[C_AQ_HEAD] += 1
    store(r, req_bank[r], req_w[r], q, ch, bk)
    ch[C_LAST_ACC] = now
    ch[C_HEAD_AVAIL] = now + 1 if ch[C_AQ_HEAD] < ch[C_AQ_TAIL] else INF
    if knobs[K_ARBITER] == 0 and ch[C_NEXT_REQ] < req_t.shape[0]:
        ch[C_ARRIVAL] = arrival(now, ch[C_NEXT_REQ], req_t, tck_ps, player_ps, relative)


def release(ch):
    """Free the slots of this cycle's responses (a later delta cycle of the same clock)."""
    ch[C_ACTIVE] -= ch[C_PEND_FREE]
    ch[C_PEND_FREE] = 0


def next_time(knobs, ch, n):
    """Earliest cycle at which a request can move (``INF``: none); ``n`` requests in the trace."""
    t = INF
    if ch[C_NEXT_REQ] < n and _accepts(knobs, ch):
        t = ch[C_ARRIVAL]
    if ch[C_AQ_HEAD] < ch[C_AQ_TAIL] and ch[C_SPACE_BLOCKED] == 0:
        # a head refused for lack of buffer space waits for a CAS to free a slot
        # (the bank machines' next command times cover that)
        t = min(t, ch[C_HEAD_AVAIL])
    return t
