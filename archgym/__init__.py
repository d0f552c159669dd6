"""archgym: a gym for hardware-accelerator design-space exploration.

``import archgym`` registers every simulator's Gymnasium id
(``archgym/<Name>-vN``) from the ``archgym.simulators`` entry-point group
without importing the simulators themselves.  It changes no process-wide
setting: thread limits belong to entry points (see :mod:`archgym.threads`).
"""
from .registry import (
    list_agents,
    list_envs,
    list_simulators,
    make,
    make_agent,
    make_simulator,
    register,
    register_agent,
    register_env,
)

__version__ = "0.1.0"

__all__ = ["make", "make_simulator", "make_agent", "register", "register_agent", "register_env",
           "list_envs", "list_simulators", "list_agents", "__version__"]

list_envs()  # registers the Gymnasium ids (names only; modules load on first make)
