"""``fit_pareto``: one training run that sweeps the BOPs weight over a log-spaced ramp and keeps every design on the
(metric, exact BOPs) Pareto front, each saved calibrated, so that ``hgq export`` and ``hgq verify`` take it as it is."""

import csv
import dataclasses
import math
import os
import sys
import time

import keras
import numpy as np

from .backend import metric_value
from .beta import BetaScheduler, LogRampBeta
from .calibration import calibrate, checked_inputs, emulate_export
from .families.registry import require_specs
from .front import ParetoFront, check_smoothing
from .model_kind import FLOAT, H_MODEL, model_kind
from .outputs import OutputFolder
from .proxy import to_proxy_model
from .proxy_layers.precision import require_exact_float64
from .proxy.hls import proxy_predict
from .quantize_model import quantize_model


@dataclasses.dataclass
class ParetoResult:
    """The front ``fit_pareto`` found: ``points`` (best metric first: ``{"path", "epoch", "beta", "bops", metric}``,
    with smoothing ``epoch_<metric>``, the design's own epoch's value, and with test data ``test_<metric>``), the
    metric's name (its value is the one the front was chosen on, averaged over ``smoothing`` epochs on each side),
    the folder holding the models and ``front.csv``, the path of ``front.png`` (``None`` without matplotlib), the
    name of the test column (``None`` without test data) and the smoothing."""

    points: list
    metric: str
    path: str
    plot: str = None
    test_metric: str = None
    smoothing: int = 0

    @property
    def columns(self):
        """The numbers of each design, in the order ``table()`` and ``front.csv`` give them."""
        return (["epoch", "beta", "bops", self.metric] + ([f"epoch_{self.metric}"] if self.smoothing else [])
                + ([self.test_metric] if self.test_metric else []))

    def table(self):
        """The front as aligned text, one design a line."""
        numbers = self.columns[3:]
        widths = [max(12, len(name)) for name in numbers]
        lines = [f"{'epoch':>6} {'beta':>9} {'BOPs':>10}" + "".join(f" {n:>{w}}" for n, w in zip(numbers, widths))
                 + "  model"]
        lines += [f"{p['epoch']:>6} {p['beta']:>9.2e} {p['bops']:>10,.0f}"
                  + "".join(f" {p[n]:>{w}.4f}" for n, w in zip(numbers, widths))
                  + f"  {os.path.basename(p['path'])}" for p in self.points]
        return "\n".join(lines)


def score(metric, y, outputs):
    """``metric`` (a ``keras.metrics.Metric``) of the float64 ``outputs`` against the labels ``y``."""
    return metric_value(metric, y, np.asarray(outputs, np.float64))


def proxy_metric(proxy, data, metric, batch_size=1024):
    """``metric`` (a ``keras.metrics.Metric``) of ``proxy`` on ``data`` (``(x, y)``): what hls4ml computes, overflows
    included."""
    x, y = data
    return score(metric, y, proxy_predict(proxy, x, batch_size))


def check_pair(data, name):
    """``data`` as an ``(x, y)`` pair of as many samples, or ``ValueError`` naming the argument ``name``."""
    if not isinstance(data, (list, tuple)) or len(data) != 2:
        raise ValueError(f"fit_pareto: {name} must be an (x, y) pair, got {type(data).__name__}")
    lengths = [len(keras.tree.flatten(part)[0]) for part in data]
    if lengths[0] != lengths[1]:
        raise ValueError(f"fit_pareto: {name} holds {lengths[0]} inputs and {lengths[1]} labels; they must be as "
                         "many")
    return tuple(data)


def metric_object(metric, y):
    """A fresh Keras metric for ``metric`` (a name, a function or a ``keras.metrics.Metric``); ``"accuracy"`` as
    ``model.compile`` reads it: sparse categorical for labels of one axis, categorical for one-hot ones."""
    if isinstance(metric, keras.metrics.Metric):
        return metric
    if metric in ("accuracy", "acc"):
        return keras.metrics.SparseCategoricalAccuracy(name=metric) if np.ndim(y) == 1 else \
            keras.metrics.CategoricalAccuracy(name=metric)
    found = keras.metrics.get(metric)
    if isinstance(found, type):
        return found()
    if isinstance(found, keras.metrics.Metric):
        return found
    return keras.metrics.MeanMetricWrapper(found, name=str(metric))


