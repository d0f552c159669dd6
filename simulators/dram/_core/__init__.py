"""The controller and device core, in parts that mirror DRAMSys 4.0's controller.

Written in numba's subset (flat int64 arrays and integers; no objects), so
the same source runs compiled (:mod:`..controller` compiles it through
:mod:`archgym.jit`) or as plain Python, with identical results.  Do not call
these functions directly: use :func:`..controller.run`.

==================  =========================================================
module              DRAMSys counterpart
==================  =========================================================
:mod:`.layout`      named indices of the shared flat arrays (state, inputs, stats)
:mod:`.state`       the fresh state arrays (plain numpy, built before each run)
:mod:`.arbiter`     trace player and arbiter (Simple, Fifo, Reorder)
:mod:`.scheduler`   scheduler and its buffer (Bankwise, ReadWrite, Shared;
                    Fifo, FrFcfs, FrFcfsGrp)
:mod:`.bankmachine` bank machines under the page policy
:mod:`.cmdmux`      command multiplexer (Oldest, Strict)
:mod:`.refresh`     refresh managers (all-bank, postpone / pull in)
:mod:`.powerdown`   power-down manager (Staggered)
:mod:`.response`    response queue (Fifo, Reorder)
:mod:`.timing`      bank/timing state: the timing checker and the command bus
:mod:`.drampower`   DRAMPower's command counting (energy counters)
:mod:`.idle`        (no counterpart) skipping whole refresh intervals of an idle controller
:mod:`.loop`        the event loop, :func:`simulate_core`
==================  =========================================================

Model: DRAMSys 4.0 as ArchGym runs it; every time is in controller clock
cycles.  Each module's docstring states what it models and how.
"""
from .layout import *  # noqa: F401,F403  (the T_*, K_*, S_* ... indices, as _core.T_LEN etc.)
from .loop import simulate_core  # noqa: F401
from .state import new_state  # noqa: F401
from .timing import distance_table  # noqa: F401
