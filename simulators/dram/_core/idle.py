"""Idle fast-forward: a controller with nothing to do but refresh repeats itself every refresh interval.

While no request is buffered, queued or in flight, the refresh managers (and
the power-down manager) issue the same commands every tREFI, at the same
offsets: the state after one interval is the state before it with every
time moved on by tREFI and every counter raised by the same amount.  A trace
may leave the controller idle for any length of time (a request at cycle 0
and the next at cycle 10^12), and stepping through each refresh would cost
time proportional to the gap; instead, at each rank-0 refresh of an idle
controller the loop records the whole state (:func:`after_refresh`), and once the
last three records are equally spaced in every field -- no request taken in
between, the same commands at the same offsets -- it moves every field on by
a whole number of those intervals at once, stopping two
intervals short of the next request's arrival, which is then simulated step
by step.  The result is identical to stepping through (the dynamics depend on
differences of times only, and a field that changed by d per interval keeps
doing so while nothing but refresh happens); ``tests/test_dram.py`` checks it
against stepping.

A record is one of the first three rows of ``ff``: ``now``, then ``ch``, ``rk``
and ``lr`` (views of one buffer, ``flat``, see :func:`.state.new_state`), then
``st``; ``ff[3, 0]`` counts the consecutive records.  The bank state (``bk``, ``lb``,
``lg``) is not recorded: while nothing is buffered and no auto-precharge is
pending, nothing changes it but the refresh's own precharge, which the rank's
open-bank count (in ``rk``) shows.
Times are controller clock cycles.
"""
from .layout import (
    C_AP_NEXT, C_AQ_HEAD, C_AQ_TAIL, C_ARRIVAL, C_NDONE, C_NEXT_REQ, C_NTOT, C_PEND_FREE, INF, R_ACTIVATED, R_BLOCKED,
    R_FLEX, R_REF_STATE, T_REFI,
)


def _quiet(ch):
    """True if no request is buffered, waiting at the arbiter or in flight, and no
    auto-precharge is pending (the bank machines then hold nothing that changes)."""
    return (ch[C_NTOT] == 0 and ch[C_AQ_HEAD] == ch[C_AQ_TAIL] and ch[C_NDONE] == ch[C_NEXT_REQ]
            and ch[C_PEND_FREE] == 0 and ch[C_AP_NEXT] == INF)


def _record(ff, row, now, flat, st):
    """Record the state (``flat``: ``ch``, ``rk``, ``lr``; then ``st``) in ``ff[row]``."""
    ff[row, 0] = now
    for i in range(flat.shape[0]):
        ff[row, 1 + i] = flat[i]
    m = 1 + flat.shape[0]
    for i in range(st.shape[0]):
        ff[row, m + i] = st[i]


def _advance(ff, k, now, flat, st):
    """Move every field on by ``k`` times its change between the last two records; returns
    ``now`` moved on likewise."""
    for i in range(flat.shape[0]):
        flat[i] += k * (ff[2, 1 + i] - ff[1, 1 + i])
    m = 1 + flat.shape[0]
    for i in range(st.shape[0]):
        st[i] += k * (ff[2, m + i] - ff[1, m + i])
    return now + k * (ff[2, 0] - ff[1, 0])


def _periodic(ff, refi, ch, rk):
    """True if the last three records are one interval ``refi`` apart, equally spaced in every
    field, with no request taken and the refresh managers' counters unchanged."""
    if ff[2, 0] - ff[1, 0] != refi or ff[1, 0] - ff[0, 0] != refi:
        return False
    for j in range(ff.shape[1]):
        if ff[2, j] - ff[1, j] != ff[1, j] - ff[0, j]:
            return False
    if ff[2, 1 + C_NEXT_REQ] != ff[0, 1 + C_NEXT_REQ]:
        return False
    base = 1 + ch.shape[0]
    for row in (R_FLEX, R_REF_STATE, R_BLOCKED, R_ACTIVATED):
        for r in range(rk.shape[1]):
            if ff[2, base + row * rk.shape[1] + r] != ff[0, base + row * rk.shape[1] + r]:
                return False
    return True


def after_refresh(now, n, tv, ff, flat, ch, rk, st):
    """Called after each rank-0 refresh command: record the state if the controller is idle
    and, once the last three records repeat every tREFI, move it on by as many whole
    intervals as end two intervals before the next request's arrival; returns the (possibly
    later) current cycle.  ``ff[3, 0]`` counts the consecutive records.  (A burst of
    pulled-in refreshes is equally spaced too, tRFC apart, but its counter moves towards its
    bound: it is not repeated.)"""
    count = ff[3, 0]
    if not _quiet(ch) or ch[C_NEXT_REQ] >= n:
        ff[3, 0] = 0
        return now
    if count >= 3:
        for j in range(ff.shape[1]):
            ff[0, j] = ff[1, j]
            ff[1, j] = ff[2, j]
        count = 2
    _record(ff, count, now, flat, st)
    ff[3, 0] = count + 1
    if count < 2 or not _periodic(ff, tv[T_REFI], ch, rk):
        return now
    k = (ch[C_ARRIVAL] - now) // tv[T_REFI] - 2
    if k < 1:
        return now
    ff[3, 0] = 0
    return _advance(ff, k, now, flat, st)
