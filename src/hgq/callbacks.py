"""Training callbacks: min/max resets and the ``bops`` metric; with them, for one import, the ``beta`` schedules and
their callback (defined in ``hgq.beta``) and the Pareto-front checkpoints (``hgq.front``)."""

import keras

from .beta import BetaScheduler, LogRampBeta, PiecewiseBeta
from .calibration import reset_minmax, trace_minmax
from .cost import total_bops
from .front import ParetoFront

__all__ = ["BetaScheduler", "CalibratedBOPs", "FreeBOPs", "LogRampBeta", "ParetoFront", "PiecewiseBeta",
           "ResetMinMax"]


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
