"""The controller + device core loop, written in a numba-compatible subset.

Everything here works on flat numpy arrays and integers only (no objects,
no dicts), so the same source runs as plain Python and, when numba is
importable, compiled with ``numba.njit`` (see :mod:`.controller`).  Do not
import this module's functions directly: use :func:`.controller.run`.

Model (DRAMSys 4.0 as ArchGym runs it; all times in controller clock cycles):

* Trace player: strictly in order.  Request ``i`` is sent at
  ``max(t_i, next player-clock edge after END_REQ of i-1)`` (absolute STL) or
  ``edge + t_i`` (relative), and reaches the controller at the next
  controller-clock edge (ceil).
* Arbiter: ``Simple`` forwards one request at a time and returns END_REQ only
  when the controller accepted it (ignores MaxActiveTransactions);
  ``Fifo``/``Reorder`` accept up to MaxActiveTransactions outstanding
  requests, return END_REQ at once and feed the controller one request per
  cycle; ``Reorder`` returns responses in request order.  A slot freed by a
  response admits the waiting request only after that clock's command
  decision (it arrives in a later SystemC delta cycle), so it can still issue
  a command in the same clock only if none was issued.
* Admission (SchedulerBuffer/RequestBufferSize): Bankwise tests the bank of
  the *last stored* request (DRAMSys's quirk), ReadWrite needs room for both a
  read and a write, Shared counts all requests.
* One bank machine per bank proposes one command per cycle from its
  scheduler pick (Fifo: head of the bank queue; FrFcfs: first row hit, else
  head; FrFcfsGrp: first row hit in the last CAS direction without an
  address hazard, else first hit, else head) under the page policy.  After an
  ACT the machine keeps its request unless the scheduler offers another hit
  to the open row.  A bank machine that has once held a request stays
  "busy" for the refresh manager (DRAMSys never clears the pointer after a
  CAS), so on a loaded channel refreshes are postponed up to
  RefreshMaxPostponed times and then forced, and pull-in never happens once
  traffic started.
* Command mux "Oldest": among commands legal now, the one whose request is
  oldest (refresh first); one command per cycle on the command bus.  "Strict"
  (an extension, not in the searched space) also forces CAS commands into
  request order.
* Responses leave the controller at most one per cycle, in data-completion
  order (RespQueue Fifo) or request order (Reorder); the completion time of a
  request is when its response leaves.
* Energy counters follow DRAMPower's command analysis: auto-precharge of
  RDA/WRA counted at max(CAS + offset, ACT + tRAS), active/precharged
  background cycles, refresh counted active for tRFC - tRP, and the energy
  window ending at the last command's completion (its timeToCompletion - 1).
* Power-down "Staggered": when no request is pending the rank enters
  active/precharge power-down (PDEA/PDEP) as soon as legal and exits (PDXA/PDXP,
  tXP) when a request arrives or a refresh is due.  DRAMSys's self-refresh
  step is not modelled (see the package README for the affected cases).
"""
import numpy as np

NEG = -(1 << 40)
INF = 1 << 62

# command codes
NOP = 0
ACT = 1
PRE = 2
RD = 3
RDA = 4
WR = 5
WRA = 6
PREA = 7
REFA = 8
PDE = 9
PDX = 10

# timing vector layout (cycles): the standard's JEDEC-style timings (TIMING_KEYS order) ...
T_CL = 0
T_WL = 1
T_RCD = 2
T_RP = 3
T_RAS = 4
T_RC = 5
T_RRD_S = 6
T_RRD_L = 7
T_FAW = 8
T_CCD_S = 9
T_CCD_L = 10
T_WR = 11
T_WTR_S = 12
T_WTR_L = 13
T_RTP = 14
T_RFC = 15
T_REFI = 16
T_XP = 17
T_CKE = 18
T_DQSCK = 19
T_BURST = 20
# ... then the command-to-command distances DRAMSys's checker applies for this
# protocol (see .protocols), "a_b" = earliest b after a, in cycles
T_ACT_RD = 21
T_ACT_WR = 22
T_WR_RD_L = 23
T_WR_RD_S = 24
T_WR_RDA = 25
T_RD_WR = 26
T_RDA_ACT = 27
T_WRA_ACT = 28
T_PRE_ACT = 29
T_PREA_ACT = 30
T_REF_ACT = 31
T_ACT_PRE = 32
T_RD_PRE = 33
T_WR_PRE = 34
T_PRE_PRE = 35
T_ACT_REF = 36
T_RDA_REF = 37
T_WRA_REF = 38
T_PRE_REF = 39
T_PREA_REF = 40
T_RD_DATA = 41      # CAS to the end of its data on the strobe (response time)
T_WR_DATA = 42
T_LEN_ACT = 43      # command-bus cycles per command
T_LEN_PRE = 44
T_LEN_CAS = 45
T_LEN_REF = 46
T_RASCAS = 47       # 1: separate row and column command buses (HBM)
T_BANKS_PER_RANK = 48
T_PDX_ACT = 49
T_REFI_RANK = 50    # refresh offset between ranks (first trigger of rank r: REFI - r * this)
T_LEN = 51

