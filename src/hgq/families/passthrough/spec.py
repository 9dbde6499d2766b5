"""Specs of the layers that move values without multiplying: the P-layers (``PFlatten``, ``PReshape``, ``PPermute``,
``PConcatenate``, ``PMaxPooling*``, ``PAveragePooling*``, ``PGlobalMaxPooling*``, ``PGlobalAveragePooling*``,
``PZeroPadding*``, ``PCropping*``, ``PUpSampling*``), the plain Keras layers they export to and ``Dropout`` (the identity
at inference).

A P-layer's types follow its own rule (``output_kif_from``: the types training counts BOPs with). A plain layer's
follow hls4ml's bit-exact pass: a pooling window's type is the element-wise maximum of its elements' types, a zero or
padded element counting ``(0, 0, 0)``, and an average adds the fractional bits of ``1 / count``.
"""

import math

import keras
import numpy as np
from keras import ops

from ... import graph
from ...proxy_layers.chain import two_input_chain
from ...proxy_layers.precision import PROXY_DTYPE
from ...quantizer.types import as_numpy, fewest_fractional_bits
from .. import estimates
from ..kernel.geometry import windows
from ..registry import LayerSpec, register
from .hls_handler import COPYING_LAYERS
from .layers import (PAveragePooling1D, PAveragePooling2D, PConcatenate, PCropping1D, PCropping2D, PFlatten,
                     PGlobalAveragePooling1D, PGlobalAveragePooling2D, PGlobalMaxPooling1D, PGlobalMaxPooling2D,
                     PMaxPooling1D, PMaxPooling2D, PPermute, PReshape, PUpSampling1D, PUpSampling2D, PZeroPadding1D,
                     PZeroPadding2D, spatial_axes)

_POOLINGS = (keras.layers.MaxPooling1D, keras.layers.MaxPooling2D, keras.layers.AveragePooling1D,
             keras.layers.AveragePooling2D)
_GLOBAL_POOLINGS = (keras.layers.GlobalMaxPooling1D, keras.layers.GlobalMaxPooling2D,
                    keras.layers.GlobalAveragePooling1D, keras.layers.GlobalAveragePooling2D)
_GLOBAL_POOLINGS_1D = (keras.layers.GlobalMaxPooling1D, keras.layers.GlobalAveragePooling1D)
_AVERAGES = (keras.layers.AveragePooling1D, keras.layers.AveragePooling2D, keras.layers.GlobalAveragePooling1D,
             keras.layers.GlobalAveragePooling2D)


#: Each P-layer and the plain Keras layer it is (its Keras base class): what the proxy holds in its place.
PLAIN_LAYERS = {cls: next(c for c in cls.__mro__ if c.__module__.startswith("keras."))
                for cls in (PFlatten, PReshape, PPermute, PConcatenate, PMaxPooling1D, PMaxPooling2D,
                            PAveragePooling1D, PAveragePooling2D, PGlobalMaxPooling1D, PGlobalMaxPooling2D,
                            PGlobalAveragePooling1D, PGlobalAveragePooling2D, PZeroPadding1D, PZeroPadding2D,
                            PCropping1D, PCropping2D, PUpSampling1D, PUpSampling2D)}
#: The P-layer of each plain Keras layer (what ``quantize_model`` makes of it).
P_LAYERS = {plain: p_layer for p_layer, plain in PLAIN_LAYERS.items()}


def plain_copy(layer, **config):
    """The plain Keras layer that the P-layer ``layer`` is, with its config (``config`` overriding), in float64."""
    plain = PLAIN_LAYERS[next(cls for cls in type(layer).__mro__ if cls in PLAIN_LAYERS)]
    return plain.from_config({**layer.get_config(), "dtype": PROXY_DTYPE, **config})


def quantized_p_layer(layer, args, kwargs, options):
    """``quantize_model``'s P-layer of a plain layer: the same config (its types follow from its inputs'), built
    directly so that a config the P-layer refuses raises its own ``ValueError``."""
    return P_LAYERS[type(layer)](**{**layer.get_config(), "dtype": layer.dtype_policy})(args[0])


class MovesValues(LayerSpec):
    """A layer that moves (or selects) values per channel; its output types follow its inputs'."""

    def is_channelwise(self, layer):
        return True

    def output_kif(self, layer, input_kifs):
        if any(kif is None for kif in input_kifs):
            return None
        return self.rule(layer, input_kifs)

    def rule(self, layer, input_kifs):
        """The output types given known input types (each ``(1, *features)``)."""
        return input_kifs[0]

    def latency(self, layer, input_kifs):
        pool = getattr(layer, "pool_size", None)
        return estimates.reduction_latency(math.prod(int(p) for p in pool)) if pool else 0


@register(keras.layers.Dropout)
class DropoutSpec(MovesValues):
    """The identity at inference: ``quantize_model`` drops it."""

    def quantized(self, layer, args, kwargs, options):
        return args[0]


@register(keras.layers.Flatten, keras.layers.Reshape)
class ReshapeSpec(MovesValues):
    quantized = staticmethod(quantized_p_layer)

    def is_channelwise(self, layer):
        return False

    def rule(self, layer, input_kifs):
        shape = (1, *layer.compute_output_shape((None, *input_kifs[0][0].shape[1:]))[1:])
        return tuple(np.reshape(a, shape) for a in input_kifs[0])


