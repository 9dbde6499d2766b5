"""Model statistics (sparsity) and derivatives of the loss w.r.t. kernels (for the ``oracle`` and ``saliency``
rankings), on any Keras backend."""

import keras
import numpy as np

from ...backend import kernel_derivatives
from .config import SUPPORTED_LAYERS


def kernel_layers(model):
    """The layers of ``model`` that own a kernel, in order."""
    return [layer for layer in model.layers if getattr(layer, "kernel", None) is not None]


def _kernel_derivatives(model, loss_fn, X, y, order, training):
    """``{layer name: d^order L / dw^order}`` for each kernel (second order: the gradient of the summed
    gradient, i.e. the row sums of the Hessian, as hls4ml computes it), averaged over batches of 1024."""
    loss_fn = keras.losses.get(loss_fn) if isinstance(loss_fn, str) else loss_fn
    layers = kernel_layers(model)
    out = {layer.name: 0.0 for layer in layers}
    n = len(X)
    for start in range(0, n, 1024):
        xb, yb = X[start:start + 1024], y[start:start + 1024]
        grads = kernel_derivatives(model, loss_fn, xb, yb, layers, order, training)
        for layer, g in zip(layers, grads):
            out[layer.name] = out[layer.name] + np.asarray(g) * len(xb) / n
    return out


def get_model_gradients(model, loss_fn, X, y):
    """``{layer name: dL/dw}`` for each kernel of ``model`` (training mode), as NumPy."""
    return _kernel_derivatives(model, loss_fn, X, y, 1, True)


def get_model_hessians(model, loss_fn, X, y):
    """``{layer name: d²L/dw²}`` for each kernel of ``model`` (inference mode; hls4ml's approximation: the
    gradient of the summed gradient), as NumPy."""
    return _kernel_derivatives(model, loss_fn, X, y, 2, False)


def get_model_sparsity(model):
    """Total and per-layer sparsity: the fraction of zero kernel weights.

    Returns:
        ``(sparsity, {layer name: sparsity})``; ``sparsity`` is over all kernels together (0 without kernels).
    """
    total, zeros, per_layer = 0, 0, {}
    for layer in kernel_layers(model):
        w = keras.ops.convert_to_numpy(layer.kernel).ravel()
        total += w.size
        zeros += w.size - np.count_nonzero(w)
        per_layer[layer.name] = 1.0 - np.count_nonzero(w) / w.size
    return (zeros / total if total else 0.0), per_layer


def get_last_layer_with_weights(model):
    """Index in ``model.layers`` of the last layer with a kernel (its outputs are the labels: structured pruning
    must not remove them); ``len(model.layers)`` if there is none."""
    for idx in reversed(range(len(model.layers))):
        if getattr(model.layers[idx], "kernel", None) is not None:
            return idx
    return len(model.layers)


def unsupported_layers(model):
    """Names and types of the layers with a kernel (their own or a sub-layer's, e.g. an LSTM cell's) that the
    optimization cannot handle."""
    return [f"{layer.name!r} ({type(layer).__name__})" for layer in model.layers
            if not isinstance(layer, SUPPORTED_LAYERS)
            and any(v.path.rsplit("/", 1)[-1].endswith("kernel") for v in layer.trainable_weights)]
