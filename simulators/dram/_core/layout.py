"""Named indices of the flat int64 arrays the controller core shares between its parts.

All times are controller clock cycles.  Input vectors: ``tv`` (``T_*``, the
standard's timings and the command-to-command distances of its protocol,
built by :mod:`..protocols`) and ``knobs`` (``K_*``, built by
:func:`..knobs.encode_mcconfig`).  Output: the statistics vector ``st``
(``S_*``, read by :mod:`..energy`).  State, created by
:func:`.state.new_state`:

* ``ch``: one channel, ``C_*``;
* ``bk``: per bank (channel-wide index, rank-major), ``B_*`` rows;
* ``rk``: per rank, ``R_*`` rows;
* ``lb``/``lg``/``lr``: the timing checker's view of each bank / bank group /
  rank (one row each; ``LB_*``/``LG_*``/``LR_*`` columns);
* ``q``: the scheduler's per-bank request queues (request ids, oldest first);
* ``rq``/``ready``/``arbq``: per request, see :mod:`.response` and :mod:`.arbiter`.
"""

NEG = -(1 << 40)   # "never": a last-command time that constrains nothing
INF = 1 << 62      # "not yet known" / "no event"

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
# protocol (see ..protocols), "a_b" = earliest b after a, in cycles
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

# knob vector layout (see ..knobs.encode_mcconfig); the codes of the categorical knobs:
# PagePolicy 0 Open, 1 OpenAdaptive, 2 Closed, 3 ClosedAdaptive; Scheduler 0 Fifo, 1 FrFcfs,
# 2 FrFcfsGrp; SchedulerBuffer 0 Bankwise, 1 ReadWrite, 2 Shared; RespQueue 0 Fifo, 1 Reorder;
# RefreshPolicy 0 NoRefresh, 1 AllBank; Arbiter 0 Simple, 1 Fifo, 2 Reorder; PowerDownPolicy
# 0 NoPowerDown, 1 Staggered; CmdMux 0 Oldest, 1 Strict
(K_PAGE, K_SCHED, K_BUFKIND, K_BUFSIZE, K_RESP, K_REFRESH, K_MAXPOST, K_MAXPULL, K_ARBITER, K_MAXACT, K_PD,
 K_CMDMUX) = range(12)

# stats vector layout (the output)
S_NACT = 0
S_NPRE = 1
S_NRD = 2
S_NWR = 3
S_NREF = 4
S_ACTC = 5       # DRAMPower active background cycles
S_PREC = 6       # DRAMPower precharged background cycles
S_WEND = 7       # end of DRAMPower's energy window
S_LAST = 8       # DRAMPower's last command (at the end: the last simulated cycle)
S_APDC = 9       # active power-down cycles
S_PPDC = 10      # precharge power-down cycles
S_NCMD = 11
S_NPDE = 12
S_ITER = 13      # event-loop iterations (profiling)
S_PROPOSE = 14   # bank-machine proposals computed (profiling)
S_LEN = 16

# the timing checker's last-command times (rows: one bank / group / rank; columns below)
LB_ACT = 0       # ``lb[b, LB_*]``: bank b's last ACT,
LB_PRE = 1       # PRE,
LB_RD = 2        # RD (not RDA),
LB_RDA = 3       # RDA,
LB_WR = 4        # WR (not WRA),
LB_WRA = 5       # WRA
LB_LEN = 6
LG_ACT = 0       # ``lg[g, LG_*]``: bank group g's last ACT,
LG_RD = 1        # RD or RDA,
LG_WR = 2        # WR or WRA
LG_LEN = 3
LR_ACT = 0       # ``lr[r, LR_*]``: rank r's last ACT,
LR_RD = 1        # RD or RDA,
LR_WR = 2        # WR or WRA,
LR_PRE = 3       # PRE,
LR_PREA = 4      # PREA,
LR_REFA = 5      # REFA,
LR_RDA = 6       # RDA,
LR_WRA = 7       # WRA,
LR_PDX = 8       # power-down exit,
LR_FAW = 9       # the four-activate window: a ring of the last four ACT times (LR_FAW .. LR_FAW + 3),
LR_FAWN = 13     # ACTs in the ring (at most 4),
LR_FAWI = 14     # ring slot of the oldest
LR_LEN = 15

