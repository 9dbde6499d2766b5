"""Sparsity schedulers: the target sparsity (relative to the objective) of each optimization step.

``update_step()`` is called after an accepted step, ``repair_step()`` after a rejected one; both return
``(updated, sparsity)``, and ``updated=False`` tells the loop to stop.
"""

from abc import ABC, abstractmethod

#: Tolerance on sparsity comparisons (so that, e.g., twenty steps of 0.05 reach 1.0).
EPS = 1e-9


class OptimizationScheduler(ABC):
    """Base class: holds the current sparsity and its bounds (fractions in [0, 1], not percentages).

    Args:
        initial_sparsity: starting sparsity, in [0, 1).
        final_sparsity: largest sparsity, in (0, 1], at least ``initial_sparsity``.
    """

    def __init__(self, initial_sparsity=0, final_sparsity=1):
        if not 0 <= initial_sparsity < 1:
            raise ValueError(f"initial_sparsity must be in [0, 1) (a fraction, not a percentage), "
                             f"got {initial_sparsity}")
        if not 0 < final_sparsity <= 1:
            raise ValueError(f"final_sparsity must be in (0, 1] (a fraction, not a percentage), got {final_sparsity}")
        if final_sparsity < initial_sparsity:
            raise ValueError(f"final_sparsity ({final_sparsity}) must not be below initial_sparsity "
                             f"({initial_sparsity})")
        self.sparsity = float(initial_sparsity)
        self.lower_bound = float(initial_sparsity)
        self.upper_bound = float(final_sparsity)

    @abstractmethod
    def update_step(self):
        """Raise the sparsity after an accepted step; returns ``(updated, sparsity)``."""

    @abstractmethod
    def repair_step(self):
        """Change the sparsity after a rejected step; returns ``(updated, sparsity)``."""

    def get_sparsity(self):
        """The current target sparsity."""
        return self.sparsity


def _positive(name, value):
    if not value > 0:
        raise ValueError(f"{name} must be positive, got {value}")


class ConstantScheduler(OptimizationScheduler):
    """Sparsity grows by ``update_step`` per step until it would pass ``final_sparsity``; a rejected step moves
    on to the next sparsity too (the loop stops after too many rejections).

    Example: ``ConstantScheduler(0, 0.2, 0.05)`` gives 0.05, 0.1, 0.15, 0.2, then ``(False, 0.2)``.
    """

    def __init__(self, initial_sparsity=0, final_sparsity=1, update_step=0.05):
        _positive("update_step", update_step)
        super().__init__(initial_sparsity, final_sparsity)
        self.increment = float(update_step)
        self._steps = 0

    def update_step(self):
        nxt = self.lower_bound + (self._steps + 1) * self.increment  # no drift from repeated additions
        if nxt > self.upper_bound + EPS:
            return False, self.sparsity
        self._steps += 1
        self.sparsity = min(nxt, self.upper_bound)
        return True, self.sparsity

    def repair_step(self):
        return self.update_step()


class BinaryScheduler(OptimizationScheduler):
    """Bisection: an accepted step moves halfway up to the upper bound, a rejected one halfway down to the last
    accepted sparsity; stops when the move would be below ``threshold``.

    Example: ``BinaryScheduler(0, 1, 0.01)``: update → 0.5, update → 0.75, repair → 0.625.
    """

    def __init__(self, initial_sparsity=0, final_sparsity=1, threshold=0.01):
        _positive("threshold", threshold)
        super().__init__(initial_sparsity, final_sparsity)
        self.threshold = float(threshold)

    def update_step(self):
        self.lower_bound = self.sparsity
        if self.upper_bound - self.sparsity >= self.threshold:
            self.sparsity = 0.5 * (self.lower_bound + self.upper_bound)
            return True, self.sparsity
        return False, self.sparsity

    def repair_step(self):
        if self.sparsity - self.lower_bound >= self.threshold:
            self.upper_bound = self.sparsity
            self.sparsity = 0.5 * (self.lower_bound + self.upper_bound)
            return True, self.sparsity
        self.upper_bound = self.sparsity
        return False, self.sparsity


class PolynomialScheduler(OptimizationScheduler):
    """Polynomial decay (Zhu & Gupta, 2017): at step ``t`` of ``maximum_steps``,
    ``sparsity = final + (initial - final) * (1 - t / maximum_steps) ** decay_power``; a rejected step moves on
    too.

    Example: ``PolynomialScheduler(2, 0, 0.8, 1)`` gives 0.4, 0.8, then ``(False, 0.8)``.
    """

    def __init__(self, maximum_steps, initial_sparsity=0, final_sparsity=1, decay_power=3):
        if isinstance(maximum_steps, bool) or int(maximum_steps) != maximum_steps or maximum_steps < 1:
            raise ValueError(f"maximum_steps must be a positive integer, got {maximum_steps!r}")
        _positive("decay_power", decay_power)
        super().__init__(initial_sparsity, final_sparsity)
        self.maximum_steps = int(maximum_steps)
        self.decay_power = decay_power
        self.current_step = 0

    def update_step(self):
        if self.current_step >= self.maximum_steps:
            return False, self.sparsity
        self.current_step += 1
        remaining = (1 - self.current_step / self.maximum_steps) ** self.decay_power
        self.sparsity = self.upper_bound + (self.lower_bound - self.upper_bound) * remaining
        return True, self.sparsity

    def repair_step(self):
        return self.update_step()