class ProxyEvaluation(keras.callbacks.Callback):
    """At each epoch end: calibrate on ``calibration`` (``trace_minmax``), log the exact BOPs as ``bops``, and log
    ``metric`` (a ``keras.metrics.Metric``) against the labels ``y`` of the proxy model on the inputs ``x`` (what
    hls4ml computes, overflows included) under ``name``, computed by the calibrated H-model as its proxy would
    (``exported_outputs``). ``calibration`` and ``x`` are inputs already checked (``hgq.calibration.checked_inputs``)."""

    def __init__(self, calibration, x, y, metric, name, batch_size=1024):
        super().__init__()
        self.calibration, self.x, self.y = calibration, x, y
        self.metric, self.name, self.batch_size = metric, name, batch_size

    def on_epoch_end(self, epoch, logs=None):
        bops = calibrate(self.model, self.calibration, self.batch_size)
        value = score(self.metric, self.y, emulate_export(self.model, self.x, self.batch_size))
        if logs is not None:
            logs.update({"bops": bops, self.name: value})


class _Progress(keras.callbacks.Callback):
    """A line on stderr every ``every`` epochs: the epoch (numbered from 0, as in the file names), ``beta``, BOPs, the
    metric and the size of the front."""

    def __init__(self, epochs, every, name, front):
        super().__init__()
        self.epochs, self.every, self.name, self.front = epochs, every, name, front
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every and epoch + 1 != self.epochs:
            return
        print(f"[{time.perf_counter() - self.start:6.1f} s] epoch={epoch} ({epoch + 1}/{self.epochs})  "
              f"beta {logs['beta']:.2e}  "
              f"BOPs {logs['bops']:,.0f}  {self.name} {logs[self.name]:.4f}  front: {len(self.front.front)} designs",
              file=sys.stderr, flush=True)


