"""P-layers: Keras layers that move quantized values without arithmetic cost, carrying their bit widths.

``PFlatten``, ``PReshape``, ``PPermute``, ``PConcatenate``, ``PMaxPooling1D/2D``, ``PAveragePooling1D/2D``,
``PGlobalMaxPooling1D/2D``, ``PGlobalAveragePooling1D/2D``, ``PZeroPadding1D/2D``, ``PCropping1D/2D`` and
``PUpSampling1D/2D`` subclass the Keras layer of the same name and report the fixed-point type of their output (``output_kif``), computed from
the types of their inputs, so that an H-layer after them counts its BOPs from the right input widths. They
have no quantizer, no ``beta`` and no BOPs; they need a quantized input (an H-layer, ``Signature`` or another
P-layer before them).
"""

import math

import keras
import numpy as np
from keras import ops

from ...quantizer.quantizer import ExactDType
from ..hlayer import QuantizedOutput, ReadsInputTypes
from ..kernel.geometry import output_size_and_padding

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


def spatial_axes(data_format, rank):
    """The spatial axes of a tensor of ``rank`` (batch axis included) in ``data_format``."""
    return tuple(range(1, rank - 1)) if data_format == "channels_last" else tuple(range(2, rank))


class _PGlobalPooling:
    """Global pooling: each channel's type is the union of its types over every position."""

    def _global_union(self, kif):
        axes = spatial_axes(self.data_format, len(kif[0].shape))
        pooled = (ops.max(a, axis=axes, keepdims=self.keepdims) for a in _neutralize_zero_width(*kif))
        return _restore_zero_width(*pooled)

    def output_kif_from(self, input_kifs):
        return self._global_union(input_kifs[0])


class _PGlobalAveragePooling(_PGlobalPooling):
    """A global average is a sum divided by the number ``N`` of positions, exact in fixed point only when ``N`` is a
    power of two: the type is then ``(k, i, f + log2 N)`` of the channel's union type."""

    def build(self, input_shape):
        spatial = [input_shape[a] for a in spatial_axes(self.data_format, len(input_shape))]
        if any(s is None for s in spatial):
            raise ValueError(f"{type(self).__name__} {self.name!r} needs a fixed spatial input shape (got "
                             f"{tuple(input_shape[1:])}) to check that it averages a power-of-two number of values")
        count = math.prod(int(s) for s in spatial)
        if not _is_pow2(count):
            raise ValueError(f"{type(self).__name__} {self.name!r}: it averages {count} positions (input shape "
                             f"{tuple(input_shape[1:])}), not a power of two; hls4ml divides by {count} and truncates, "
                             "which no fixed-point type holds exactly. Give it a power-of-two number of positions "
                             "(e.g. pad or crop the feature map), or use PGlobalMaxPooling")
        self._log2_count = float(np.log2(count))
        super().build(input_shape)

    def output_kif_from(self, input_kifs):
        k, i, f = self._global_union(input_kifs[0])
        return k, i, ops.where((k + i + f) > 0, f + self._log2_count, f)


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
class PPermute(PassThroughLayer, keras.layers.Permute):
    """``keras.layers.Permute`` that carries the bit widths: its output type is its input type, permuted the same
    way. Costs nothing."""


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
class PGlobalMaxPooling1D(_PGlobalPooling, PassThroughLayer, keras.layers.GlobalMaxPooling1D):
    """``keras.layers.GlobalMaxPooling1D`` that carries the bit widths (see ``PGlobalMaxPooling2D``)."""


@_serializable
class PGlobalMaxPooling2D(_PGlobalPooling, PassThroughLayer, keras.layers.GlobalMaxPooling2D):
    """``keras.layers.GlobalMaxPooling2D`` that carries the bit widths: each channel's type is the union of its
    types over every position (element-wise maximum of ``k``, ``i``, ``f``). Costs nothing."""


@_serializable
class PGlobalAveragePooling1D(_PGlobalAveragePooling, PassThroughLayer, keras.layers.GlobalAveragePooling1D):
    """``keras.layers.GlobalAveragePooling1D`` that carries the bit widths (see ``PGlobalAveragePooling2D``)."""


@_serializable
class PGlobalAveragePooling2D(_PGlobalAveragePooling, PassThroughLayer, keras.layers.GlobalAveragePooling2D):
    """``keras.layers.GlobalAveragePooling2D`` that carries the bit widths.

    The mean of ``N`` positions is their sum divided by ``N``, exact in fixed point only when ``N`` is a power of
    two; each channel's type is then ``(k, i, f + log2 N)`` of the union of its types. hls4ml divides by any other
    ``N`` and truncates, which no fixed-point type holds: such an input shape raises ``ValueError`` when the layer is
    built. Costs no BOPs (the division by a power of two is a shift).
    """


@_serializable
class PZeroPadding1D(PassThroughLayer, keras.layers.ZeroPadding1D):
    """``keras.layers.ZeroPadding1D`` that carries the bit widths (see ``PZeroPadding2D``)."""


@_serializable
class PZeroPadding2D(PassThroughLayer, keras.layers.ZeroPadding2D):
    """``keras.layers.ZeroPadding2D`` that carries the bit widths: the input's types where the values are, zero width
    where it pads (a zero). Costs nothing."""


@_serializable
class PCropping1D(PassThroughLayer, keras.layers.Cropping1D):
    """``keras.layers.Cropping1D`` that carries the bit widths (see ``PCropping2D``)."""


@_serializable
class PCropping2D(PassThroughLayer, keras.layers.Cropping2D):
    """``keras.layers.Cropping2D`` that carries the bit widths: the types of the elements it keeps. Costs nothing."""


@_serializable
class PUpSampling1D(PassThroughLayer, keras.layers.UpSampling1D):
    """``keras.layers.UpSampling1D`` that carries the bit widths (see ``PUpSampling2D``)."""


@_serializable
class PUpSampling2D(PassThroughLayer, keras.layers.UpSampling2D):
    """``keras.layers.UpSampling2D`` that carries the bit widths: each copy has its original's type. Costs nothing.

    Only ``interpolation="nearest"`` copies values (hls4ml computes no other); any other raises ``ValueError``.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.interpolation != "nearest":
            raise ValueError(f"PUpSampling2D {self.name!r}: interpolation={self.interpolation!r}; only 'nearest' "
                             "copies values (hls4ml's upsampling computes no other). Use interpolation='nearest'")