# per-bank state ``bk[B_*, b]`` (one row per field, so loops over banks read contiguous memory): the bank machine ...
B_STATE = 0      # 0 precharged, 1 active
B_OROW = 1       # open row (-1: none)
B_KEEP = 2       # 1 after an ACT: the machine keeps its request unless another hit is offered
B_CUR = 3        # request the machine serves (-1: none yet)
B_BUSY = 4       # 1 while the machine holds a request (DRAMSys's currentPayload; refresh postpones)
B_CMD = 5        # proposed command (NOP: none)
B_TIME = 6       # earliest legal cycle of B_CMD
B_PID = 7        # request of B_CMD
B_DIRTY = 8      # 1: the proposal must be recomputed
B_QN = 9         # requests in this bank's queue
# ... and DRAMPower's view
B_DP_ACTIVE = 10  # 1 while DRAMPower counts the bank active
B_AP = 11        # pending auto-precharge time (-1: none)
B_GROUP = 12     # the bank's bank group (channel-wide), known once it held a request
B_LEN = 13

# per-rank state ``rk[R_*, r]``: the bank machines' shared view and the refresh manager
R_ACTIVATED = 0  # open banks
R_BLOCKED = 1    # 1 while a forced refresh blocks new ACT/CAS
R_REF_STATE = 2  # 0 regular, 1 pulled-in
R_FLEX = 3       # postponed (+) / pulled-in (-) refreshes
R_TRIG = 4       # next refresh trigger
R_REF_CMD = 5    # refresh command wanted now (NOP, PREA or REFA)
R_REF_TIME = 6   # its earliest legal cycle
R_LEN = 7

# channel state ``ch``
C_BUS_ROW = 0      # first free cycle of the row command bus
C_BUS_COL = 1      # ... of the column command bus (the same on a single-bus standard)
C_LAST_CMD = 2     # cycle of the last command issued
C_LAST_IC = 3      # the last bank command (for retiming the other proposals): command,
C_LAST_IG = 4      # bank group,
C_LAST_IRK = 5     # rank
C_LAST_IT = 6      # and cycle
C_NRD = 7          # scheduler buffer: stored reads,
C_NWR = 8          # writes,
C_NTOT = 9         # all,
C_LAST_BANK = 10   # bank of the last stored request
C_LAST_DIR = 11    # direction of the last CAS (1 write; FrFcfsGrp)
C_NEXT_CAS = 12    # request id whose CAS is next in request order (CmdMux Strict)
C_PD_STATE = 13    # power-down: 0 awake, 1 powered down
C_PD_SINCE = 14    # cycle of the last PDE
C_PD_ACTIVE = 15   # 1: that power-down is an active one (a bank was open)
C_RQ_HEAD = 16     # response queue (CAS order): head,
C_RQ_TAIL = 17     # tail
C_NEXT_ID = 18     # next request id to respond to in request order
C_RESP_LAST = 19   # cycle of the last response
C_NDONE = 20       # responses sent
C_PEND_FREE = 21   # arbiter slots freed this cycle, usable after its command decision
C_AQ_HEAD = 22     # arbiter queue: head,
C_AQ_TAIL = 23     # tail
C_HEAD_AVAIL = 24  # cycle the controller may take the arbiter's head
C_LAST_ACC = 25    # cycle the controller last accepted a request
C_ACTIVE = 26      # outstanding requests (Fifo/Reorder arbiters)
C_NEXT_REQ = 27    # next request the trace player sends
C_ARRIVAL = 28     # cycle it reaches the arbiter
C_SPACE_BLOCKED = 29  # 1: the head was refused for lack of buffer space
C_DP_NACT = 30     # DRAMPower: banks counted active,
C_DP_FIRST_ACT = 31  # first ACT of the current active period,
C_DP_LAST_PRE = 32   # end of the last active period (or of a refresh)
C_AP_NEXT = 33     # earliest pending auto-precharge in bk[B_AP] (INF: none)
C_DIRTY = 34       # 1: some bank machine must propose again (``bk[B_DIRTY]``)
C_BANK_NEXT = 35   # a lower bound of the earliest proposal's cycle (INF: none) ...
C_BANK_STALE = 36  # ... exact unless 1 (a proposal was replaced or retimed since)
C_LEN = 37

# the checker's bank columns follow the CAS command codes (timing.record relies on it)
assert (LB_RDA - LB_RD, LB_WR - LB_RD, LB_WRA - LB_RD) == (RDA - RD, WR - RD, WRA - RD)
