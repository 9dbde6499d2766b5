"""Proxy converters of saved QKeras (Keras 2) layers, one per Keras 2 class name.

A converter takes ``(layer, inputs, ctx)``, as an hgq layer's spec converter does (``hgq.specs.LayerSpec.convert``):
a ``SavedLayer``, its input proxy tensors and the ``QKerasContext``, which also records which tensors have a known
fixed-point type (derived from quantizers upstream); it returns the output proxy tensor.
"""

import warnings
from dataclasses import dataclass, field

import keras
import numpy as np

from ..families.activation.layer import EXACT_ACTIVATIONS
from ..function_table import FunctionTable
from ..proxy.context import Context
from ..proxy_layers.precision import PROXY_DTYPE
from ..proxy_layers.quantize import apply_quantizer
from .quantizers import QuantizedRelu, parse_quantizer

__all__ = ["QKerasContext", "SavedLayer", "convert", "register"]

_CONVERTERS = FunctionTable()  # Keras 2 class name -> converter


@dataclass(frozen=True)
class SavedLayer:
    """A Keras 2 layer read from a model file: its class name, its config and its weight arrays (``[]`` if none)."""

    class_name: str
    config: dict
    weights: list

    @property
    def name(self):
        return self.config["name"]

    def __str__(self):
        return f"layer {self.name!r} ({self.class_name})"


@dataclass
class QKerasContext(Context):
    """``Context`` of a QKeras import, and the proxy tensors whose fixed-point type is known."""

    typed: set = field(default_factory=set)

    def known(self, tensor):
        """Record that ``tensor``'s type is known; returns it."""
        self.typed.add(id(tensor))
        return tensor


#: Decorator: register the decorated converter under each of the given Keras 2 class names.
register = _CONVERTERS.file


def convert(layer, inputs, ctx):
    """The proxy of the saved layer ``layer`` on ``inputs``; ``ValueError`` naming it when its class is unknown."""
    fn = _CONVERTERS.get(layer.class_name)
    if fn is None:
        raise ValueError(f"{ctx.caller}: {layer}: layer class {layer.class_name!r} is not supported; supported: "
                         f"{', '.join(sorted(_CONVERTERS))}")
    return fn(layer, inputs, ctx)


def _require_typed(layer, inputs, ctx):
    if not all(id(t) in ctx.typed for t in inputs):
        raise ValueError(f"from_qkeras: {layer} is fed by a tensor of unknown fixed-point type (e.g. the "
                         "model input without a QActivation quantizer), so its hardware type cannot be derived")


def _quantized_weights(layer):
    """Kernel (and bias) of a (Q)Dense/(Q)Conv, quantized with the layer's QKeras quantizers."""
    c, where = layer.config, f"from_qkeras: {layer}"
    if not layer.weights:
        raise ValueError(f"{where}: no weights found for it in the weights file")
    keys = ("kernel_quantizer", "bias_quantizer")[:len(layer.weights)]
    if missing := [key for key in keys if not c.get(key)]:
        warnings.warn(f"{where}: no {' and no '.join(missing)}, the float32 values are exported as they are; hls4ml "
                      "sizes them from their values (very wide types), and exactness is not guaranteed", stacklevel=2)
    quantizers = [parse_quantizer(c.get(key), f"{where} {key}") for key in keys]
    return [np.asarray(a, np.float32).astype(np.float64) if q is None else q.quantize(a)
            for a, q in zip(layer.weights, quantizers)]


def _quantized_activation(layer, name, activation, x, ctx):
    """A ``FixedPointQuantizer`` reproducing the QKeras activation quantizer ``activation`` (dict or string).

    ``quantized_relu`` needs no ReLU layer: its unsigned saturating type maps negatives to 0, so it always
    saturates; ``aggressive`` makes the ``quantized_bits`` quantizers wrap.
    """
    q = parse_quantizer(activation, f"from_qkeras: {layer}")
    k, bits, integers, overflow = q.fixed_type()
    wrap = ctx.aggressive and not isinstance(q, QuantizedRelu)
    return apply_quantizer(x, (k, bits, integers), "RND_CONV", "WRAP" if wrap else overflow, name)


