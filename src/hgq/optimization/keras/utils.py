"""The kernels of a model, model statistics (sparsity) and derivatives of the loss w.r.t. kernels (for the
``oracle`` and ``saliency`` rankings), on any Keras backend. Everything is keyed by layer path
(``hgq.graph.flat_layers``: layers of nested models as ``outer/inner``)."""

import keras
import numpy as np

from ... import graph
from ...backend import kernel_derivatives
from ..attributes import kernel_of


def model_kernels(model):
    """``{layer path: KernelView}`` of every layer of ``model`` (nested models included) whose spec gives it a
    kernel, in model order."""
    kernels = {}
    for path, layer in graph.flat_layers(model):
        view = kernel_of(layer)
        if view is not None:
            kernels[path] = view
    return kernels


def _kernel_derivatives(model, loss_fn, X, y, order, training):
    """``{layer path: d^order L / dw^order}`` for each kernel (second order: the gradient of the summed
    gradient, i.e. the row sums of the Hessian, as hls4ml computes it), averaged over batches of 1024. The loss
    is averaged over a batch, as a ``keras.losses.Loss`` does: a loss given by name is a per-sample function,
    which JAX cannot differentiate and TensorFlow would sum."""
    per_sample = keras.losses.get(loss_fn) if isinstance(loss_fn, str) else loss_fn

    def loss_fn(y_true, y_pred):
        return keras.ops.mean(per_sample(y_true, y_pred))

    kernels = model_kernels(model)
    layers = [view.layer for view in kernels.values()]
    out = {path: 0.0 for path in kernels}
    n = len(X)
    for start in range(0, n, 1024):
        xb, yb = X[start:start + 1024], y[start:start + 1024]
        grads = kernel_derivatives(model, loss_fn, xb, yb, layers, order, training)
        for path, g in zip(kernels, grads):
            out[path] = out[path] + np.asarray(g) * len(xb) / n
    return out


def get_model_gradients(model, loss_fn, X, y):
    """``{layer path: dL/dw}`` for each kernel of ``model`` (training mode), as NumPy."""
    return _kernel_derivatives(model, loss_fn, X, y, 1, True)


def get_model_hessians(model, loss_fn, X, y):
    """``{layer path: d²L/dw²}`` for each kernel of ``model`` (inference mode; hls4ml's approximation: the
    gradient of the summed gradient), as NumPy."""
    return _kernel_derivatives(model, loss_fn, X, y, 2, False)


def get_model_sparsity(model):
    """Total and per-layer sparsity: the fraction of zero kernel weights.

    Returns:
        ``(sparsity, {layer path: sparsity})``; ``sparsity`` is over all kernels together (0 without kernels).
    """
    total, zeros, per_layer = 0, 0, {}
    for path, view in model_kernels(model).items():
        w = keras.ops.convert_to_numpy(view.variable).ravel()
        total += w.size
        zeros += w.size - np.count_nonzero(w)
        per_layer[path] = 1.0 - np.count_nonzero(w) / w.size
    return (zeros / total if total else 0.0), per_layer
