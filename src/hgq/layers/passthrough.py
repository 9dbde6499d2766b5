"""P-layers: Keras layers that move quantized values without arithmetic cost, carrying their bit widths.

``PFlatten``, ``PReshape``, ``PConcatenate``, ``PMaxPooling1D/2D`` and ``PAveragePooling1D/2D`` subclass the
Keras layer of the same name and report the fixed-point type of their output (``output_kif``), computed from
the types of their inputs, so that an H-layer after them counts its BOPs from the right input widths. They
have no quantizer, no ``beta`` and no BOPs; they need a quantized input (an H-layer, ``Signature`` or another
P-layer before them).

``Signature`` declares that a (model) input is already quantized to a given type.
"""

import math

import keras
import numpy as np
from keras import ops

from ..quantizer.quantizer import ExactDType
from ..quantizer.types import kif_from_kbi
from ..validation import check_int_array
from ..families.hlayer import QuantizedOutput, ReadsInputTypes
from .geometry import output_size_and_padding

#: Placeholder for the integer and fractional bits of an element that is always zero, so that it never
#: widens the type of a window it shares with non-zero elements.
_NEUTRAL = -1.0e4


class PassThroughLayer(ExactDType, ReadsInputTypes, QuantizedOutput):
    """Common part of the P-layers: the ``(k, i, f)`` of their output follows from those of their inputs. They
    move values in float32 or float64 under any dtype policy (``ExactDType``)."""

    def input_kifs(self):
        """``(k, i, f)`` of each input, each broadcast to ``(1, *feature_shape)`` of that input."""
        kifs = []
        for producer, shape in zip(self.quantized_input_layers(), self.input_feature_shapes()):
            kifs.append(tuple(ops.broadcast_to(ops.cast(a, "float32"), shape) for a in producer.output_kif()))
        return kifs

    def output_kif(self):
        return self.output_kif_from(self.input_kifs())

    def output_kif_from(self, input_kifs):
        """The output's ``(k, i, f)`` given each input's (each shaped ``(1, *features)``): the layer's rule for
        types, usable on types from anywhere (the cost report applies it to proxy layers)."""
        return tuple(self.call(a) for a in input_kifs[0])


def _neutralize_zero_width(k, i, f):
    """Make always-zero elements (total width <= 0) neutral for a window maximum."""
    zero = (k + i + f) <= 0
    return (ops.where(zero, 0.0, k), ops.where(zero, _NEUTRAL, i), ops.where(zero, _NEUTRAL, f))


def _restore_zero_width(k, i, f):
    """Windows made only of always-zero elements get the zero-width type ``(0, 0, 0)``."""
    zero = f <= _NEUTRAL / 2
    return (ops.where(zero, 0.0, k), ops.where(zero, 0.0, i), ops.where(zero, 0.0, f))


class _PoolingKif:
    """Window maximum of ``k``, ``i``, ``f`` with the layer's own pool size, strides and padding."""

    def _window_union(self, kif):
        # one pooling of k, i and f stacked along the channels instead of three
        axis = -1 if self.data_format == "channels_last" else 1
        stacked = ops.concatenate(_neutralize_zero_width(*kif), axis=axis)
        pooled = ops.max_pool(stacked, pool_size=self.pool_size, strides=self.strides, padding=self.padding,
                              data_format=self.data_format)
        return _restore_zero_width(*ops.split(pooled, 3, axis=axis))


class _PMaxPooling(_PoolingKif):
    """Max pooling: each output's type is the union of the types in its window."""

    def output_kif_from(self, input_kifs):
        return self._window_union(input_kifs[0])


def _is_pow2(n):
    return n >= 1 and (n & (n - 1)) == 0


def _window_counts(n, pool, stride, padding):
    """Number of real (not padded) input elements in each pooling window along one axis."""
    out, pad_before = output_size_and_padding(n, pool, stride, padding)
    starts = np.arange(out) * stride - pad_before
    return np.minimum(starts + pool, n) - np.maximum(starts, 0)


