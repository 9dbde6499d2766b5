"""Training callbacks: min/max resets, the ``bops`` metric, ``beta`` schedules, Pareto-front checkpoints."""

import os
import re

import keras

from .calibration import reset_minmax, trace_minmax
from .cost import set_beta, total_bops
from .outputs import OutputFolder


class ResetMinMax(keras.callbacks.Callback):
    """Forget the min/max records at the start of every epoch.

    At each epoch end the records (and so integer bits, ``FreeBOPs`` and an export) then describe the weights
    of that epoch only, not the widest ranges ever seen since the start of training.
    """

    def on_epoch_begin(self, epoch, logs=None):
        reset_minmax(self.model)


class FreeBOPs(keras.callbacks.Callback):
    """Log the model's BOPs from the ranges recorded while training as the metric ``bops``.

    Free (no extra pass over data), but an over-estimate: the ranges cover every batch since the last reset
    (see ``ResetMinMax``), with weights that kept changing. Use ``CalibratedBOPs`` for the exact number.
    Put it before callbacks that read ``bops`` (e.g. ``ParetoFront``).
    """

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["bops"] = total_bops(self.model)


class CalibratedBOPs(keras.callbacks.Callback):
    """Calibrate on ``data`` at every epoch end (``trace_minmax``) and log the exact BOPs as ``bops``.

    Args:
        data: calibration inputs (an array, or a list of arrays for several inputs).
        batch_size: samples per calibration pass.
        cover_factor: passed to ``trace_minmax``.
    """

    def __init__(self, data, batch_size=1024, cover_factor=1.0):
        super().__init__()
        self.data, self.batch_size, self.cover_factor = data, batch_size, cover_factor

    def on_epoch_end(self, epoch, logs=None):
        bops = trace_minmax(self.model, self.data, batch_size=self.batch_size, cover_factor=self.cover_factor)
        if logs is not None:
            logs["bops"] = bops


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


def _side(side):
    if side in (max, "max"):
        return 1.0
    if side in (min, "min"):
        return -1.0
    raise ValueError(f"ParetoFront: each side must be max or min, got {side!r}")


class ParetoFront(keras.callbacks.Callback):
    """Save the model whenever its metrics are not dominated by an already saved model; delete the models
    the new one dominates, so that ``path`` holds exactly the current Pareto front.

    Files are named ``epoch=E-METRIC=VALUE-....keras``; ``points`` lists the saved models with their epoch and
    logged numbers. ``path`` must be new, empty or hold only what hgq wrote there (a front saved there before is
    deleted when its first training begins); other files stop training at its start unless ``overwrite=True``, which keeps
    them (``hgq.outputs``).

    Args:
        path: folder to save into (created if missing).
        metrics: names of logged metrics, e.g. ``("val_accuracy", "bops")`` (``bops`` from ``FreeBOPs`` or
            ``CalibratedBOPs``, which must come earlier in the callback list).
        sides: for each metric, ``max`` if larger is better, ``min`` if smaller is better.
        overwrite: save into ``path`` even though it holds files that hgq did not write (they are kept).
    """

    def __init__(self, path, metrics=("val_accuracy", "bops"), sides=(max, min), overwrite=False):
        super().__init__()
        metrics, sides = tuple(metrics), tuple(sides)
        if not metrics or len(metrics) != len(sides):
            raise ValueError(f"ParetoFront: need one side per metric, got metrics={metrics} and sides={sides}")
        self.path, self.overwrite = os.fspath(path), overwrite
        self.folder = None  # the OutputFolder, from the start of training
        self.metrics = metrics
        self.signs = tuple(_side(s) for s in sides)
        self.front = []  # (oriented values: larger is better, file path)
        self._logs = {}  # file path -> {"epoch": ..., logged numbers}

    def on_train_begin(self, logs=None):
        if self.folder is None:  # a later fit with this callback goes on with its front
            self.folder = OutputFolder(self.path, "ParetoFront", self.overwrite)
            self.folder.clear()

    def _oriented(self, logs):
        missing = [m for m in self.metrics if m not in (logs or {})]
        if missing:
            raise ValueError(f"ParetoFront: metric {missing[0]!r} is not in the logs; logged metrics: "
                             f"{sorted(logs or {})} (add FreeBOPs or CalibratedBOPs before ParetoFront for 'bops')")
        return tuple(sign * float(logs[m]) for sign, m in zip(self.signs, self.metrics))

    def on_epoch_end(self, epoch, logs=None):
        point = self._oriented(logs)
        if any(_dominates(saved, point) or saved == point for saved, _ in self.front):
            return
        for saved, file in [entry for entry in self.front if _dominates(point, entry[0])]:
            self.folder.remove(os.path.basename(file))
            self.front.remove((saved, file))
            del self._logs[file]
        name = "-".join([f"epoch={epoch}"] + [f"{m}={float(logs[m]):.6g}" for m in self.metrics])
        file = self.folder.target(re.sub(r"[^\w=.+-]", "_", name) + ".keras")
        self.model.save(file)
        self.front.append((point, file))
        self._logs[file] = {"epoch": epoch, **{key: float(value) for key, value in logs.items()
                                               if isinstance(value, (int, float)) or getattr(value, "ndim", 1) == 0}}

    @property
    def points(self):
        """The saved models, best first in the first metric: ``{"path": file, "epoch": E, metric: value, ...}``."""
        ordered = sorted(self.front, key=lambda entry: entry[0], reverse=True)
        return [{"path": file, **self._logs[file]} for _, file in ordered]


def _dominates(a, b):
    """``a`` is at least as good as ``b`` everywhere and better somewhere (larger is better)."""
    return all(x >= y for x, y in zip(a, b)) and any(x > y for x, y in zip(a, b))
