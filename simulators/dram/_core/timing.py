"""Bank and timing state: DRAMSys's timing checker and the command bus.

The checker keeps, per bank (``lb``), bank group (``lg``) and rank (``lr``),
the cycle of the last command of each kind (columns ``LB_*``, ``LG_*``,
``LR_*``), and the last four ACTs of each rank (the four-activate window).
A command is legal at the earliest cycle that is at least every such last
time plus the distance the protocol requires from that command kind to this
one, and at which its command bus is free.  All times are
controller clock cycles; last times start at ``NEG`` and only grow.

The distances come from the ``tv`` vector (:mod:`..protocols`), laid out by
:func:`distance_table` (plain numpy, once per trace) as ``dist[cmd, column]``
over the columns bank (``LB_*``), then group (``D_GROUP + LG_*``), then rank
(``D_RANK + LR_*``), then the four-activate window (``D_FAW``); ``NONE``
where one command does not constrain another.  Each row of ``lb``/``lg``/
``lr`` and of ``dist`` is contiguous, so the checker reads them as short
vectors.
"""
import numpy as np

from .layout import (
    ACT, C_BUS_COL, C_BUS_ROW, C_LAST_IC, C_LAST_IG, C_LAST_IRK, C_LAST_IT, LB_ACT, LB_LEN, LB_PRE, LB_RD, LB_RDA,
    LB_WR, LB_WRA, LG_ACT, LG_LEN, LG_RD, LG_WR, LR_ACT, LR_FAW, LR_FAWI, LR_FAWN, LR_PDX, LR_PRE, LR_PREA, LR_RD,
    LR_RDA, LR_REFA, LR_WR, LR_WRA, PRE, PREA, RD, RDA, REFA, T_ACT_PRE, T_ACT_RD, T_ACT_REF, T_ACT_WR, T_CCD_L,
    T_CCD_S, T_FAW, T_LEN_ACT, T_LEN_CAS, T_LEN_PRE, T_LEN_REF, T_PDX_ACT, T_PRE_ACT, T_PRE_PRE, T_PRE_REF, T_PREA_ACT,
    T_PREA_REF, T_RASCAS, T_RC, T_RD_PRE, T_RD_WR, T_RDA_ACT, T_RDA_REF, T_REF_ACT, T_RFC, T_RRD_L, T_RRD_S, T_WR_PRE,
    T_WR_RD_L, T_WR_RD_S, T_WR_RDA, T_WRA_ACT, T_WRA_REF, T_XP, WR, WRA,
)

NONE = -(1 << 50)             # a distance that never binds (last times are >= NEG = -2**40)
D_GROUP = LB_LEN               # first group column of the distance table
D_RANK = D_GROUP + LG_LEN     # first rank column
D_FAW = D_RANK + LR_PDX + 1   # the four-activate window: from the oldest of the rank's last four ACTs
D_CMD_LEN = D_FAW + 1          # not a distance: the command's command-bus cycles (:func:`cmd_len`)
D_LEN = D_CMD_LEN + 1

#: (later command, earlier command's column, tv index of the distance): DRAMSys 4.0's checkers
_RULES = (
    [(RD, c, t) for c, t in ((LB_ACT, T_ACT_RD), (D_GROUP + LG_RD, T_CCD_L), (D_RANK + LR_RD, T_CCD_S),
                             (D_GROUP + LG_WR, T_WR_RD_L), (D_RANK + LR_WR, T_WR_RD_S), (D_RANK + LR_PDX, T_XP))]
    + [(WR, c, t) for c, t in ((LB_ACT, T_ACT_WR), (D_RANK + LR_RD, T_RD_WR), (D_GROUP + LG_WR, T_CCD_L),
                               (D_RANK + LR_WR, T_CCD_S), (D_RANK + LR_PDX, T_XP))]
    + [(ACT, c, t) for c, t in ((LB_ACT, T_RC), (D_GROUP + LG_ACT, T_RRD_L), (D_RANK + LR_ACT, T_RRD_S),
                                (LB_RDA, T_RDA_ACT), (LB_WRA, T_WRA_ACT), (LB_PRE, T_PRE_ACT),
                                (D_RANK + LR_PREA, T_PREA_ACT), (D_RANK + LR_REFA, T_REF_ACT),
                                (D_RANK + LR_PDX, T_PDX_ACT), (D_FAW, T_FAW))]
    + [(PRE, c, t) for c, t in ((LB_ACT, T_ACT_PRE), (LB_RD, T_RD_PRE), (LB_WR, T_WR_PRE), (D_RANK + LR_PRE, T_PRE_PRE),
                                (D_RANK + LR_PDX, T_XP))]
    + [(PREA, c, t) for c, t in ((D_RANK + LR_ACT, T_ACT_PRE), (D_RANK + LR_RD, T_RD_PRE), (D_RANK + LR_WR, T_WR_PRE),
                                 (D_RANK + LR_PRE, T_PRE_PRE), (D_RANK + LR_PDX, T_XP))]
    + [(REFA, c, t) for c, t in ((D_RANK + LR_ACT, T_ACT_REF), (D_RANK + LR_RDA, T_RDA_REF),
                                 (D_RANK + LR_WRA, T_WRA_REF), (D_RANK + LR_PRE, T_PRE_REF),
                                 (D_RANK + LR_PREA, T_PREA_REF), (D_RANK + LR_REFA, T_RFC), (D_RANK + LR_PDX, T_XP))]
)


