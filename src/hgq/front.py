"""The Pareto front of a training: the callback that keeps exactly the non-dominated models on disk
(``ParetoFront``)."""

import collections
import os
import re

import keras

from .outputs import OutputFolder


def check_smoothing(smoothing, who):
    """``ValueError`` naming ``who`` unless ``smoothing`` is a whole number of epochs >= 0."""
    if not isinstance(smoothing, int) or isinstance(smoothing, bool) or smoothing < 0:
        raise ValueError(f"{who}: smoothing must be a number of epochs >= 0, got {smoothing!r}")


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
        in_memory: keep the weights of each new front design in memory and write the files when training ends
            (a front design written as it appears can take longer than a small model's epoch). An interrupted
            training then leaves the files of its earlier trainings only.
        smoothing: choose on the mean of the first metric over the ``2 * smoothing + 1`` epochs centred on each
            design's (fewer at the ends of a training), not on its own epoch's value: on a small validation set one
            epoch's score is noisy, and the best of hundreds of noisy scores does not hold on new data. Each design
            is then decided ``smoothing`` epochs after its own (its weights held in memory until then); its logged
            first metric is the mean, its own epoch's value is logged as ``epoch_<metric>``.
    """

    def __init__(self, path, metrics=("val_accuracy", "bops"), sides=(max, min), overwrite=False, in_memory=False,
                 smoothing=0):
        super().__init__()
        metrics, sides = tuple(metrics), tuple(sides)
        if not metrics or len(metrics) != len(sides):
            raise ValueError(f"ParetoFront: need one side per metric, got metrics={metrics} and sides={sides}")
        check_smoothing(smoothing, "ParetoFront")
        self.path, self.overwrite = os.fspath(path), overwrite
        self.folder = None  # the OutputFolder, from the start of training
        self.metrics = metrics
        self.signs = tuple(_side(s) for s in sides)
        self.in_memory = in_memory
        self.front = []  # (oriented values: larger is better, file path)
        self._logs = {}  # file path -> {"epoch": ..., logged numbers}
        self._unsaved = {}  # file path -> the weights to save there when training ends (in_memory)
        self.smoothing = smoothing
        self._values = []  # the first metric of every epoch of this training (smoothing)
        self._pending = collections.deque()  # (epoch, logs, weights) of the designs not decided yet (smoothing)

    def on_train_begin(self, logs=None):
        if self.folder is None:  # a later fit with this callback goes on with its front
            self.folder = OutputFolder(self.path, "ParetoFront", self.overwrite)
            self.folder.clear()
        self._values.clear()

    def _oriented(self, logs):
        missing = [m for m in self.metrics if m not in (logs or {})]
        if missing:
            raise ValueError(f"ParetoFront: metric {missing[0]!r} is not in the logs; logged metrics: "
                             f"{sorted(logs or {})} (add FreeBOPs or CalibratedBOPs before ParetoFront for 'bops')")
        return tuple(sign * float(logs[m]) for sign, m in zip(self.signs, self.metrics))

    def on_epoch_end(self, epoch, logs=None):
        if not self.smoothing:
            self._offer(epoch, logs, None)
            return
        self._oriented(logs)  # a missing metric stops the first epoch, not the one decided ``smoothing`` epochs later
        self._values.append(float(logs[self.metrics[0]]))
        self._pending.append((epoch, dict(logs), self.model.get_weights()))
        if len(self._pending) > self.smoothing:
            self._offer_smoothed()

    def _offer_smoothed(self):
        """Decide the oldest pending design on the mean of the first metric around its epoch."""
        index = len(self._values) - len(self._pending)  # its place among this training's epochs
        epoch, logs, weights = self._pending.popleft()
        window = self._values[max(0, index - self.smoothing):index + self.smoothing + 1]
        name = self.metrics[0]
        self._offer(epoch, {**logs, f"epoch_{name}": logs[name], name: sum(window) / len(window)}, weights)

    def _offer(self, epoch, logs, weights):
        """The design of ``epoch`` (the model's current weights, or ``weights``) joins the front unless a front design
        dominates or equals it; the designs it dominates leave."""
        point = self._oriented(logs)
        if any(_dominates(saved, point) or saved == point for saved, _ in self.front):
            return
        for saved, file in [entry for entry in self.front if _dominates(point, entry[0])]:
            if self._unsaved.pop(file, None) is None:
                self.folder.remove(os.path.basename(file))
            self.front.remove((saved, file))
            del self._logs[file]
        name = "-".join([f"epoch={epoch}"] + [f"{m}={float(logs[m]):.6g}" for m in self.metrics])
        file = self.folder.target(re.sub(r"[^\w=.+-]", "_", name) + ".keras")
        if self.in_memory:
            self._unsaved[file] = self.model.get_weights() if weights is None else weights
        elif weights is None:
            self.model.save(file)
        else:
            self._save_with({file: weights})
        self.front.append((point, file))
        self._logs[file] = {"epoch": epoch, **{key: float(value) for key, value in logs.items()
                                               if isinstance(value, (int, float)) or getattr(value, "ndim", 1) == 0}}

    def on_train_end(self, logs=None):
        while self._pending:  # the last designs, on the epochs there are after them
            self._offer_smoothed()
        self._save_with(self._unsaved)
        self._unsaved.clear()

    def _save_with(self, weights_of):
        """Save the model with ``weights_of[file]`` to each ``file``; the model keeps its own weights."""
        if not weights_of:
            return
        current = self.model.get_weights()
        for file, weights in weights_of.items():
            self.model.set_weights(weights)
            self.model.save(file)
        self.model.set_weights(current)

    @property
    def points(self):
        """The saved models, best first in the first metric: ``{"path": file, "epoch": E, metric: value, ...}``."""
        ordered = sorted(self.front, key=lambda entry: entry[0], reverse=True)
        return [{"path": file, **self._logs[file]} for _, file in ordered]


def _dominates(a, b):
    """``a`` is at least as good as ``b`` everywhere and better somewhere (larger is better)."""
    return all(x >= y for x, y in zip(a, b)) and any(x > y for x, y in zip(a, b))
