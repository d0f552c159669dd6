"""Power-down manager (``PowerDownPolicy`` Staggered), one for the channel.

When no request is buffered or waiting and no refresh is wanted, the channel
enters power-down (PDE) as soon as the last command and every burst are
complete: active power-down if a bank is open, else precharge power-down.  It
exits (PDX; tCKE after entry at the earliest) when a request arrives or a
refresh falls due; commands then wait tXP (tXP-to-ACT for an ACT, see
:mod:`.timing`).  DRAMSys's self-refresh step is not modelled.  Times are
controller clock cycles; power-down cycles go to ``st[S_APDC]``/``st[S_PPDC]``.
"""
from .layout import (
    C_AQ_HEAD, C_AQ_TAIL, C_HEAD_AVAIL, C_LAST_CMD, C_NTOT, C_PD_ACTIVE, C_PD_SINCE, C_PD_STATE, INF, K_PD, K_REFRESH,
    LR_PDX, LR_RD, LR_REFA, LR_WR, NOP, PDE, PDX, R_ACTIVATED, R_REF_CMD, R_TRIG, S_APDC, S_NCMD, S_NPDE, S_PPDC,
    T_BURST, T_CKE, T_CL, T_RFC, T_WL, T_WR, T_XP,
)
from .timing import occupy_bus


def entry_time(tv, lr, ch):
    """Earliest cycle at which the channel may power down: one cycle after the last
    command, after every burst and refresh, and tXP after the last power-down exit."""
    t = ch[C_LAST_CMD] + 1
    for r in range(lr.shape[0]):
        t = max(t, lr[r, LR_RD] + tv[T_CL] + tv[T_BURST] + 1)
        t = max(t, lr[r, LR_WR] + tv[T_WL] + tv[T_BURST] + tv[T_WR])
        t = max(t, lr[r, LR_REFA] + tv[T_RFC])
        t = max(t, lr[r, LR_PDX] + tv[T_XP])
    return t


def decide(now, tv, knobs, rk, lr, ch):
    """The power-down command to issue at ``now`` (PDE, PDX or NOP); before any other command."""
    if knobs[K_PD] != 1:
        return NOP
    want_wake = ch[C_NTOT] > 0 or (ch[C_AQ_HEAD] < ch[C_AQ_TAIL] and now >= ch[C_HEAD_AVAIL])
    for r in range(rk.shape[1]):
        if knobs[K_REFRESH] == 1 and now >= rk[R_TRIG, r]:
            want_wake = True
    if ch[C_PD_STATE] == 1 and want_wake:
        if now >= ch[C_PD_SINCE] + tv[T_CKE] and now >= ch[C_LAST_CMD] + 1:
            return PDX
    elif ch[C_PD_STATE] == 0 and not want_wake and ch[C_NTOT] == 0:
        if now >= entry_time(tv, lr, ch):
            for r in range(rk.shape[1]):
                if rk[R_REF_CMD, r] != NOP:
                    return NOP
            return PDE
    return NOP


def issue(cmd, now, tv, rk, lr, ch, st):
    """Issue PDE or PDX at ``now``."""
    if cmd == PDE:
        ch[C_PD_STATE] = 1
        ch[C_PD_SINCE] = now
        ch[C_PD_ACTIVE] = 0
        for r in range(rk.shape[1]):
            if rk[R_ACTIVATED, r] > 0:
                ch[C_PD_ACTIVE] = 1
        st[S_NPDE] += 1
    else:
        ch[C_PD_STATE] = 0
        count_cycles(now, ch, st)
        for r in range(lr.shape[0]):
            lr[r, LR_PDX] = now
    ch[C_LAST_CMD] = now
    occupy_bus(cmd, now, tv, ch)
    st[S_NCMD] += 1


def count_cycles(now, ch, st):
    """Add the cycles since the last PDE to the active or precharge power-down count."""
    if ch[C_PD_ACTIVE] == 1:
        st[S_APDC] += now - ch[C_PD_SINCE]
    else:
        st[S_PPDC] += now - ch[C_PD_SINCE]


def next_time(now, cmd, tv, knobs, lr, ch):
    """Earliest cycle after ``now`` at which the manager may act (``INF``: none);
    ``cmd`` is what :func:`decide` returned at ``now``."""
    if knobs[K_PD] != 1:
        return INF
    t = INF
    if cmd != NOP:
        t = now + 1
    if ch[C_PD_STATE] == 1:
        # powered down: a wake-up is due to an arrival or a refresh trigger (their own
        # events); only one refused for tCKE after the entry needs a step of its own
        if ch[C_PD_SINCE] + tv[T_CKE] > now:
            t = min(t, ch[C_PD_SINCE] + tv[T_CKE])
    elif ch[C_NTOT] == 0:
        t = min(t, entry_time(tv, lr, ch))
    return t
