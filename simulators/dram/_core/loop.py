"""The event loop that ties the controller's parts together, one clock cycle per step.

Each step, at controller cycle ``now``:

1. the response queue sends at most one response (:mod:`.response`);
2. the arbiter takes the player's next request, and the controller accepts
   the arbiter's head into the scheduler's buffer if there is room
   (:mod:`.arbiter`, :mod:`.scheduler`);
3. the bank machines whose bank received a request propose commands
   (:mod:`.bankmachine`), the refresh managers (:mod:`.refresh`) and the
   power-down manager (:mod:`.powerdown`) plan theirs;
4. the command multiplexer issues at most one command, power-down first,
   then refresh, then the bank machines' (:mod:`.cmdmux`); after a bank
   command the other machines' proposals are retimed; a CAS frees a buffer
   slot, and the arbiter's head may then be accepted in the same cycle;
5. a slot freed by this cycle's response admits the waiting request in a
   later delta cycle of the same clock (the step repeats at ``now``), and
   with separate row and column buses the other bus may still take a
   command; otherwise the machines whose state changed propose for the next
   cycle at the earliest, and ``now`` jumps to the next cycle at which
   anything can happen (so a command that is not legal before cycle t costs
   no step before t).

A proposal is a function of its bank's state and queue, of the scheduler's
last CAS direction (FrFcfsGrp) and of the checker's last-command times;
whatever changes the first two marks the bank for a new proposal, and the
last times only grow (see :func:`.timing.retime`), so proposing early and
retiming is the same as proposing at every cycle.

State lives in flat int64 arrays with named indices (:mod:`.layout`).  The
loop is written in numba's subset and runs compiled (:mod:`..controller`) or
as plain Python, with identical results.
"""
from . import arbiter, bankmachine, cmdmux, idle, powerdown, refresh, response
from .drampower import close_window
from .layout import (
    B_CMD, B_DIRTY, C_ARRIVAL, C_BANK_NEXT, C_DIRTY, C_NDONE, C_NTOT, C_PD_STATE, C_PEND_FREE, INF, K_ARBITER, K_RESP, K_SCHED,
    NEG, NOP, RD, S_ITER, S_LAST, T_BANKS_PER_RANK, T_RASCAS, T_REFI,
)