# knob vector layout (see .knobs.encode_mcconfig)
K_PAGE = 0
K_SCHED = 1
K_BUFKIND = 2
K_BUFSIZE = 3
K_RESP = 4
K_REFRESH = 5
K_MAXPOST = 6
K_MAXPULL = 7
K_ARBITER = 8
K_MAXACT = 9
K_PD = 10
K_CMDMUX = 11

# rank "last command" vector layout
L_ACT = 0
L_RD = 1
L_WR = 2
L_PRE = 3
L_PREA = 4
L_REFA = 5
L_RDA = 6
L_WRA = 7
L_PDX = 8

# stats vector layout
S_NACT = 0
S_NPRE = 1
S_NRD = 2
S_NWR = 3
S_NREF = 4
S_ACTC = 5
S_PREC = 6
S_WEND = 7
S_LAST = 8
S_APDC = 9
S_PPDC = 10
S_NCMD = 11
S_NPDE = 12
S_ITER = 13      # event-loop iterations (profiling)
S_PROPOSE = 14   # bank-machine proposals computed (profiling)
S_LEN = 16


def _earliest(cmd, b, g, rk, now, tv, lb, lg, lr, faw, fawn, fawi, bus):
    """Earliest cycle >= now at which ``cmd`` on bank ``b`` (group ``g``, rank ``rk``) is legal.

    ``lb``: per-bank last times [ACT, PRE, RD, RDA, WR, WRA]; ``lg``: per-group
    [ACT, RDany, WRany]; ``lr``: per-rank ``L_*`` times; ``faw``/``fawn``/``fawi``:
    per-rank ring of the last four ACTs; ``bus``: first free cycle of the
    [row, column] command bus (the same value twice on a single-bus standard).
    """
    t = now
    if cmd == RD or cmd == RDA:
        t = max(t, lb[b, 0] + tv[T_ACT_RD])
        t = max(t, lg[g, 1] + tv[T_CCD_L])
        t = max(t, lr[rk, L_RD] + tv[T_CCD_S])
        t = max(t, lg[g, 2] + tv[T_WR_RD_L])
        t = max(t, lr[rk, L_WR] + tv[T_WR_RD_S])
        if cmd == RDA:
            t = max(t, lb[b, 4] + tv[T_WR_RDA])
        t = max(t, lr[rk, L_PDX] + tv[T_XP])
        t = max(t, bus[1])
    elif cmd == WR or cmd == WRA:
        t = max(t, lb[b, 0] + tv[T_ACT_WR])
        t = max(t, lr[rk, L_RD] + tv[T_RD_WR])
        t = max(t, lg[g, 2] + tv[T_CCD_L])
        t = max(t, lr[rk, L_WR] + tv[T_CCD_S])
        t = max(t, lr[rk, L_PDX] + tv[T_XP])
        t = max(t, bus[1])
    elif cmd == ACT:
        t = max(t, lb[b, 0] + tv[T_RC])
        t = max(t, lg[g, 0] + tv[T_RRD_L])
        t = max(t, lr[rk, L_ACT] + tv[T_RRD_S])
        t = max(t, lb[b, 3] + tv[T_RDA_ACT])
        t = max(t, lb[b, 5] + tv[T_WRA_ACT])
        t = max(t, lb[b, 1] + tv[T_PRE_ACT])
        t = max(t, lr[rk, L_PREA] + tv[T_PREA_ACT])
        t = max(t, lr[rk, L_REFA] + tv[T_REF_ACT])
        t = max(t, lr[rk, L_PDX] + tv[T_PDX_ACT])
        if fawn[rk] >= 4:
            t = max(t, faw[rk, fawi[rk]] + tv[T_FAW])
        t = max(t, bus[0])
    elif cmd == PRE:
        t = max(t, lb[b, 0] + tv[T_ACT_PRE])
        t = max(t, lb[b, 2] + tv[T_RD_PRE])
        t = max(t, lb[b, 4] + tv[T_WR_PRE])
        t = max(t, lr[rk, L_PRE] + tv[T_PRE_PRE])
        t = max(t, lr[rk, L_PDX] + tv[T_XP])
        t = max(t, bus[0])
    elif cmd == PREA:
        t = max(t, lr[rk, L_ACT] + tv[T_ACT_PRE])
        t = max(t, lr[rk, L_RD] + tv[T_RD_PRE])
        t = max(t, lr[rk, L_WR] + tv[T_WR_PRE])
        t = max(t, lr[rk, L_PRE] + tv[T_PRE_PRE])
        t = max(t, lr[rk, L_PDX] + tv[T_XP])
        t = max(t, bus[0])
    elif cmd == REFA:
        t = max(t, lr[rk, L_ACT] + tv[T_ACT_REF])
        t = max(t, lr[rk, L_RDA] + tv[T_RDA_REF])
        t = max(t, lr[rk, L_WRA] + tv[T_WRA_REF])
        t = max(t, lr[rk, L_PRE] + tv[T_PRE_REF])
        t = max(t, lr[rk, L_PREA] + tv[T_PREA_REF])
        t = max(t, lr[rk, L_REFA] + tv[T_RFC])
        t = max(t, lr[rk, L_PDX] + tv[T_XP])
        t = max(t, bus[0])
    return t


