"""Saturating quantizers as hls4ml builds them.

hls4ml's bit-exact pass (``hls4ml.model.optimizer.passes.bit_exact``) narrows each quantizer's fractional bits to
those of the values that reach it: where a quantizer keeps ``f`` bits but its input carries only ``lf`` (by
interval arithmetic over the layers before it), the firmware type gets ``min(f, lf)``. For a wrapping quantizer
that changes nothing; for a saturating one (``SAT``) it moves the largest value, ``2^i - 2^-f``, to
``2^i - 2^-lf``. So that the proxy saturates as the firmware does, ``narrow_to_input_precision`` applies the same
narrowing to the proxy's ``SAT`` quantizers. Values inside the calibrated range lie on the input's grid and are
unchanged by it.

A quantizer with one type for every element (``fusible``) is narrowed by hls4ml once for all: it narrows each
element, then keeps the most total and the most integer bits of the results. Where the elements' inputs differ
(one with many integer and few fractional bits, another the reverse), that merged type drops fractional bits that
an element needs, in and out of range. Such a quantizer (other than ``TRN``/``WRAP``, whose type hls4ml keeps as
it is) is handed to hls4ml per element instead.

The fractional bits of every layer output are tracked per element, with hls4ml's rules: a product of an input
with ``f`` bits and a weight whose value needs ``f_w`` bits has ``f + f_w`` (zero weights count for nothing), a
sum has the most of its terms, a padded or zero-width input counts ``f = 0``, an output that can only be zero has
``f = 0``, an unquantized input is unbounded.
"""

import keras
import numpy as np

from .. import graph
from ..layers.geometry import output_size_and_paddings
from .convert import as_numpy
from .fixed_point_quantizer import FixedPointQuantizer
from .unary_lut import UnaryLUT

UNBOUNDED = np.inf


def minimal_f(values):
    """Fewest fractional bits that hold each value exactly, as hls4ml counts them (between -31 and 32; a zero
    gets -31, i.e. counts for nothing)."""
    values = np.asarray(values, np.float64)
    low, high = np.full(values.shape, -32.0), np.full(values.shape, 32.0)
    while np.any(low < high - 1):
        mid = np.floor((low + high) / 2)
        scaled = values * 2.0**mid
        inexact = scaled != np.trunc(scaled)
        low, high = np.where(inexact, mid, low), np.where(inexact, high, mid)
    return high


class Precision:
    """Fractional bits ``f`` of each element of a layer output (no batch axis) and whether it can be non-zero."""

    def __init__(self, f, live):
        self.f, self.live = np.asarray(f, np.float64), np.asarray(live, bool)


def _windows(array, window, strides, padding, fill):
    """``array`` ``(*spatial, channels)`` cut into the windows of a convolution or pooling, padded with ``fill``:
    shaped ``(*output positions, *window, channels)``."""
    pads, indices = [], []
    for n, k, s in zip(array.shape[:-1], window, strides):
        out, before, after = output_size_and_paddings(n, k, s, padding)
        pads.append((before, after))
        indices.append(np.arange(out)[:, None] * s + np.arange(k)[None, :])
    padded = np.pad(array, pads + [(0, 0)], constant_values=fill)
    if len(indices) == 1:
        return padded[indices[0]]
    (rows, cols), (kh, kw) = indices, window
    return padded[rows[:, None, :, None], cols[None, :, None, :]].reshape(
        rows.shape[0], cols.shape[0], kh, kw, array.shape[-1])


def _linear(layer, x):
    """Dense and convolutions: ``max(f_x + f_w)`` over the terms of each output, and the bias."""
    kernel = as_numpy(layer.kernel)
    f, live = x.f, x.live
    positions = f.ndim - 1  # Dense: any leading axes of a sequence
    if isinstance(layer, (keras.layers.Conv1D, keras.layers.Conv2D)):
        args = (layer.kernel_size, layer.strides, layer.padding)
        f, live = _windows(f, *args, fill=0.0), _windows(live, *args, fill=False)
        positions = len(layer.kernel_size)
    f, live = f.reshape(*f.shape[:positions], -1), live.reshape(*live.shape[:positions], -1)
    taps = kernel.reshape(-1, kernel.shape[-1])  # (window taps x input channels, outputs), as f and live
    used, f_w = taps != 0, minimal_f(taps)
    out_f = np.full((*f.shape[:-1], taps.shape[1]), -np.inf)
    out_live = np.zeros(out_f.shape, bool)
    for j in range(taps.shape[1]):
        if np.any(used[:, j]):
            out_f[..., j] = np.max(f[..., used[:, j]] + f_w[used[:, j], j], axis=-1)
            out_live[..., j] = np.any(live[..., used[:, j]], axis=-1)
    if layer.use_bias:
        bias = as_numpy(layer.bias)
        out_f = np.where(bias != 0, np.maximum(out_f, minimal_f(bias)), out_f)
        out_live |= bias != 0
    return Precision(np.where(out_live, out_f, 0.0), out_live)


def _pooling(layer, x):
    args = (layer.pool_size, layer.strides, layer.padding)
    f, live = _windows(x.f, *args, fill=0.0), _windows(x.live, *args, fill=False)
    axes = tuple(range(len(layer.pool_size), 2 * len(layer.pool_size)))
    out_f = np.max(f, axis=axes)
    if isinstance(layer, (keras.layers.AveragePooling1D, keras.layers.AveragePooling2D)):
        count = np.sum(_windows(np.ones(x.f.shape), *args, fill=0.0), axis=axes)
        out_f = out_f + minimal_f(1.0 / count)
    return Precision(out_f, np.any(live, axis=axes))