def simulate_core(req_t, req_w, req_bank, req_bg, req_row, req_addr, tck_ps, player_ps, relative, tv, dist, knobs,
                  eparams, send_cyc, resp_cyc, st, ch, bk, rk, lb, lg, lr, q, ready, rq, arbq, ff, flat):
    """Run the whole trace; fill ``send_cyc``/``resp_cyc`` (cycles) and the stats vector ``st``.

    Requests (``req_*``, one entry each): player time (player cycles), write flag, bank and
    bank group (channel-wide, rank-major), row, byte address.  ``tck_ps``/``player_ps``: the
    controller's and the trace player's clock periods (ps); ``relative``: request times count
    from the previous request's acceptance.  ``tv``: the ``T_*`` timing vector, ``dist`` its
    :func:`.timing.distance_table`, ``knobs`` the ``K_*`` vector, ``eparams`` = [RDA, WRA]
    DRAMPower auto-precharge offsets (cycles).  ``ch`` .. ``flat``: fresh state from
    :func:`.state.new_state`.  Returns 0 on success, -1 on a deadlock (a bug guard, or CmdMux
    Strict).
    """
    n = req_t.shape[0]
    for k in range(st.shape[0]):
        st[k] = 0
    if n == 0:
        return 0
    in_order = knobs[K_RESP] == 1 or knobs[K_ARBITER] == 2
    rascas = tv[T_RASCAS] == 1
    by_direction = knobs[K_SCHED] == 2          # FrFcfsGrp
    st[S_LAST] = NEG
    ch[C_ARRIVAL] = arbiter.first_arrival(req_t, tck_ps, player_ps)

    now = ch[C_ARRIVAL]
    rerun = False
    last_progress = now                         # last CAS, or when the buffer last filled
    stall_limit = 1000000 + 20 * tv[T_REFI]
    bpr = tv[T_BANKS_PER_RANK]
    while True:
        st[S_ITER] += 1
        if rerun:
            rerun = False
            arbiter.release(ch)
        if response.pop(now, in_order, ch, ready, rq, resp_cyc):
            if knobs[K_ARBITER] != 0:
                ch[C_PEND_FREE] += 1
            if ch[C_NDONE] == n:
                break
        arbiter.take(now, knobs, ch, arbq, send_cyc, req_t, tck_ps, player_ps, relative)
        was_empty = ch[C_NTOT] == 0
        arbiter.forward(now, knobs, q, ch, bk, arbq, req_t, req_bank, req_w, tck_ps, player_ps, relative)
        if was_empty and ch[C_NTOT] > 0:
            last_progress = now                 # an idle gap is not a stall
        bankmachine.propose(now, tv, dist, knobs, q, bk, lb, lg, lr, rk, ch, st, req_bg, req_row, req_w, req_addr)
        ref_rank = refresh.plan(now, tv, dist, knobs, bk, rk, lr, ch)
        pd_cmd = powerdown.decide(now, tv, knobs, rk, lr, ch)
        issued = False
        retime_due = False                             # a bank command to retime the other proposals by
        if pd_cmd != NOP:
            powerdown.issue(pd_cmd, now, tv, rk, lr, ch, st)
            bankmachine.replan_all(bk, ch)
        elif ref_rank >= 0:
            refresh.issue(ref_rank, now, tv, knobs, bk, rk, lr, ch, st)
            bankmachine.replan_all(bk, ch)
            issued = True
            if ref_rank == 0:
                now = idle.after_refresh(now, n, tv, ff, flat, ch, rk, st)
        else:
            b = cmdmux.select(now, tv, dist, knobs, bk, ch) if ch[C_BANK_NEXT] <= now else -1
            if b >= 0:
                bk[B_DIRTY, b] = 1
                ch[C_DIRTY] = 1
                if by_direction and bk[B_CMD, b] >= RD:
                    # FrFcfsGrp's pick depends on the last CAS direction
                    bankmachine.replan_all(bk, ch)
                issued = True
                cas = bankmachine.issue(b, now, tv, eparams, q, bk, lb, lg, lr, rk, ch, st, ready, rq, req_bg,
                                        req_row, req_w)
                retime_due = True
                if rascas or ch[C_PEND_FREE] > 0:      # the step repeats at now: retime before it
                    bankmachine.retime(bk, dist, lr, ch, bpr)
                    retime_due = False
                if cas:
                    last_progress = now
                    arbiter.forward(now, knobs, q, ch, bk, arbq, req_t, req_bank, req_w, tck_ps, player_ps,
                                    relative)
        if ch[C_PEND_FREE] > 0:
            rerun = True
            continue
        if rascas and issued:
            # separate row and column buses: the other bus may still take a
            # command in a later delta cycle of this clock
            continue
        # the next cycle at which anything can happen: the machines that must
        # propose again do so now, for the next cycle at the earliest
        t_bank = bankmachine.settle(now + 1, retime_due, tv, dist, knobs, q, bk, lb, lg, lr, rk, ch, st, req_bg,
                                    req_row, req_w, req_addr)
        t_next = min(t_bank, refresh.next_time(now, knobs, rk),
                     powerdown.next_time(now, pd_cmd, tv, knobs, lr, ch), arbiter.next_time(knobs, ch, n),
                     response.next_time(in_order, ch, ready, rq))
        if t_next >= INF:
            return -1
        if ch[C_NTOT] > 0 and now - last_progress > stall_limit:
            # requests wait but no CAS can ever issue (e.g. CmdMux Strict waiting
            # for a request its bank machine does not propose): a livelock
            return -1
        now = max(now + 1, t_next)
    close_window(tv, st, ch, bk)
    if ch[C_PD_STATE] == 1:
        powerdown.count_cycles(now, ch, st)
    st[S_LAST] = now
    return 0

