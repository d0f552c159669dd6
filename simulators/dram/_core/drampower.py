"""DRAMPower's command analysis: the counters :mod:`..energy` turns into energy.

Counts commands and background cycles as DRAMPower 4 does inside DRAMSys
4.0 (controller clock cycles): a bank is "active" for DRAMPower from its ACT
to its precharge, an auto-precharge (RDA/WRA) is counted at
max(CAS + offset, ACT + tRAS) and applied in time order before any later
command, a refresh counts as active for tRFC - tRP, and the energy window
ends at the last command's completion (its time-to-completion - 1).

State: ``ch[C_DP_NACT]`` banks active, ``ch[C_DP_FIRST_ACT]`` start of the
current active period, ``ch[C_DP_LAST_PRE]`` end of the last one;
per bank ``bk[B_DP_ACTIVE, b]`` and the pending auto-precharge
``bk[B_AP, b]`` (-1: none; ``ch[C_AP_NEXT]``: the earliest pending, ``INF``: none).
"""
from .layout import (
    ACT, B_AP, B_DP_ACTIVE, C_AP_NEXT, C_DP_FIRST_ACT, C_DP_LAST_PRE, C_DP_NACT, INF, LB_ACT, PRE, RD, RDA, S_ACTC, S_LAST,
    S_NACT, S_NPRE, S_NRD, S_NREF, S_NWR, S_PREC, S_WEND, T_BURST, T_CL, T_DQSCK, T_RAS, T_RCD, T_RFC, T_RP, T_WL, T_WR,
    WRA,
)


def mark(st, t, end):
    """A command at ``t`` whose completion ends at cycle ``end`` (``t`` + DRAMPower's
    time-to-completion - 1): move the end of the energy window.  The window follows the
    latest command; among commands at the same cycle, the latest completion."""
    if t > st[S_LAST]:
        st[S_LAST] = t
        st[S_WEND] = end
    elif t == st[S_LAST] and end > st[S_WEND]:
        st[S_WEND] = end


def _close_bank(b, t, st, ch, bk):
    """Bank ``b`` stops being active at ``t`` (if it was)."""
    if bk[B_DP_ACTIVE, b] == 1:
        bk[B_DP_ACTIVE, b] = 0
        ch[C_DP_NACT] -= 1
        st[S_NPRE] += 1
        if ch[C_DP_NACT] == 0:
            st[S_ACTC] += t - ch[C_DP_FIRST_ACT]
            ch[C_DP_LAST_PRE] = t


def _first_due(t, bk):
    """The bank whose pending auto-precharge is earliest among those due at or before ``t`` (-1: none)."""
    first = -1
    for b in range(bk.shape[1]):
        if bk[B_AP, b] >= 0 and bk[B_AP, b] <= t and (first < 0 or bk[B_AP, b] < bk[B_AP, first]):
            first = b
    return first


def flush(t, tv, st, ch, bk):
    """Apply the pending auto-precharges due at or before ``t``, earliest first."""
    if t < ch[C_AP_NEXT]:
        return
    while True:
        b = _first_due(t, bk)
        if b < 0:
            break
        tb = bk[B_AP, b]
        bk[B_AP, b] = -1
        _close_bank(b, tb, st, ch, bk)
        mark(st, tb, tb + tv[T_RP] - 1)
    nxt = INF
    for b in range(bk.shape[1]):
        if bk[B_AP, b] >= 0 and bk[B_AP, b] < nxt:
            nxt = bk[B_AP, b]
    ch[C_AP_NEXT] = nxt


def bank_command(cmd, b, now, tv, eparams, st, ch, bk, lb):
    """Count bank command ``cmd`` at ``now``; ``eparams`` = [RDA, WRA] auto-precharge offsets.

    Pending auto-precharges must have been flushed up to ``now``; for RDA/WRA
    ``lb[b, LB_ACT]`` is the ACT that opened the row.
    """
    if cmd == ACT:
        if ch[C_DP_NACT] == 0:
            st[S_PREC] += now - ch[C_DP_LAST_PRE]
            ch[C_DP_FIRST_ACT] = now
        if bk[B_DP_ACTIVE, b] == 0:
            bk[B_DP_ACTIVE, b] = 1
            ch[C_DP_NACT] += 1
        st[S_NACT] += 1
        mark(st, now, now + tv[T_RCD] - 1)
    elif cmd == PRE:
        _close_bank(b, now, st, ch, bk)
        mark(st, now, now + tv[T_RP] - 1)
    else:
        if cmd == RD or cmd == RDA:
            st[S_NRD] += 1
            mark(st, now, now + tv[T_CL] + tv[T_DQSCK] + tv[T_BURST])
            offset = eparams[0]
        else:
            st[S_NWR] += 1
            mark(st, now, now + tv[T_WL] + tv[T_BURST] + tv[T_WR] - 1)
            offset = eparams[1]
        if cmd == RDA or cmd == WRA:
            bk[B_AP, b] = max(now + offset, lb[b, LB_ACT] + tv[T_RAS])
            ch[C_AP_NEXT] = min(ch[C_AP_NEXT], bk[B_AP, b])


def precharge_all(first, last, now, tv, st, ch, bk):
    """Count a PREA at ``now`` closing banks ``first`` .. ``last - 1``."""
    for b in range(first, last):
        _close_bank(b, now, st, ch, bk)
    mark(st, now, now + tv[T_RP] - 1)


def refresh(now, tv, st, ch):
    """Count a REFA at ``now`` (active for tRFC - tRP)."""
    st[S_NREF] += 1
    rfc_rp = tv[T_RFC] - tv[T_RP]
    if ch[C_DP_NACT] == 0:
        st[S_PREC] += max(0, now - ch[C_DP_LAST_PRE])
    ch[C_DP_LAST_PRE] = now + rfc_rp
    st[S_ACTC] += rfc_rp
    mark(st, now, now - 1)


def close_window(tv, st, ch, bk):
    """End of the run: apply every pending auto-precharge and close the energy window."""
    flush(INF - 1, tv, st, ch, bk)
    t_end = max(st[S_WEND], 0)
    st[S_WEND] = t_end
    if ch[C_DP_NACT] > 0:
        st[S_ACTC] += max(0, t_end - ch[C_DP_FIRST_ACT])
    else:
        st[S_PREC] += max(0, t_end - ch[C_DP_LAST_PRE])