def _shared_axes(layer, ndim):
    """The axes along which ``layer`` stores one type: all of them where hls4ml reads one type for every element."""
    if layer.fusible or len(layer.kbi_shape) == 1:
        return tuple(range(ndim))
    return tuple(a for a, n in enumerate(layer.kbi_shape[1:]) if n == 1)


def _narrowed_unevenly(f, used, x):
    """Whether narrowing a one-type quantizer (fractional bits ``f``) to its input's gives its live, used elements
    different fractional bits. hls4ml merges the narrowed types into one of the most total and the most integer
    bits, which then holds fewer fractional bits than an element with few integer bits needs."""
    narrowed = np.minimum(f, x.f)[used & x.live]
    return narrowed.size > 0 and np.unique(narrowed).size > 1


def _quantizer(layer, x):
    """Narrow a quantizer as hls4ml does (module docstring); the output's precision.

    A one-type (``fusible``) quantizer that hls4ml would narrow unevenly and that is not ``TRN``/``WRAP`` (hls4ml
    keeps the type of those) is stored per element instead (``fusible = False``), so that hls4ml narrows each
    element on its own: exact, where the merged type would drop bits (``io_stream`` then refuses it)."""
    k, b, integers = (np.broadcast_to(a.reshape(layer.kbi_shape), (1, *x.f.shape))[0].astype(np.float64)
                      for a in layer.kbi())
    if (layer.fusible and len(layer.kbi_shape) > 1 and (layer.RND, layer.SAT) != ("TRN", "WRAP")
            and _narrowed_unevenly(b - integers, b > 0, x)):
        layer.fusible = False
    if layer.SAT == "SAT":
        shared = _shared_axes(layer, x.f.ndim)
        lf = np.max(x.f, axis=shared, keepdims=True)
        narrowed = np.minimum(b - integers, lf)
        new_b = np.where(b > 0, integers + narrowed, 0.0)
        zero = new_b <= 0
        k_, b_, i_ = (np.where(zero, 0.0, a) for a in (k, new_b, integers))
        stored = [np.max(a, axis=shared, keepdims=True) for a in (k_, b_, i_)]
        layer.set_kbi(*stored)
        k, b, integers = (np.broadcast_to(a, x.f.shape).astype(np.float64) for a in stored)
    live = b > 0
    return Precision(np.where(live, b - integers, 0.0), live)


def _precision(layer, inputs, shape):
    """The output precision of ``layer`` from those of its inputs; ``None`` for a layer without a rule (treated as
    unbounded: quantizers after it are not narrowed)."""
    if isinstance(layer, keras.layers.InputLayer):
        return Precision(np.full(shape, UNBOUNDED), np.ones(shape, bool))
    if any(x is None for x in inputs):
        return None
    if isinstance(layer, FixedPointQuantizer):
        return _quantizer(layer, inputs[0])
    if isinstance(layer, (keras.layers.Dense, keras.layers.Conv1D, keras.layers.Conv2D)):
        if layer.get_config().get("activation") not in ("linear", "relu"):
            return None
        return _linear(layer, inputs[0])
    if isinstance(layer, keras.layers.Activation) and layer.get_config()["activation"] in ("linear", "relu"):
        return inputs[0]
    if isinstance(layer, (keras.layers.MaxPooling1D, keras.layers.MaxPooling2D, keras.layers.AveragePooling1D,
                          keras.layers.AveragePooling2D)):
        return _pooling(layer, inputs[0])
    if isinstance(layer, (keras.layers.Flatten, keras.layers.Reshape)):
        return Precision(inputs[0].f.reshape(shape), inputs[0].live.reshape(shape))
    if isinstance(layer, keras.layers.Concatenate):
        axis = layer.axis if layer.axis < 0 else layer.axis - 1
        return Precision(np.concatenate([x.f for x in inputs], axis), np.concatenate([x.live for x in inputs], axis))
    if isinstance(layer, keras.layers.Add):
        return Precision(np.maximum.reduce([x.f for x in inputs]), np.logical_or.reduce([x.live for x in inputs]))
    if isinstance(layer, UnaryLUT):
        table = as_numpy(layer.table)
        f = float(np.max(np.where(table != 0, minimal_f(table), 0.0)))
        return Precision(np.full(shape, f), np.full(shape, bool(np.any(table != 0))))
    return None


def narrow_to_input_precision(proxy):
    """Narrow the fractional bits of the proxy's ``SAT`` quantizers to those of their inputs, as hls4ml does when
    it builds the firmware types (in place; returns ``proxy``)."""
    precisions = {}
    for layer in graph.model_input_layers(proxy):
        precisions[id(layer)] = _precision(layer, [], graph.output_shapes(layer)[0][1:])
    for _, layer in graph.flat_layers(proxy):
        inputs = [precisions.get(id(p)) for p in graph.input_layers(layer)]
        shapes = graph.output_shapes(layer)
        precisions[id(layer)] = _precision(layer, inputs, shapes[0][1:]) if len(shapes) == 1 else None
    return proxy
