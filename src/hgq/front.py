"""The Pareto front of a training: the callback that keeps exactly the non-dominated models on disk
(``ParetoFront``)."""

import os
import re

import keras

from .outputs import OutputFolder


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
    """

    def __init__(self, path, metrics=("val_accuracy", "bops"), sides=(max, min), overwrite=False, in_memory=False):
        super().__init__()
        metrics, sides = tuple(metrics), tuple(sides)
        if not metrics or len(metrics) != len(sides):
            raise ValueError(f"ParetoFront: need one side per metric, got metrics={metrics} and sides={sides}")
        self.path, self.overwrite = os.fspath(path), overwrite
        self.folder = None  # the OutputFolder, from the start of training
        self.metrics = metrics
        self.signs = tuple(_side(s) for s in sides)
        self.in_memory = in_memory
        self.front = []  # (oriented values: larger is better, file path)
        self._logs = {}  # file path -> {"epoch": ..., logged numbers}
        self._unsaved = {}  # file path -> the weights to save there when training ends (in_memory)

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
            if self._unsaved.pop(file, None) is None:
                self.folder.remove(os.path.basename(file))
            self.front.remove((saved, file))
            del self._logs[file]
        name = "-".join([f"epoch={epoch}"] + [f"{m}={float(logs[m]):.6g}" for m in self.metrics])
        file = self.folder.target(re.sub(r"[^\w=.+-]", "_", name) + ".keras")
        if self.in_memory:
            self._unsaved[file] = self.model.get_weights()
        else:
            self.model.save(file)
        self.front.append((point, file))
        self._logs[file] = {"epoch": epoch, **{key: float(value) for key, value in logs.items()
                                               if isinstance(value, (int, float)) or getattr(value, "ndim", 1) == 0}}

    def on_train_end(self, logs=None):
        if not self._unsaved:
            return
        current = self.model.get_weights()
        for file, weights in self._unsaved.items():
            self.model.set_weights(weights)
            self.model.save(file)
        self.model.set_weights(current)
        self._unsaved.clear()

    @property
    def points(self):
        """The saved models, best first in the first metric: ``{"path": file, "epoch": E, metric: value, ...}``."""
        ordered = sorted(self.front, key=lambda entry: entry[0], reverse=True)
        return [{"path": file, **self._logs[file]} for _, file in ordered]


def _dominates(a, b):
    """``a`` is at least as good as ``b`` everywhere and better somewhere (larger is better)."""
    return all(x >= y for x, y in zip(a, b)) and any(x > y for x, y in zip(a, b))