class _PAveragePooling(_PoolingKif):
    """Average pooling is a sum divided by the pool area ``N``. It is exact in fixed point only when ``N`` is a
    power of two: the mean of values of type ``(k, i, f)`` then has type ``(k, i, f + log2 N)``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._check_pool_size()

    def _check_pool_areas(self, spatial_shape):
        counts = [_window_counts(int(n), int(p), int(s), self.padding)
                  for n, p, s in zip(spatial_shape, self.pool_size, self.strides)]
        areas = counts[0]
        for c in counts[1:]:
            areas = np.multiply.outer(areas, c)
        bad = sorted({int(a) for a in np.ravel(areas) if not _is_pow2(int(a))})
        if bad:
            where = "pool size" if self.padding == "valid" else "'same' padding (edge pools)"
            raise ValueError(f"{type(self).__name__} {self.name!r}: pool area(s) {bad} from {where} with "
                             f"pool_size={tuple(self.pool_size)}, strides={tuple(self.strides)} on spatial shape "
                             f"{tuple(spatial_shape)} are not powers of two; an average over such a pool is not "
                             "exact in fixed point. Use a power-of-two pool (and 'valid' padding, or sizes "
                             "that give power-of-two edge pools)")
        return np.asarray(areas, dtype=np.float64)

    def _check_pool_size(self):
        area = math.prod(int(p) for p in self.pool_size)
        if not _is_pow2(area):
            raise ValueError(f"{type(self).__name__} {self.name!r}: pool_size={tuple(self.pool_size)} has area "
                             f"{area}, not a power of two; an average over it is not exact in fixed point")

    def build(self, input_shape):
        spatial = input_shape[1:-1] if self.data_format == "channels_last" else input_shape[2:]
        if any(s is None for s in spatial):
            raise ValueError(f"{type(self).__name__} {self.name!r} needs a fixed spatial input shape to check "
                             "its pool areas")
        areas = self._check_pool_areas(spatial)
        log2 = np.log2(areas).round()
        axis = -1 if self.data_format == "channels_last" else 1
        self._log2_area = np.expand_dims(log2, (0, axis)).astype("float32")  # (1, *out_spatial, 1) or (1, 1, ...)
        super().build(input_shape)

    def output_kif_from(self, input_kifs):
        k, i, f = self._window_union(input_kifs[0])
        nonzero = (k + i + f) > 0
        return k, i, ops.where(nonzero, f + self._log2_area, f)


def _serializable(cls):
    return keras.saving.register_keras_serializable(package="hgq")(cls)


@_serializable
class PFlatten(PassThroughLayer, keras.layers.Flatten):
    """``keras.layers.Flatten`` that carries the bit widths: its output type is its input type, flattened the
    same way (``data_format`` included). Costs nothing."""


@_serializable
class PReshape(PassThroughLayer, keras.layers.Reshape):
    """``keras.layers.Reshape`` that carries the bit widths: its output type is its input type, reshaped.
    Costs nothing."""


@_serializable
class PConcatenate(PassThroughLayer, keras.layers.Concatenate):
    """``keras.layers.Concatenate`` that carries the bit widths: each input's type, concatenated along
    ``axis``. Costs nothing."""

    def output_kif_from(self, input_kifs):
        return tuple(self.call([kif[n] for kif in input_kifs]) for n in range(3))


@_serializable
class PMaxPooling1D(_PMaxPooling, PassThroughLayer, keras.layers.MaxPooling1D):
    """``keras.layers.MaxPooling1D`` that carries the bit widths (see ``PMaxPooling2D``)."""


@_serializable
class PMaxPooling2D(_PMaxPooling, PassThroughLayer, keras.layers.MaxPooling2D):
    """``keras.layers.MaxPooling2D`` that carries the bit widths: each output's type is the union of the types
    in its window (elementwise maximum of ``k``, ``i``, ``f``), which holds any value of the window. Costs
    nothing."""


@_serializable
class PAveragePooling1D(_PAveragePooling, PassThroughLayer, keras.layers.AveragePooling1D):
    """``keras.layers.AveragePooling1D`` that carries the bit widths (see ``PAveragePooling2D``)."""


@_serializable
class PAveragePooling2D(_PAveragePooling, PassThroughLayer, keras.layers.AveragePooling2D):
    """``keras.layers.AveragePooling2D`` that carries the bit widths.

    The average of a window of ``N`` values is their sum divided by ``N``; it is exact in fixed point only
    when ``N`` is a power of two. Then the output type is ``(k, i, f + log2 N)`` with ``k``, ``i``, ``f`` the
    window maxima (the mean lies between the window's extremes, and the division shifts the binary point).
    With ``padding='same'`` Keras (and hls4ml) divide an edge pool by the number of real elements in it, so
    every such count must be a power of two as well. A pool that breaks this raises ``ValueError`` when the
    layer is built. Costs no BOPs (the division by a power of two is a shift).
    """


@_serializable
class Signature(ExactDType, QuantizedOutput, keras.layers.Layer):
    """Declare that the input is already quantized (e.g. samples of an ADC), so that an H-layer may follow it
    without an ``HQuantize``.

    An identity in the H-model; in the proxy model it becomes a ``FixedPointQuantizer`` (``TRN``, ``WRAP``)
    with the declared types. Arguments use hls4ml's convention, each a scalar or an array broadcastable to the
    input's feature shape (without the batch axis):

    Args:
        keep_negative: sign bit, 0 or 1.
        bits: total width (``>= 0``; 0 means the element is always zero).
        int_bits: integer width **including** the sign bit (``ap_fixed<bits, int_bits>``).

    Example:
        >>> x = keras.Input((16,))
        >>> y = HDense(5)(Signature(keep_negative=1, bits=8, int_bits=3)(x))   # ap_fixed<8,3> inputs
    """

    def __init__(self, keep_negative=1, bits=8, int_bits=1, **kwargs):
        super().__init__(**kwargs)
        owner = f"Signature {self.name!r}"
        k = check_int_array(owner, "keep_negative", keep_negative, 0, 1, allow_bool=True)  # a sign flag
        b = check_int_array(owner, "bits", bits, 0)  # 0: the element is always zero
        integers = check_int_array(owner, "int_bits", int_bits)  # ap_fixed's I: any integer
        try:
            np.broadcast_shapes(k.shape, b.shape, integers.shape)
        except ValueError:
            raise ValueError(f"Signature {self.name!r}: keep_negative, bits and int_bits have shapes {k.shape}, "
                             f"{b.shape}, {integers.shape}, which do not broadcast together") from None
        self.keep_negative, self.bits, self.int_bits = k, b, integers

    def build(self, input_shape):
        features = tuple(input_shape[1:])
        for key, arr in (("keep_negative", self.keep_negative), ("bits", self.bits), ("int_bits", self.int_bits)):
            try:
                np.broadcast_to(arr, features)
            except ValueError:
                raise ValueError(f"Signature {self.name!r}: {key} of shape {arr.shape} does not broadcast to "
                                 f"the input feature shape {features}") from None
        self._features = features
        self.built = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def kbi(self):
        """hls4ml's ``(keep_negative, bits, integers)`` broadcast to ``(1, *features)``; ``keep_negative`` and
        ``integers`` are 0 where ``bits`` is 0."""
        shape = (1, *self._features)
        k, b, integers = (np.broadcast_to(a, shape) for a in (self.keep_negative, self.bits, self.int_bits))
        return np.where(b > 0, k, 0), b.copy(), np.where(b > 0, integers, 0)

    def output_kif(self):
        return tuple(ops.convert_to_tensor(a.astype("float32")) for a in kif_from_kbi(self.kbi()))

    def get_config(self):
        cfg = super().get_config()
        cfg.update(keep_negative=self.keep_negative.tolist(), bits=self.bits.tolist(),
                   int_bits=self.int_bits.tolist())
        return cfg