def fit_pareto(model, x, y, validation_data, loss, path="pareto", metric="accuracy", maximize=True, epochs=600,
               beta=(1e-6, 1e-3), warmup_epochs=None, learning_rate=3e-3, batch_size=64, smoothing=10,
               calibration_data=None, test_data=None, quantize=None, overwrite=False, verbose=True):
    """Train ``model`` once while its BOPs weight rises log-linearly over ``beta``, and keep every design that no
    other beats in both ``metric`` (on ``validation_data``) and exact BOPs.

    At each epoch end the model is calibrated on ``calibration_data`` (``trace_minmax``, the training inputs by
    default): its BOPs are exact, and its metric is its proxy's (``hgq.exported_outputs``: what
    ``to_proxy_model`` and hls4ml compute, overflows of validation values beyond the calibrated ranges included,
    without an export). The front is chosen on that metric averaged over the ``2 * smoothing + 1`` epochs around
    each design's (``ParetoFront(smoothing=...)``): one epoch's score on a small validation set is noisy, and the
    best of hundreds of noisy scores does not hold on new data. A design that no design of the front dominates joins
    it and the designs it dominates leave; the front is kept in memory and saved to ``path`` when training ends
    (calibrated: ``hgq export``/``hgq verify`` take each file as it is). ``path`` ends holding the front,
    ``front.csv`` and, where matplotlib is installed, ``front.png``.

    ``path`` must be new, empty, or hold only what hgq wrote there; a front written there before is replaced. Any
    other file in it stops the call before training (``hgq.outputs.OutputFolderError``) unless ``overwrite=True``,
    which keeps such files and writes beside them: no file that hgq did not write is ever deleted or overwritten.

    Args:
        model: an H-model, or a float Keras model (quantized first by ``quantize_model(model, **quantize)``).
        x: training inputs.
        y: training labels.
        validation_data: ``(x_val, y_val)`` the metric is measured on.
        loss: a Keras loss (name or object).
        path: folder for the designs.
        metric: a Keras metric (name, function or object), e.g. ``"accuracy"``.
        maximize: ``False`` for a metric where lower is better.
        epochs: length of the run.
        beta: ``(start, stop)`` of the ramp of every H-layer's BOPs weight.
        warmup_epochs: epochs at ``beta[0]`` before the ramp (default: a tenth of ``epochs``).
        learning_rate: Adam's learning rate at the start, decayed along a cosine to a tenth of it at the last step
            (a float), or a Keras schedule, used as it is.
        batch_size: samples per step.
        smoothing: epochs on each side of a design whose metric is averaged with its own to choose the front (0:
            each epoch's own metric).
        calibration_data: inputs to calibrate on (default ``x``).
        test_data: ``(x_test, y_test)``: every front design's proxy is scored on it, never chosen by it.
        quantize: keyword arguments of ``quantize_model`` for a float ``model``.
        overwrite: write into ``path`` even though it holds files that hgq did not write (they are kept).
        verbose: a progress line on stderr about twenty times per run, and a note when ``front.png`` is not drawn.

    Returns:
        ParetoResult: the front, best metric first.

    Raises:
        ValueError: for a model with several outputs, a proxy or QKeras model, ``quantize`` with an H-model, a
            layer whose type hgq has no spec for (``hgq.specs.UnsupportedLayerError``), ``validation_data`` or ``test_data`` that is not an ``(x, y)`` pair of as many samples, calibration or
            validation inputs that do not match the model's inputs, are empty or hold NaN or infinite values, a
            negative or non-integer ``smoothing``, or on JAX without 64-bit mode (the proxy computes in float64);
            all before ``path`` is touched.
        hgq.outputs.OutputFolderError: ``path`` holds files that hgq did not write (without ``overwrite``).
    """
    require_exact_float64("fit_pareto")
    if len(model.outputs) != 1:
        raise ValueError(f"fit_pareto: model {model.name!r} has {len(model.outputs)} outputs; it measures one metric "
                         "on one output")
    kind = model_kind(model)
    if kind == FLOAT:
        model = quantize_model(model, **(quantize or {}))
    elif kind != H_MODEL:
        raise ValueError(f"fit_pareto: model {model.name!r} is a {kind}; give an H-model or a float Keras model")
    elif quantize:
        raise ValueError(f"fit_pareto: quantize={quantize!r} applies to a float model; {model.name!r} is an H-model")
    require_specs(model, "fit_pareto")  # every epoch calibrates and counts BOPs: before the folder is touched
    check_smoothing(smoothing, "fit_pareto")
    validation_data = check_pair(validation_data, "validation_data")
    test_data = None if test_data is None else check_pair(test_data, "test_data")
    calibration = checked_inputs(model, x if calibration_data is None else calibration_data,
                                 f"fit_pareto: {'x' if calibration_data is None else 'calibration_data'}")
    x_val = checked_inputs(model, validation_data[0], "fit_pareto: validation_data")
    warmup = epochs // 10 if warmup_epochs is None else warmup_epochs
    schedule = LogRampBeta(beta[0], beta[1], warmup, max(epochs - 1, warmup + 1))
    metric_fn = metric_object(metric, validation_data[1])
    label = metric if isinstance(metric, str) else metric_fn.name
    name = f"val_{label}"
    folder = OutputFolder(path, "fit_pareto", overwrite)
    folder.clear()
    if isinstance(learning_rate, (int, float)):
        steps = epochs * math.ceil(len(keras.tree.flatten(x)[0]) / batch_size)
        learning_rate = keras.optimizers.schedules.CosineDecay(learning_rate, steps, alpha=0.1)
    model.compile(keras.optimizers.Adam(learning_rate), loss)
    front = ParetoFront(path, metrics=(name, "bops"), sides=(max if maximize else min, min), overwrite=overwrite,
                        in_memory=True, smoothing=smoothing)
    callbacks = [BetaScheduler(schedule),
                 ProxyEvaluation(calibration, x_val, validation_data[1], metric_fn, name),
                 front]
    if verbose:
        callbacks.append(_Progress(epochs, max(1, epochs // 20), name, front))
    model.fit(x, y, epochs=epochs, batch_size=batch_size, callbacks=callbacks, verbose=0)
    points = [{"path": p["path"], "epoch": p["epoch"], "beta": p["beta"], "bops": p["bops"], label: p[name],
               **({f"epoch_{label}": p[f"epoch_{name}"]} if smoothing else {})} for p in front.points]
    result = ParetoResult(points, label, path, test_metric=None if test_data is None else f"test_{label}",
                          smoothing=smoothing)
    if test_data is not None:
        for p in points:  # the saved designs are calibrated: scored as they are exported
            p[result.test_metric] = proxy_metric(to_proxy_model(keras.saving.load_model(p["path"])), test_data,
                                                 metric_fn)
    with open(folder.target("front.csv"), "w", newline="") as file:
        writer = csv.DictWriter(file, result.columns + ["path"])
        writer.writeheader()
        writer.writerows(result.points)
    try:
        import matplotlib  # noqa: F401 (the profiling extra's)
    except ImportError:
        if verbose:
            print("front.png not drawn: matplotlib is not installed (pip install 'hgq-keras[profiling]')",
                  file=sys.stderr)
    else:
        result.plot = folder.target("front.png")
        plot_front(result, result.plot)
    return result


def plot_front(result, path):
    """Draw the front of ``result`` (the metric against BOPs, log scale) into the PNG file ``path``."""
    from matplotlib.figure import Figure  # no pyplot: no GUI backend, no global state

    by_bops = sorted(result.points, key=lambda p: p["bops"])
    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.subplots()
    bops = [p["bops"] for p in by_bops]
    ax.step(bops, [p[result.metric] for p in by_bops], "o-", where="post", label=f"{result.metric} (chosen on)")
    if result.test_metric:
        ax.plot(bops, [p[result.test_metric] for p in by_bops], "s--", label=result.test_metric)
        ax.legend()
    ax.set(xscale="log", xlabel="BOPs (exact, after calibration)", ylabel=result.metric,
           title=f"Pareto front: {len(by_bops)} designs")
    ax.grid(True, which="both", alpha=0.3)
    fig.savefig(path, dpi=120)
