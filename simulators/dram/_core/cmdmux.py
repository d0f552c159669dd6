"""Command multiplexer: which bank machine's command goes on the bus this cycle.

"Oldest" (``CmdMux`` 0): among the proposed commands, the one whose
(earliest cycle + command-bus length, request id) is least; with separate
row and column buses (HBM) the best row command and the best column command,
then the one ready earlier (older request on a tie).  It is issued only if
it is legal now.  "Strict" (1; an extension, not in the searched space) also
holds back every CAS but the one of the oldest outstanding request
(``C_NEXT_CAS``).  Refresh and power-down commands go first (decided by the
loop).  Times are controller clock cycles.
"""
from .layout import B_CMD, B_PID, B_TIME, C_NEXT_CAS, INF, K_CMDMUX, NOP, RD, T_RASCAS
from .timing import D_CMD_LEN


def select(now, tv, dist, knobs, bk, ch):
    """The bank whose command issues at ``now``, or -1 if none is legal now.  A proposal
    earlier than ``now`` (kept from an earlier cycle) counts as legal at ``now``."""
    strict = knobs[K_CMDMUX] == 1
    rascas = tv[T_RASCAS] == 1
    best_key = INF
    best_pid = INF
    best_t = INF
    best_b = -1
    cbest_key = INF
    cbest_pid = INF
    cbest_t = INF
    cbest_b = -1
    for b in range(bk.shape[1]):
        c = bk[B_CMD, b]
        if c == NOP:
            continue
        pid = bk[B_PID, b]
        if strict and c >= RD and pid != ch[C_NEXT_CAS]:
            continue
        t = max(bk[B_TIME, b], now)
        key = t + dist[c, D_CMD_LEN]
        if rascas and c >= RD:
            if key < cbest_key or (key == cbest_key and pid < cbest_pid):
                cbest_key = key
                cbest_pid = pid
                cbest_t = t
                cbest_b = b
        elif key < best_key or (key == best_key and pid < best_pid):
            best_key = key
            best_pid = pid
            best_t = t
            best_b = b
    if cbest_b >= 0:
        if best_b < 0 or cbest_t < best_t or (cbest_t == best_t and cbest_pid < best_pid):
            best_b = cbest_b
            best_t = cbest_t
    if best_b >= 0 and best_t == now:
        return best_b
    return -1