def distance_table(tv: np.ndarray) -> np.ndarray:
    """``dist[cmd, column]`` (cycles) from timing vector ``tv`` (plain numpy, not compiled).

    RDA and WRA obey RD's and WR's distances; an RDA also waits tWR - tRTP
    (``T_WR_RDA``) after a WR to its own bank.
    """
    d = np.full((REFA + 1, D_LEN), NONE, np.int64)
    for cmd, col, t in _RULES:
        d[cmd, col] = tv[t]
    d[RDA] = d[RD]
    d[RDA, LB_WR] = tv[T_WR_RDA]
    d[WRA] = d[WR]
    for cmd in range(ACT, REFA + 1):
        d[cmd, D_CMD_LEN] = cmd_len(cmd, tv)
    return d


def earliest_rank(cmd, r, now, dist, lr, ch):
    """Earliest cycle >= ``now`` at which ``cmd`` is legal as far as rank ``r``'s last commands,
    its four-activate window and the command bus go: the whole answer for PREA and REFA."""
    t = max(now, ch[C_BUS_COL] if cmd >= RD and cmd <= WRA else ch[C_BUS_ROW])
    for k in range(LR_PDX + 1):
        t = max(t, lr[r, k] + dist[cmd, D_RANK + k])
    if lr[r, LR_FAWN] >= 4:
        t = max(t, lr[r, LR_FAW + lr[r, LR_FAWI]] + dist[cmd, D_FAW])
    return t


def earliest(cmd, b, g, r, now, dist, lb, lg, lr, ch):
    """Earliest cycle >= ``now`` at which bank command ``cmd`` (ACT, PRE, RD, RDA, WR, WRA)
    on bank ``b`` (group ``g``, rank ``r``) is legal."""
    t = earliest_rank(cmd, r, now, dist, lr, ch)
    for k in range(LB_LEN):
        t = max(t, lb[b, k] + dist[cmd, k])
    for k in range(LG_LEN):
        t = max(t, lg[g, k] + dist[cmd, D_GROUP + k])
    return t


def retime(t, cmd, g, r, dist, lr, ch):
    """:func:`earliest` of ``cmd`` (group ``g``, rank ``r``, a bank other than the last
    command's), updated after the last bank command (``ch[C_LAST_*]``): the previous
    result ``t`` raised by the distances from the last times that command set.  Equal to
    a full recomputation, since last times only grow.  Refresh and power-down commands
    are not handled here (they re-plan every bank).
    """
    ic = ch[C_LAST_IC]
    it = ch[C_LAST_IT]
    t = max(t, it)
    if r == ch[C_LAST_IRK]:
        if ic == ACT:
            rank_col, group_col = LR_ACT, LG_ACT
        elif ic == PRE:
            rank_col, group_col = LR_PRE, -1
        elif ic == RD or ic == RDA:
            rank_col, group_col = LR_RD, LG_RD
        else:
            rank_col, group_col = LR_WR, LG_WR
        t = max(t, it + dist[cmd, D_RANK + rank_col])
        if ic == RDA:
            t = max(t, it + dist[cmd, D_RANK + LR_RDA])
        elif ic == WRA:
            t = max(t, it + dist[cmd, D_RANK + LR_WRA])
        if group_col >= 0 and g == ch[C_LAST_IG]:
            t = max(t, it + dist[cmd, D_GROUP + group_col])
        if ic == ACT and lr[r, LR_FAWN] >= 4:
            t = max(t, lr[r, LR_FAW + lr[r, LR_FAWI]] + dist[cmd, D_FAW])
    return max(t, ch[C_BUS_COL] if cmd >= RD and cmd <= WRA else ch[C_BUS_ROW])


def cmd_len(cmd, tv):
    """Command-bus cycles taken by ``cmd``."""
    if cmd == ACT:
        return tv[T_LEN_ACT]
    if cmd == PRE or cmd == PREA:
        return tv[T_LEN_PRE]
    if cmd == REFA:
        return tv[T_LEN_REF]
    if cmd >= RD and cmd <= WRA:
        return tv[T_LEN_CAS]
    return 1


def occupy_bus(cmd, now, tv, ch):
    """Mark the command bus busy for ``cmd`` issued at ``now`` (both buses on a single-bus standard)."""
    free = now + cmd_len(cmd, tv)
    if tv[T_RASCAS] == 0:
        ch[C_BUS_ROW] = free
        ch[C_BUS_COL] = free
    elif cmd >= RD and cmd <= WRA:
        ch[C_BUS_COL] = free
    else:
        ch[C_BUS_ROW] = free


def record(cmd, b, g, r, now, lb, lg, lr):
    """Record bank command ``cmd`` (ACT, PRE, RD, RDA, WR or WRA) issued at ``now`` on bank ``b``."""
    if cmd == ACT:
        lb[b, LB_ACT] = now
        lg[g, LG_ACT] = now
        lr[r, LR_ACT] = now
        i = lr[r, LR_FAWI]
        lr[r, LR_FAW + i] = now
        lr[r, LR_FAWI] = (i + 1) % 4
        if lr[r, LR_FAWN] < 4:
            lr[r, LR_FAWN] += 1
    elif cmd == PRE:
        lb[b, LB_PRE] = now
        lr[r, LR_PRE] = now
    else:                                   # a CAS; LB_RD .. LB_WRA follow the command codes RD .. WRA
        lb[b, LB_RD + cmd - RD] = now
        write = cmd >= WR
        lg[g, LG_WR if write else LG_RD] = now
        lr[r, LR_WR if write else LR_RD] = now
        if cmd == RDA or cmd == WRA:
            lr[r, LR_WRA if write else LR_RDA] = now