def _retime(t, cmd, g, rk, ic, ig, irk, now, tv, faw, fawn, fawi, bus):
    """:func:`_earliest` of ``cmd`` (group ``g``, rank ``rk``, another bank) updated
    incrementally after command ``ic`` was issued at ``now`` on group ``ig``, rank
    ``irk``: the previous result ``t`` raised by every term ``ic`` changed
    (the checker's "last" times only grow, so this equals a full recomputation).
    Refresh and power-down commands are not handled here (they re-plan every bank).
    """
    t = max(t, now)
    if rk == irk:
        same_g = g == ig
        if cmd == RD or cmd == RDA:
            if ic == RD or ic == RDA:
                t = max(t, now + tv[T_CCD_S])
                if same_g:
                    t = max(t, now + tv[T_CCD_L])
            elif ic == WR or ic == WRA:
                t = max(t, now + tv[T_WR_RD_S])
                if same_g:
                    t = max(t, now + tv[T_WR_RD_L])
        elif cmd == WR or cmd == WRA:
            if ic == RD or ic == RDA:
                t = max(t, now + tv[T_RD_WR])
            elif ic == WR or ic == WRA:
                t = max(t, now + tv[T_CCD_S])
                if same_g:
                    t = max(t, now + tv[T_CCD_L])
        elif cmd == ACT:
            if ic == ACT:
                t = max(t, now + tv[T_RRD_S])
                if same_g:
                    t = max(t, now + tv[T_RRD_L])
                if fawn[rk] >= 4:
                    t = max(t, faw[rk, fawi[rk]] + tv[T_FAW])
        elif cmd == PRE:
            if ic == PRE:
                t = max(t, now + tv[T_PRE_PRE])
    if cmd >= RD and cmd <= WRA:
        t = max(t, bus[1])
    else:
        t = max(t, bus[0])
    return t


def _cmd_len(cmd, tv):
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


def _occupy_bus(cmd, now, tv, bus):
    """Mark the command bus busy for ``cmd`` issued at ``now``."""
    free = now + _cmd_len(cmd, tv)
    if tv[T_RASCAS] == 0:
        bus[0] = free
        bus[1] = free
    elif cmd >= RD and cmd <= WRA:
        bus[1] = free
    else:
        bus[0] = free


def _rank_last(lr, k):
    """Latest ``lr[:, k]`` over all ranks (channel-wide view for power-down)."""
    t = lr[0, k]
    for r in range(1, lr.shape[0]):
        if lr[r, k] > t:
            t = lr[r, k]
    return t


def _dp_mark(st, t, ttc):
    """Track DRAMPower's last command (for the end of the energy window)."""
    if t > st[S_LAST]:
        st[S_LAST] = t
        st[S_WEND] = t + ttc - 1
    elif t == st[S_LAST] and t + ttc - 1 > st[S_WEND]:
        st[S_WEND] = t + ttc - 1


def _dp_pre(st, dp, bact, t, b, RP):
    """DRAMPower PRE on bank b at t.  dp = [num_active, first_act, last_pre]."""
    if bact[b] == 1:
        bact[b] = 0
        dp[0] -= 1
        st[S_NPRE] += 1
        if dp[0] == 0:
            st[S_ACTC] += t - dp[1]
            dp[2] = t
    _dp_mark(st, t, RP)


def _dp_flush(st, dp, bact, ap, t, RP, ap_n):
    """Apply pending auto-precharges with time <= t, in time order; returns how many remain."""
    while ap_n > 0:
        bb = -1
        tb = INF
        for b in range(ap.shape[0]):
            if ap[b] >= 0 and ap[b] <= t and ap[b] < tb:
                tb = ap[b]
                bb = b
        if bb < 0:
            return ap_n
        ap[bb] = -1
        ap_n -= 1
        _dp_pre(st, dp, bact, tb, bb, RP)
    return ap_n


