"""Training callbacks: min/max resets and the ``bops`` metric; with them, for one import, the ``beta`` schedules and
their callback (defined in ``hgq.beta``) and the Pareto-front checkpoints (``hgq.front``)."""

import keras

from .beta import BetaScheduler, LogRampBeta, PiecewiseBeta
from .calibration import calibrate, check_options, checked_inputs, reset_minmax
from .cost import total_bops
from .families.registry import require_specs
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
    """Calibrate on ``data`` at every epoch end (``trace_minmax``) and log the exact BOPs as ``bops``. The data is
    checked against the model once, when training begins.

    Args:
        data: calibration inputs (an array, or a list of arrays for several inputs).
        batch_size: samples per calibration pass.
        cover_factor: passed to ``trace_minmax``.

    Raises:
        ValueError: for a ``cover_factor`` that is not positive or a ``batch_size`` below 1; when training begins,
            for data that does not match the model's inputs, is empty, or holds NaN or infinite values.
    """

    def __init__(self, data, batch_size=1024, cover_factor=1.0):
        super().__init__()
        check_options(batch_size, cover_factor, "CalibratedBOPs")
        self.data, self.batch_size, self.cover_factor = data, batch_size, cover_factor
        self._arrays = None  # ``data`` checked against the model

    def on_train_begin(self, logs=None):
        require_specs(self.model, "CalibratedBOPs")
        self._arrays = checked_inputs(self.model, self.data, "CalibratedBOPs")

    def on_epoch_end(self, epoch, logs=None):
        bops = calibrate(self.model, self._arrays, self.batch_size, self.cover_factor)
        if logs is not None:
            logs["bops"] = bops
