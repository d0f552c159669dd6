"""Idle fast-forward: a controller with nothing to do but refresh repeats itself every refresh interval.

While no request is buffered, queued or in flight, the refresh managers (and
the power-down manager) issue the same commands every tREFI, at the same
offsets: the state after one interval is the state before it with every
time moved on by tREFI and every counter raised by the same amount.  A trace
may leave the controller idle for any length of time (a request at cycle 0
and the next at cycle 10^12), and stepping through each refresh would cost
time proportional to the gap; instead, at each rank-0 refresh of an idle
controller the loop records the whole state (:func:`record`), and once the
last three records are equally spaced in every field -- no request taken in
between, the same commands at the same offsets -- it moves every field on by
a whole number of those intervals at once (:func:`advance`), stopping two
intervals short of the next request's arrival, which is then simulated step
by step.  The result is identical to stepping through (the dynamics depend on
differences of times only, and a field that changed by d per interval keeps
doing so while nothing but refresh happens); ``tests/test_dram.py`` checks it
against stepping.

A record is one row of ``ff``: ``now``, then ``ch``, ``bk``, ``rk``, ``lb``,
``lg``, ``lr`` and ``st`` flattened (:func:`.state.new_state` sizes it).
Times are controller clock cycles.
"""
from .layout import C_AQ_HEAD, C_AQ_TAIL, C_NDONE, C_NEXT_REQ, C_NTOT, C_PEND_FREE, R_ACTIVATED, R_BLOCKED, R_FLEX, R_REF_STATE


def quiet(ch):
    """True if no request is buffered, waiting at the arbiter or in flight."""
    return (ch[C_NTOT] == 0 and ch[C_AQ_HEAD] == ch[C_AQ_TAIL] and ch[C_NDONE] == ch[C_NEXT_REQ]
            and ch[C_PEND_FREE] == 0)


def _walk(ff, row, k, now, ch, bk, rk, lb, lg, lr, st):
    """``k == 0``: copy the state into record ``row``; else add ``k`` times the difference of
    the last two records (rows 1 and 2) to every field.  Returns ``now`` likewise."""
    j = 1
    for i in range(ch.shape[0]):
        if k == 0:
            ff[row, j] = ch[i]
        else:
            ch[i] += k * (ff[2, j] - ff[1, j])
        j += 1
    for a in (bk, rk, lb, lg, lr):
        for x in range(a.shape[0]):
            for y in range(a.shape[1]):
                if k == 0:
                    ff[row, j] = a[x, y]
                else:
                    a[x, y] += k * (ff[2, j] - ff[1, j])
                j += 1
    for i in range(st.shape[0]):
        if k == 0:
            ff[row, j] = st[i]
        else:
            st[i] += k * (ff[2, j] - ff[1, j])
        j += 1
    if k == 0:
        ff[row, 0] = now
        return now
    return now + k * (ff[2, 0] - ff[1, 0])


def record(count, now, ff, ch, bk, rk, lb, lg, lr, st):
    """Record the state as the newest of the last three records; returns how many
    consecutive records there are now (``count``: before this one)."""
    if count >= 3:
        for j in range(ff.shape[1]):
            ff[0, j] = ff[1, j]
            ff[1, j] = ff[2, j]
        count = 2
    _walk(ff, count, 0, now, ch, bk, rk, lb, lg, lr, st)
    return count + 1


def advance(count, now, arrival, refi, ff, ch, bk, rk, lb, lg, lr, st):
    """If the last three records are one refresh interval ``refi`` apart and equally spaced in
    every field, with no request taken and the refresh managers' counters unchanged, move the
    state on by as many whole intervals as end two intervals before ``arrival``; returns the
    new ``now`` (``now`` itself if not).  (A burst of pulled-in refreshes is equally spaced
    too, tRFC apart, but its counter moves towards its bound: it is not repeated.)"""
    if count < 3 or ff[2, 0] - ff[1, 0] != refi or ff[1, 0] - ff[0, 0] != refi:
        return now
    for j in range(ff.shape[1]):
        if ff[2, j] - ff[1, j] != ff[1, j] - ff[0, j]:
            return now
    if ff[2, 1 + C_NEXT_REQ] != ff[0, 1 + C_NEXT_REQ]:
        return now
    base = 1 + ch.shape[0] + bk.shape[0] * bk.shape[1]
    for row in (R_FLEX, R_REF_STATE, R_BLOCKED, R_ACTIVATED):
        for r in range(rk.shape[1]):
            if ff[2, base + row * rk.shape[1] + r] != ff[0, base + row * rk.shape[1] + r]:
                return now
    period = refi
    k = (arrival - now) // period - 2
    if k < 1:
        return now
    return _walk(ff, 0, k, now, ch, bk, rk, lb, lg, lr, st)