def _pick(b, q, qn, state, orow, req_row, req_w, req_addr, sched, last_dir):
    """Scheduler: request the bank machine of bank b should serve (-1 if none)."""
    n = qn[b]
    if n == 0:
        return -1
    if sched == 0 or state[b] == 0:
        return q[b, 0]
    r0 = -1
    for i in range(n):
        r = q[b, i]
        if req_row[r] == orow[b]:
            if sched == 1:
                return r
            if r0 < 0:
                r0 = r
            if req_w[r] == last_dir:
                hazard = False
                for j in range(i):
                    rj = q[b, j]
                    if req_row[rj] == orow[b] and req_addr[rj] == req_addr[r]:
                        hazard = True
                        break
                if not hazard:
                    return r
    if r0 >= 0:
        return r0
    return q[b, 0]


def _further_hit(b, q, qn, orow, req_row, sched):
    if sched == 0:
        return qn[b] >= 2 and req_row[q[b, 1]] == orow[b]
    c = 0
    for i in range(qn[b]):
        if req_row[q[b, i]] == orow[b]:
            c += 1
            if c >= 2:
                return True
    return False


def _next_arrival(e, i, req_t, tck_ps, player_ps, relative):
    """Controller cycle at which request i arrives, given END_REQ of i-1 at cycle e (e < 0: first)."""
    if e < 0:
        s = req_t[i] * player_ps
    else:
        edge = ((e * tck_ps) // player_ps + 1) * player_ps
        if relative:
            s = edge + req_t[i] * player_ps
        else:
            s = max(edge, req_t[i] * player_ps)
    return (s + tck_ps - 1) // tck_ps


def simulate_core(req_t, req_w, req_bank, req_bg, req_row, req_addr, tv, nbanks, ngroups,
                  tck_ps, player_ps, relative, knobs, eparams, send_cyc, resp_cyc, st):
    """Run the whole trace; fill ``send_cyc``/``resp_cyc`` (cycles) and the stats vector ``st``.

    ``req_bank``/``req_bg`` are channel-wide indices (rank-major: bank
    ``r * banks_per_rank + ...``); ``nbanks``/``ngroups`` count all ranks.
    ``tv`` is the ``T_*`` timing vector, ``knobs`` the ``K_*`` knob vector.
    eparams = [rda_offset, wra_offset]  (DRAMPower auto-precharge offsets, cycles)
    Returns 0 on success, -1 on a deadlock (a bug guard).
    """
    n = req_t.shape[0]
    for k in range(st.shape[0]):
        st[k] = 0
    if n == 0:
        return 0
    CL = tv[T_CL]
    WL = tv[T_WL]
    RCD = tv[T_RCD]
    RP = tv[T_RP]
    RAS = tv[T_RAS]
    RFC = tv[T_RFC]
    REFI = tv[T_REFI]
    CKE = tv[T_CKE]
    DQSCK = tv[T_DQSCK]
    BUR = tv[T_BURST]
    RD_DATA = tv[T_RD_DATA]
    WR_DATA = tv[T_WR_DATA]
    rascas = tv[T_RASCAS] == 1
    bpr = tv[T_BANKS_PER_RANK]
    nranks = max(1, nbanks // bpr)
    page = knobs[K_PAGE]
    sched = knobs[K_SCHED]
    bufkind = knobs[K_BUFKIND]
    bufsize = knobs[K_BUFSIZE]
    respk = knobs[K_RESP]
    refresh_on = knobs[K_REFRESH]
    maxpost = knobs[K_MAXPOST]
    maxpull = -knobs[K_MAXPULL]
    arbk = knobs[K_ARBITER]
    maxact = knobs[K_MAXACT]
    pdk = knobs[K_PD]
    strict = knobs[K_CMDMUX]
    next_cas = 0
    if arbk == 0:
        maxact = 1 << 30
    in_order = respk == 1 or arbk == 2
    rda_off = eparams[0]
    wra_off = eparams[1]

    # ---- controller state -------------------------------------------------
    cap = 2 * bufsize + 4
    q = np.zeros((nbanks, cap), np.int64)
    qn = np.zeros(nbanks, np.int64)
    n_rd = 0
    n_wr = 0
    n_tot = 0
    last_bank = 0
    state = np.zeros(nbanks, np.int64)        # 0 precharged, 1 active
    orow = np.full(nbanks, -1, np.int64)
    keep = np.zeros(nbanks, np.int64)
    cur = np.full(nbanks, -1, np.int64)
    blocked = np.zeros(nranks, np.int64)
    touched = np.zeros(nbanks, np.int64)      # bank machine has held a request
    bcmd = np.zeros(nbanks, np.int64)
    dirty = np.ones(nbanks, np.int64)
    changed = True
    btime = np.zeros(nbanks, np.int64)
    bpid = np.zeros(nbanks, np.int64)
    last_dir = 0
    activated = np.zeros(nranks, np.int64)
    # checker
    lb = np.full((nbanks, 6), NEG, np.int64)
    lg = np.full((ngroups, 3), NEG, np.int64)
    lr = np.full((nranks, 9), NEG, np.int64)
    faw = np.full((nranks, 4), NEG, np.int64)
    fawn = np.zeros(nranks, np.int64)
    fawi = np.zeros(nranks, np.int64)
    bus = np.full(2, NEG, np.int64)
    clen = np.ones(PDX + 1, np.int64)
    for c in range(PDX + 1):
        clen[c] = _cmd_len(c, tv)
    last_cmd = NEG
    # refresh managers (one per rank)
    rm_state = np.zeros(nranks, np.int64)  # 0 regular, 1 pulled-in
    flex = np.zeros(nranks, np.int64)
    trig = np.zeros(nranks, np.int64)
    for r in range(nranks):
        trig[r] = REFI - r * tv[T_REFI_RANK]
    rm_cmd = np.zeros(nranks, np.int64)
    rm_time = np.full(nranks, INF, np.int64)
    # power-down (staggered): 0 awake, 1 powered down
    pd_state = 0
    pd_since = 0
    pd_active = 0
    # responses
    ready = np.full(n, INF, np.int64)
    rq = np.zeros(n, np.int64)                # fifo of CAS order
    rq_h = 0
    rq_t = 0
    next_id = 0
    resp_last = NEG
    ndone = 0
    # arbiter / player
    arbq = np.zeros(n, np.int64)
    aq_h = 0
    aq_t = 0
    head_avail = INF
    ctrl_last_acc = NEG
    active = 0
    nxt = 0
    p_arr = _next_arrival(-1, 0, req_t, tck_ps, player_ps, relative)
    # DRAMPower tracking
    dp = np.zeros(3, np.int64)
    bact = np.zeros(nbanks, np.int64)
    ap = np.full(nbanks, -1, np.int64)
    ap_n = 0                                  # pending auto-precharges in ap
    st[S_LAST] = NEG
    st[S_WEND] = 0

    now = p_arr
    last_ic = NOP
    last_ig = 0
    last_irk = 0
    last_it = 0
    space_blocked = False
    rerun = False
    pend_free = 0
    last_progress = now
    stall_limit = 1000000 + 20 * REFI
    while True:
        st[S_ITER] += 1
        if rerun:
            # a later delta cycle of the same clock: the slot freed by this cycle's
            # response lets the arbiter admit the waiting request only now, after
            # this cycle's command decision
            rerun = False
            active -= pend_free
            pend_free = 0
        # (1) responses: at most one per cycle
        if resp_last < now:
            rid = -1
            if in_order:
                if next_id < n and ready[next_id] <= now:
                    rid = next_id
                    next_id += 1
            elif rq_h < rq_t and ready[rq[rq_h]] <= now:
                rid = rq[rq_h]
                rq_h += 1
            if rid >= 0:
                resp_cyc[rid] = now
                resp_last = now
                ndone += 1
                if arbk != 0:
                    pend_free += 1
                if ndone == n:
                    break
        # (2a) arbiter takes the player's request
        if nxt < n and now >= p_arr:
            if (arbk == 0 and aq_h == aq_t) or (arbk != 0 and active < maxact):
                if aq_h == aq_t:
                    head_avail = max(now, ctrl_last_acc + 1)
                arbq[aq_t] = nxt
                aq_t += 1
                space_blocked = False
                send_cyc[nxt] = p_arr
                if arbk != 0:
                    active += 1
                    if nxt + 1 < n:
                        p_arr = _next_arrival(now, nxt + 1, req_t, tck_ps, player_ps, relative)
                nxt += 1
        # (2b)/(5b) controller accepts the arbiter's head (twice: before and after a CAS)
        issued_cas = False
        issued = False
        for phase in range(2):
            if phase == 1 and not issued_cas:
                break
            if aq_h < aq_t and now >= head_avail:
                if bufkind == 0:
                    space = qn[last_bank] < bufsize
                elif bufkind == 1:
                    space = n_rd < bufsize and n_wr < bufsize
                else:
                    space = n_tot < bufsize
                space_blocked = not space
                if space:
                    r = arbq[aq_h]
                    aq_h += 1
                    b = req_bank[r]
                    q[b, qn[b]] = r
                    qn[b] += 1
                    n_tot += 1
                    if req_w[r] == 1:
                        n_wr += 1
                    else:
                        n_rd += 1
                    last_bank = b
                    dirty[b] = 1
                    ctrl_last_acc = now
                    if aq_h < aq_t:
                        head_avail = now + 1
                    else:
                        head_avail = INF
                    if arbk == 0 and nxt < n:
                        p_arr = _next_arrival(now, nxt, req_t, tck_ps, player_ps, relative)
            if phase == 0:
                # (4) bank machines propose commands (state as of their last start())
                for b in range(nbanks):
                    if dirty[b] == 0:
                        # the bank's own state and queue are unchanged, so is its
                        # proposal; a command elsewhere can only delay it
                        if bcmd[b] != NOP:
                            if changed:
                                btime[b] = max(now, _retime(btime[b], bcmd[b], req_bg[bpid[b]], b // bpr, last_ic,
                                                            last_ig, last_irk, last_it, tv, faw, fawn, fawi, bus))
                            elif btime[b] < now:
                                btime[b] = now
                        continue
                    dirty[b] = 0
                    st[S_PROPOSE] += 1
                    bcmd[b] = NOP
                    if pd_state == 1:
                        continue
                    r = _pick(b, q, qn, state, orow, req_row, req_w, req_addr, sched, last_dir)
                    if r < 0:
                        continue
                    if keep[b] == 1:
                        if req_row[r] == orow[b]:
                            cur[b] = r
                    else:
                        cur[b] = r
                    touched[b] = 1
                    p = cur[b]
                    rk = b // bpr
                    c = NOP
                    if state[b] == 0:
                        if blocked[rk] == 0:
                            c = ACT
                    elif req_row[p] == orow[b]:
                        if blocked[rk] == 0:
                            auto = False
                            if page == 1:
                                auto = qn[b] >= 2 and not _further_hit(b, q, qn, orow, req_row, sched)
                            elif page == 2:
                                auto = True
                            elif page == 3:
                                auto = not _further_hit(b, q, qn, orow, req_row, sched)
                            if req_w[p] == 1:
                                c = WRA if auto else WR
                            else:
                                c = RDA if auto else RD
                    elif keep[b] == 0:
                        c = PRE
                    if c != NOP:
                        bcmd[b] = c
                        btime[b] = _earliest(c, b, req_bg[p], rk, now, tv, lb, lg, lr, faw, fawn, fawi, bus)
                        bpid[b] = p
                # (3) refresh managers, one per rank
                ref_rank = -1
                for rk in range(nranks):
                    rm_cmd[rk] = NOP
                    rm_time[rk] = INF
                    if refresh_on == 1 and now >= trig[rk]:
                        if now >= trig[rk] + REFI:
                            trig[rk] += REFI
                            rm_state[rk] = 0
                        busy = False
                        for b in range(rk * bpr, (rk + 1) * bpr):
                            if touched[b] == 1:
                                busy = True
                                break
                        go = False
                        if rm_state[rk] == 0:
                            if flex[rk] == maxpost:
                                if blocked[rk] == 0:
                                    blocked[rk] = 1
                                    for b in range(rk * bpr, (rk + 1) * bpr):
                                        dirty[b] = 1
                                go = True
                            elif busy:
                                flex[rk] += 1
                                trig[rk] += REFI
                            else:
                                go = True
                        else:
                            if busy:
                                rm_state[rk] = 0
                                trig[rk] += REFI
                            else:
                                go = True
                        if go:
                            rm_cmd[rk] = PREA if activated[rk] > 0 else REFA
                            rm_time[rk] = _earliest(rm_cmd[rk], rk * bpr, 0, rk, now, tv, lb, lg, lr, faw, fawn,
                                                    fawi, bus)
                            if rm_time[rk] == now and ref_rank < 0:
                                ref_rank = rk
                # power-down manager (Staggered)
                pd_cmd = NOP
                if pdk == 1:
                    want_wake = n_tot > 0 or (aq_h < aq_t and now >= head_avail)
                    for rk in range(nranks):
                        if refresh_on == 1 and now >= trig[rk]:
                            want_wake = True
                    if pd_state == 1 and want_wake:
                        if now >= pd_since + CKE and now >= last_cmd + 1:
                            pd_cmd = PDX
                    elif pd_state == 0 and not want_wake and n_tot == 0:
                        # enter once every pending CAS has completed its burst
                        ok = now >= last_cmd + 1 and now >= _rank_last(lr, L_RD) + CL + BUR + 1 \
                            and now >= _rank_last(lr, L_WR) + WL + BUR + tv[T_WR] \
                            and now >= _rank_last(lr, L_REFA) + RFC and now >= _rank_last(lr, L_PDX) + tv[T_XP]
                        if ok:
                            for rk in range(nranks):
                                if rm_cmd[rk] != NOP:
                                    ok = False
                        if ok:
                            pd_cmd = PDE
                # (5) command mux "Oldest": the command whose (ready time + bus length,
                # request age) is least, issued only if it is ready now; with separate
                # row/column buses the best of each, then the earlier-ready one
                sel = -2
                if pd_cmd != NOP:
                    sel = -3
                elif ref_rank >= 0:
                    sel = -1
                else:
                    best_key = INF
                    best_pid = INF
                    best_b = -1
                    cbest_key = INF
                    cbest_pid = INF
                    cbest_b = -1
                    for b in range(nbanks):
                        c = bcmd[b]
                        if c == NOP:
                            continue
                        if strict == 1 and c >= RD and bpid[b] != next_cas:
                            continue
                        key = btime[b] + clen[c]
                        if rascas and c >= RD:
                            if key < cbest_key or (key == cbest_key and bpid[b] < cbest_pid):
                                cbest_key = key
                                cbest_pid = bpid[b]
                                cbest_b = b
                        elif key < best_key or (key == best_key and bpid[b] < best_pid):
                            best_key = key
                            best_pid = bpid[b]
                            best_b = b
                    if cbest_b >= 0:
                        if best_b < 0 or btime[cbest_b] < btime[best_b] or (
                                btime[cbest_b] == btime[best_b] and bpid[cbest_b] < bpid[best_b]):
                            best_b = cbest_b
                    if best_b >= 0 and btime[best_b] == now:
                        sel = best_b
                changed = sel != -2
                if sel == -3 or sel == -1:
                    # power-down and refresh commands change every bank machine's state
                    for b in range(nbanks):
                        dirty[b] = 1
                elif sel >= 0:
                    dirty[sel] = 1
                    last_ic = bcmd[sel]
                    last_ig = req_bg[bpid[sel]]
                    last_irk = sel // bpr
                    last_it = now
                    if sched == 2 and bcmd[sel] >= RD:
                        # FrFcfsGrp's pick depends on the last CAS direction
                        for b in range(nbanks):
                            dirty[b] = 1
                if sel == -3:
                    if pd_cmd == PDE:
                        pd_state = 1
                        pd_since = now
                        pd_active = 0
                        for rk in range(nranks):
                            if activated[rk] > 0:
                                pd_active = 1
                        st[S_NPDE] += 1
                    else:
                        pd_state = 0
                        if pd_active == 1:
                            st[S_APDC] += now - pd_since
                        else:
                            st[S_PPDC] += now - pd_since
                        for rk in range(nranks):
                            lr[rk, L_PDX] = now
                    last_cmd = now
                    _occupy_bus(pd_cmd, now, tv, bus)
                    st[S_NCMD] += 1
                elif sel == -1:
                    rk = ref_rank
                    rc = rm_cmd[rk]
                    if ap_n > 0:
                        ap_n = _dp_flush(st, dp, bact, ap, now, RP, ap_n)
                    if rc == PREA:
                        for b in range(rk * bpr, (rk + 1) * bpr):
                            state[b] = 0
                            keep[b] = 0
                        activated[rk] = 0
                        lr[rk, L_PREA] = now
                        for b in range(rk * bpr, (rk + 1) * bpr):
                            if bact[b] == 1:
                                bact[b] = 0
                                dp[0] -= 1
                                st[S_NPRE] += 1
                                if dp[0] == 0:
                                    st[S_ACTC] += now - dp[1]
                                    dp[2] = now
                        _dp_mark(st, now, RP)
                    else:
                        lr[rk, L_REFA] = now
                        blocked[rk] = 0
                        st[S_NREF] += 1
                        if dp[0] == 0:
                            st[S_PREC] += max(0, now - dp[2])
                        dp[2] = now + RFC - RP
                        st[S_ACTC] += RFC - RP
                        _dp_mark(st, now, 0)
                        if rm_state[rk] == 1:
                            flex[rk] -= 1
                        else:
                            rm_state[rk] = 1
                        if flex[rk] == maxpull:
                            rm_state[rk] = 0
                            trig[rk] += REFI
                    last_cmd = now
                    _occupy_bus(rc, now, tv, bus)
                    st[S_NCMD] += 1
                    issued = True
                elif sel >= 0:
                    b = sel
                    c = bcmd[b]
                    p = bpid[b]
                    g = req_bg[p]
                    rk = b // bpr
                    if ap_n > 0:
                        ap_n = _dp_flush(st, dp, bact, ap, now, RP, ap_n)
                    last_cmd = now
                    _occupy_bus(c, now, tv, bus)
                    st[S_NCMD] += 1
                    issued = True
                    if c == ACT:
                        state[b] = 1
                        orow[b] = req_row[p]
                        keep[b] = 1
                        activated[rk] += 1
                        lb[b, 0] = now
                        lg[g, 0] = now
                        lr[rk, L_ACT] = now
                        faw[rk, fawi[rk]] = now
                        fawi[rk] = (fawi[rk] + 1) % 4
                        if fawn[rk] < 4:
                            fawn[rk] += 1
                        if dp[0] == 0:
                            st[S_PREC] += now - dp[2]
                            dp[1] = now
                        if bact[b] == 0:
                            bact[b] = 1
                            dp[0] += 1
                        st[S_NACT] += 1
                        _dp_mark(st, now, RCD)
                    elif c == PRE:
                        state[b] = 0
                        keep[b] = 0
                        activated[rk] -= 1
                        lb[b, 1] = now
                        lr[rk, L_PRE] = now
                        _dp_pre(st, dp, bact, now, b, RP)
                    else:
                        # CAS: RD, RDA, WR, WRA
                        keep[b] = 0
                        if c == RD or c == RDA:
                            if c == RD:
                                lb[b, 2] = now
                            else:
                                lb[b, 3] = now
                                lr[rk, L_RDA] = now
                            lg[g, 1] = now
                            lr[rk, L_RD] = now
                            ready[p] = now + RD_DATA
                            st[S_NRD] += 1
                            _dp_mark(st, now, CL + DQSCK + 1 + BUR)
                            if c == RDA:
                                if ap[b] < 0:
                                    ap_n += 1
                                ap[b] = max(now + rda_off, lb[b, 0] + RAS)
                        else:
                            if c == WR:
                                lb[b, 4] = now
                            else:
                                lb[b, 5] = now
                                lr[rk, L_WRA] = now
                            lg[g, 2] = now
                            lr[rk, L_WR] = now
                            ready[p] = now + WR_DATA
                            st[S_NWR] += 1
                            _dp_mark(st, now, WL + BUR + tv[T_WR])
                            if c == WRA:
                                if ap[b] < 0:
                                    ap_n += 1
                                ap[b] = max(now + wra_off, lb[b, 0] + RAS)
                        if c == RDA or c == WRA:
                            state[b] = 0
                            activated[rk] -= 1
                        # remove from the bank queue
                        k = 0
                        while q[b, k] != p:
                            k += 1
                        while k < qn[b] - 1:
                            q[b, k] = q[b, k + 1]
                            k += 1
                        qn[b] -= 1
                        n_tot -= 1
                        if req_w[p] == 1:
                            n_wr -= 1
                        else:
                            n_rd -= 1
                        last_dir = req_w[p]
                        next_cas += 1
                        rq[rq_t] = p
                        rq_t += 1
                        issued_cas = True
                        last_progress = now
        if pend_free > 0:
            rerun = True
            continue
        if rascas and issued:
            # separate row and column buses: the other bus may still take a
            # command in a later delta cycle of this clock
            continue
        # (6) next cycle at which anything can happen
        t_next = INF
        for b in range(nbanks):
            if bcmd[b] != NOP and btime[b] < t_next:
                t_next = btime[b]
        for rk in range(nranks):
            if rm_cmd[rk] != NOP:
                t_next = min(t_next, rm_time[rk])
            elif refresh_on == 1 and trig[rk] > now:
                t_next = min(t_next, trig[rk])
        if pdk == 1:
            t_next = min(t_next, now + 1) if (pd_cmd != NOP) else t_next
            if pd_state == 1:
                t_next = min(t_next, max(pd_since + CKE, now + 1))
            elif n_tot == 0 and pd_state == 0:
                t_next = min(t_next, max(last_cmd + 1, _rank_last(lr, L_RD) + CL + BUR + 1,
                                         _rank_last(lr, L_WR) + WL + BUR + tv[T_WR],
                                         _rank_last(lr, L_REFA) + RFC, _rank_last(lr, L_PDX) + tv[T_XP]))
        if nxt < n and (arbk == 0 and aq_h == aq_t or arbk != 0 and active < maxact):
            t_next = min(t_next, p_arr)
        if aq_h < aq_t and not space_blocked:
            # a head refused for lack of buffer space waits for a CAS to free a slot
            # (the bank machines' next command times are already in t_next)
            t_next = min(t_next, head_avail)
        if in_order:
            if next_id < n and ready[next_id] < INF:
                t_next = min(t_next, max(ready[next_id], resp_last + 1))
        elif rq_h < rq_t:
            t_next = min(t_next, max(ready[rq[rq_h]], resp_last + 1))
        if t_next >= INF:
            return -1
        if n_tot > 0 and now - last_progress > stall_limit:
            # requests wait but no CAS can ever issue (e.g. CmdMux Strict waiting
            # for a request its bank machine does not propose): a livelock
            return -1
        now = max(now + 1, t_next)
    # end: pending auto-precharges, then the energy window
    _dp_flush(st, dp, bact, ap, INF - 1, RP, ap_n)
    if pd_state == 1:
        if pd_active == 1:
            st[S_APDC] += now - pd_since
        else:
            st[S_PPDC] += now - pd_since
    t_end = max(st[S_WEND], 0)
    st[S_WEND] = t_end
    if dp[0] > 0:
        st[S_ACTC] += max(0, t_end - dp[1])
    else:
        st[S_PREC] += max(0, t_end - dp[2])
    st[S_LAST] = now
    return 0
