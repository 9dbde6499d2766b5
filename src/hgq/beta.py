"""``beta``, the weight of the BOPs in the loss, over training: schedules (functions of the epoch) and the callback that
sets them (``BetaScheduler``)."""

import keras

from .cost import set_beta


class PiecewiseBeta:
    """A ``beta`` schedule through ``(epoch, beta)`` points, linear between them and flat outside.

    Example: ``PiecewiseBeta([(0, 0.0), (5, 0.0), (20, 1e-5)])`` keeps ``beta = 0`` for five epochs of
    warm-up, then ramps it to ``1e-5`` at epoch 20 and holds it.
    """

    def __init__(self, points):
        points = sorted((int(e), float(b)) for e, b in points)
        if not points:
            raise ValueError("PiecewiseBeta needs at least one (epoch, beta) point")
        if len({e for e, _ in points}) != len(points):
            raise ValueError(f"PiecewiseBeta: epochs must be distinct, got {[e for e, _ in points]}")
        self.points = points

    def __call__(self, epoch):
        (e0, b0), *rest = self.points
        if epoch <= e0:
            return b0
        for e1, b1 in rest:
            if epoch <= e1:
                return b0 + (b1 - b0) * (epoch - e0) / (e1 - e0)
            e0, b0 = e1, b1
        return b0


class LogRampBeta:
    """A ``beta`` schedule: ``start`` until ``first_epoch``, then log-linear up to ``stop`` at ``last_epoch``, then
    flat.

    Example: ``LogRampBeta(1e-7, 1e-4, 10, 300)`` sweeps three decades of BOPs weight in one run, at the same pace per
    decade (what ``hgq.fit_pareto`` uses).
    """

    def __init__(self, start, stop, first_epoch, last_epoch):
        if not 0 < start <= stop or not 0 <= first_epoch < last_epoch:
            raise ValueError(f"LogRampBeta: need 0 < start <= stop and 0 <= first_epoch < last_epoch, got start="
                             f"{start!r}, stop={stop!r}, first_epoch={first_epoch!r}, last_epoch={last_epoch!r}")
        self.start, self.stop, self.first_epoch, self.last_epoch = float(start), float(stop), first_epoch, last_epoch

    def __call__(self, epoch):
        t = min(max((epoch - self.first_epoch) / (self.last_epoch - self.first_epoch), 0.0), 1.0)
        return self.start * (self.stop / self.start) ** t


class BetaScheduler(keras.callbacks.Callback):
    """Set every H-layer's ``beta`` at the start of each epoch to ``schedule(epoch)``, and log it as ``beta``.

    Args:
        schedule: a function of the epoch index returning a non-negative float, e.g. a ``PiecewiseBeta``.
    """

    def __init__(self, schedule):
        super().__init__()
        if not callable(schedule):
            raise ValueError(f"BetaScheduler: schedule must be callable (epoch -> beta), got {schedule!r}")
        self.schedule = schedule
        self.current = None

    def on_epoch_begin(self, epoch, logs=None):
        beta = float(self.schedule(epoch))
        if not beta >= 0:
            raise ValueError(f"BetaScheduler: the schedule returned beta={beta!r} for epoch {epoch}; "
                             "beta must be a non-negative number")
        set_beta(self.model, beta)
        self.current = beta

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["beta"] = self.current