def _activation(layer, name, x, ctx):
    """Apply a layer's activation: 'linear', 'relu', or a QKeras quantizer (whose output type is then known)."""
    activation = layer.config.get("activation", "linear")
    if activation not in (None, *EXACT_ACTIVATIONS):
        return ctx.known(_quantized_activation(layer, name, activation, x, ctx))
    _require_typed(layer, [x], ctx)
    if activation == "relu":
        return ctx.known(keras.layers.Activation("relu", name=name, dtype=PROXY_DTYPE)(x))
    return x


def _weighted(layer, inputs, plain, ctx):
    _require_typed(layer, inputs, ctx)
    y = ctx.known(plain(inputs[0]))
    plain.set_weights(_quantized_weights(layer))
    return _activation(layer, f"{layer.name}_act", y, ctx)


def _moving(layer, inputs, plain, ctx):
    """A layer that moves typed values: its output's type is known."""
    _require_typed(layer, inputs, ctx)
    return ctx.known(plain(inputs if len(inputs) > 1 else inputs[0]))


@register("InputLayer")
def convert_input(layer, inputs, ctx):
    shape = layer.config["batch_input_shape"][1:]
    return keras.Input(shape=shape, dtype=PROXY_DTYPE, name=layer.name)


@register("QActivation", "Activation")
def convert_activation(layer, inputs, ctx):
    return _activation(layer, layer.name, inputs[0], ctx)


@register("QDense", "Dense")
def convert_dense(layer, inputs, ctx):
    plain = keras.layers.Dense(layer.config["units"], use_bias=layer.config["use_bias"], name=layer.name,
                               dtype=PROXY_DTYPE)
    return _weighted(layer, inputs, plain, ctx)


@register("QConv1D", "Conv1D", "QConv2D", "Conv2D")
def convert_conv(layer, inputs, ctx):
    c = layer.config
    if c.get("data_format", "channels_last") != "channels_last" or c.get("groups", 1) != 1:
        raise ValueError(f"from_qkeras: {layer}: only channels_last convolutions with groups=1 are supported")
    plain_class = getattr(keras.layers, layer.class_name.removeprefix("Q"))
    plain = plain_class(c["filters"], c["kernel_size"], strides=c["strides"], padding=c["padding"],
                        dilation_rate=c["dilation_rate"], use_bias=c["use_bias"], name=layer.name, dtype=PROXY_DTYPE)
    return _weighted(layer, inputs, plain, ctx)


@register("MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D")
def convert_pool(layer, inputs, ctx):
    c = layer.config
    if c.get("data_format", "channels_last") != "channels_last":
        raise ValueError(f"from_qkeras: {layer}: only channels_last pooling is supported")
    if layer.class_name.startswith("Average"):
        area = int(np.prod(c["pool_size"]))
        if c["padding"] != "valid" or area & (area - 1):
            raise ValueError(f"from_qkeras: {layer}: average pooling is exact only with padding='valid' and "
                             "a power-of-two pool area")
    plain = getattr(keras.layers, layer.class_name)(c["pool_size"], strides=c["strides"], padding=c["padding"],
                                                    name=layer.name, dtype=PROXY_DTYPE)
    return _moving(layer, inputs, plain, ctx)


@register("Flatten")
def convert_flatten(layer, inputs, ctx):
    return _moving(layer, inputs, keras.layers.Flatten(name=layer.name, dtype=PROXY_DTYPE), ctx)


@register("Reshape")
def convert_reshape(layer, inputs, ctx):
    plain = keras.layers.Reshape(layer.config["target_shape"], name=layer.name, dtype=PROXY_DTYPE)
    return _moving(layer, inputs, plain, ctx)


@register("Concatenate")
def convert_concatenate(layer, inputs, ctx):
    plain = keras.layers.Concatenate(axis=layer.config.get("axis", -1), name=layer.name, dtype=PROXY_DTYPE)
    return _moving(layer, inputs, plain, ctx)


@register("Add")
def convert_add(layer, inputs, ctx):
    return _moving(layer, inputs, keras.layers.Add(name=layer.name, dtype=PROXY_DTYPE), ctx)
