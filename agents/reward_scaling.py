"""The reward an RL learner sees: standardized, with infeasible designs clipped into the feasible range.

Rewards of design-space problems are badly scaled for a learner: an
infeasible design scores the objective's penalty (``-1`` by default) against
feasible rewards that may all lie within a few hundredths of each other
(Systolic-v0: mean 0.41, standard deviation 0.12), or span orders of
magnitude (an EDP target).  Every RL searcher (:mod:`archgym.agents.rl`,
:mod:`archgym.agents.marl`) therefore trains on a transformed reward, while
the environment's trajectory keeps the true one.

Modes (``reward_scaling`` hyperparameter):

* ``"rank"`` (default): the reward's mid-rank quantile ``q`` among every
  reward seen so far in the run (itself included), mapped to
  ``(q - 1/2) * sqrt(12)`` -- zero mean and unit variance when rewards are
  distinct, whatever their scale or tails;
* ``"standard"``: ``(r - mean) / std`` with the running mean and standard
  deviation of the feasible rewards seen so far (Welford); 0 before two
  distinct feasible rewards exist;
* ``"none"``: the raw reward (ArchGym's formulation).

In ``"rank"`` and ``"standard"`` an infeasible design is clipped into the
feasible range as Bayesian optimization does (:mod:`archgym.agents.bayesian`):
it counts as the worst feasible reward seen so far (before any feasible
design, all infeasible designs tie, and the learner sees 0).  A repeat that
the environment answered from its record (``info["reused"]``, the repeat
rule of :mod:`archgym.env`) evaluated nothing new: the learner sees the
neutral reward 0 and the statistics do not change.  (Rewarding repeats
with their recorded value makes a policy that found a good design collapse
onto it and spend the rest of the run repeating it.)
"""
from __future__ import annotations

import bisect
import math

__all__ = ["RewardScaler", "MODES"]

MODES = ("rank", "standard", "none")
_SQRT12 = math.sqrt(12.0)


class RewardScaler:
    """Turns each true reward of a run into the learner's reward (module docstring).

    Call it once per evaluated design, in order: ``scaler(reward, feasible)``."""

    def __init__(self, mode: str = "rank") -> None:
        if mode not in MODES:
            raise ValueError(f"reward scaling {mode!r}; allowed: {', '.join(MODES)}")
        self.mode = mode
        self._feasible: list[float] = []   # sorted feasible rewards (rank mode)
        self._n_infeasible = 0
        self._count, self._mean, self._m2 = 0, 0.0, 0.0   # Welford over feasible rewards (standard mode)
        self._worst = math.inf

    def __call__(self, reward: float, feasible: bool, reused: bool = False) -> float:
        reward = float(reward)
        if self.mode == "none":
            return reward
        if reused:  # a repeat answered from the record evaluated nothing new: the neutral reward
            return 0.0
        if feasible and math.isfinite(reward):
            self._worst = min(self._worst, reward)
            if self.mode == "rank":
                bisect.insort(self._feasible, reward)
            else:
                self._count += 1
                delta = reward - self._mean
                self._mean += delta / self._count
                self._m2 += delta * (reward - self._mean)
        else:
            self._n_infeasible += 1
            if not self._feasible and self._count == 0:
                return 0.0
            reward = self._worst
        return self._rank(reward) if self.mode == "rank" else self._standardized(reward)

    def _rank(self, r: float) -> float:
        below = bisect.bisect_left(self._feasible, r)
        equal = bisect.bisect_right(self._feasible, r) - below
        if r == self._worst:  # infeasible designs tie with the worst feasible one
            equal += self._n_infeasible
        else:
            below += self._n_infeasible
        q = (below + 0.5 * equal) / (len(self._feasible) + self._n_infeasible)
        return (q - 0.5) * _SQRT12

    def _standardized(self, r: float) -> float:
        std = math.sqrt(self._m2 / self._count) if self._count > 1 else 0.0
        return (r - self._mean) / std if std > 1e-12 else 0.0