@register(keras.layers.Permute)
class PermuteSpec(MovesValues):
    quantized = staticmethod(quantized_p_layer)

    def is_channelwise(self, layer):
        return False

    def rule(self, layer, input_kifs):
        return tuple(np.transpose(a, (0, *layer.dims)) for a in input_kifs[0])

    def hls4ml_refusal(self, layer):
        if layer.name == "perm":
            return ("hls4ml keeps a layer's output under its name among its attributes, where its Transpose keeps the "
                    "permutation ('perm'), and then fails with a TypeError: rename the layer")
        return None


@register(*COPYING_LAYERS)
class CopySpec(MovesValues):
    """Padding, cropping, upsampling: each output is a copy of an input element (its type) or a zero (no width)."""

    quantized = staticmethod(quantized_p_layer)

    def rule(self, layer, input_kifs):
        return tuple(as_numpy(layer.call(ops.convert_to_tensor(np.asarray(a, np.float32)))) for a in input_kifs[0])


@register(keras.layers.Concatenate)
class ConcatenateSpec(MovesValues):
    quantized = staticmethod(quantized_p_layer)

    def is_channelwise(self, layer):
        return False

    def rule(self, layer, input_kifs):
        return tuple(np.concatenate([kif[n] for kif in input_kifs], axis=layer.axis) for n in range(3))

    def hls4ml_refusal(self, layer):
        n = len(graph.input_shapes(layer))
        return None if n == 2 else (f"it has {n} inputs, and hls4ml's Concatenate takes two: chain two-input "
                                    "Concatenate layers (to_proxy_model exports a PConcatenate so)")


@register(*_POOLINGS)
class PoolingSpec(MovesValues):
    quantized = staticmethod(quantized_p_layer)

    def rule(self, layer, input_kifs):
        cut = [windows(np.asarray(a)[0], layer.pool_size, layer.strides, layer.padding, fill=0.0)
               for a in (*input_kifs[0], np.ones_like(input_kifs[0][0]))]
        axes = tuple(range(len(layer.pool_size), 2 * len(layer.pool_size)))
        k, i, f = (np.max(a, axis=axes)[None] for a in cut[:3])
        if isinstance(layer, _AVERAGES):
            f = f + fewest_fractional_bits(1.0 / np.sum(cut[3], axis=axes))[None]
        return k, i, f


def _global_pooling_positions(layer, input_kifs):
    """The number of positions a global pooling reduces, from its input's types (shaped ``(1, *features)``)."""
    shape = input_kifs[0][0].shape
    return math.prod(shape[a] for a in spatial_axes(layer.data_format, len(shape)))


def _global_pooling_latency(layer, input_kifs):
    return estimates.reduction_latency(_global_pooling_positions(layer, input_kifs)) if input_kifs[0] else 0


@register(*_GLOBAL_POOLINGS)
class GlobalPoolingSpec(MovesValues):
    quantized = staticmethod(quantized_p_layer)

    def rule(self, layer, input_kifs):
        axes = spatial_axes(layer.data_format, input_kifs[0][0].ndim)
        k, i, f = (np.max(np.asarray(a), axis=axes, keepdims=layer.keepdims) for a in input_kifs[0])
        if isinstance(layer, _AVERAGES):
            f = f + fewest_fractional_bits(1.0 / _global_pooling_positions(layer, input_kifs))
        return k, i, f

    def latency(self, layer, input_kifs):
        return _global_pooling_latency(layer, input_kifs)


@register(*PLAIN_LAYERS)
class PLayerSpec(MovesValues):
    """A P-layer: its own type rule; exported as the plain layer it is, in float64 (flattening, reshaping,
    concatenating and max pooling change no value; an average over a power-of-two pool is exact in float64)."""

    def is_channelwise(self, layer):
        return isinstance(layer, _POOLINGS + _GLOBAL_POOLINGS)

    def rule(self, layer, input_kifs):
        tensors = [tuple(ops.convert_to_tensor(np.asarray(a, np.float32)) for a in kif) for kif in input_kifs]
        return tuple(as_numpy(a) for a in layer.output_kif_from(tensors))

    def convert(self, layer, x, ctx):
        return plain_copy(layer)(x)


@register(PGlobalMaxPooling1D, PGlobalMaxPooling2D, PGlobalAveragePooling1D, PGlobalAveragePooling2D)
class PGlobalPoolingSpec(PLayerSpec):
    def latency(self, layer, input_kifs):
        return _global_pooling_latency(layer, input_kifs)

    def convert(self, layer, x, ctx):
        """A 1-D pooling without ``keepdims`` exports as it is. ``keepdims=True`` and 2-D poolings become the pooling
        without ``keepdims`` (named ``<name>_pool``) and a ``Reshape`` to the layer's output shape: hls4ml's global
        pooling writes one value per channel, and its bit-exact pass gives a 2-D one's types a spurious leading axis
        (which a following ``Concatenate`` cannot join). The same values in the same order."""
        if not layer.keepdims and isinstance(layer, _GLOBAL_POOLINGS_1D):
            return super().convert(layer, x, ctx)
        pooled = plain_copy(layer, keepdims=False, name=f"{layer.name}_pool")(x)
        return keras.layers.Reshape(layer.compute_output_shape(x.shape)[1:], name=layer.name, dtype=PROXY_DTYPE)(
            pooled)


@register(PConcatenate)
class PConcatenateSpec(PLayerSpec):
    def convert(self, layer, inputs, ctx):
        """More than two inputs become a chain of two-input ``Concatenate`` layers (hls4ml's takes two), named
        ``<name>``, ``<name>_1``, ...: the same values in the same order."""
        return two_input_chain(lambda name: plain_copy(layer, name=name), layer.name, list(inputs))
