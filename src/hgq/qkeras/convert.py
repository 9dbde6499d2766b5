"""Build the proxy model of a QKeras model config: a registry of one small function per layer class.

Each converter takes ``(cfg, inputs, weights, ctx)`` where ``inputs`` are ``Node`` objects (a proxy tensor and
whether hls4ml can know its fixed-point type exactly) and returns the output ``Node``.
"""

import warnings
from dataclasses import dataclass

import keras
import numpy as np

from ..proxy.convert import PROXY_DTYPE, apply_quantizer
from .quantizers import QuantizedRelu, parse_quantizer

CONVERTERS = {}


@dataclass
class Node:
    """A proxy tensor, and whether its fixed-point type is known (derived from quantizers upstream)."""

    tensor: object
    typed: bool


@dataclass
class Context:
    """Conversion options: ``aggressive`` makes ``quantized_bits`` activations wrap on overflow instead of
    saturating like QKeras."""

    aggressive: bool


def converter(*class_names):
    """Register the decorated function as the converter of these Keras 2 layer classes."""
    def register(fn):
        for name in class_names:
            CONVERTERS[name] = fn
        return fn
    return register


def _where(cfg):
    return f"layer {cfg['config']['name']!r} ({cfg['class_name']})"


def _require_typed(cfg, inputs):
    if not all(node.typed for node in inputs):
        raise ValueError(f"from_qkeras: {_where(cfg)} is fed by a tensor of unknown fixed-point type (e.g. the "
                         "model input without a QActivation quantizer), so its hardware type cannot be derived")


def _quantized_weights(cfg, weights):
    """Kernel (and bias) of a (Q)Dense/(Q)Conv, quantized with the layer's QKeras quantizers."""
    c, where = cfg["config"], f"from_qkeras: {_where(cfg)}"
    arrays = weights.get(c["name"])
    if not arrays:
        raise ValueError(f"{where}: no weights found for it in the weights file")
    keys = ("kernel_quantizer", "bias_quantizer")[:len(arrays)]
    if missing := [key for key in keys if not c.get(key)]:
        warnings.warn(f"{where}: no {' and no '.join(missing)}, the float32 values are exported as they are; hls4ml "
                      "sizes them from their values (very wide types), and exactness is not guaranteed", stacklevel=2)
    quantizers = [parse_quantizer(c.get(key), f"{where} {key}") for key in keys]
    return [np.asarray(a, np.float32).astype(np.float64) if q is None else q.quantize(a)
            for a, q in zip(arrays, quantizers)]


def _quantized_activation(cfg, name, activation, x, ctx):
    """A ``FixedPointQuantizer`` reproducing the QKeras activation quantizer ``activation`` (dict or string).

    ``quantized_relu`` needs no ReLU layer: its unsigned saturating type maps negatives to 0, so it always
    saturates; ``aggressive`` makes the ``quantized_bits`` quantizers wrap.
    """
    q = parse_quantizer(activation, f"from_qkeras: {_where(cfg)}")
    k, bits, integers, overflow = q.fixed_type()
    wrap = ctx.aggressive and not isinstance(q, QuantizedRelu)
    return apply_quantizer(x, (k, bits, integers), "RND_CONV", "WRAP" if wrap else overflow, name)


def _activation(cfg, name, x, ctx):
    """Apply a layer's activation: 'linear', 'relu', or a QKeras quantizer (whose output type is then known)."""
    activation = cfg["config"].get("activation", "linear")
    if activation not in (None, "linear", "relu"):
        return Node(_quantized_activation(cfg, name, activation, x.tensor, ctx), True)
    _require_typed(cfg, [x])
    if activation == "relu":
        return Node(keras.layers.Activation("relu", name=name, dtype=PROXY_DTYPE)(x.tensor), True)
    return x


def _weighted(cfg, inputs, weights, layer, ctx):
    _require_typed(cfg, inputs)
    y = layer(inputs[0].tensor)
    layer.set_weights(_quantized_weights(cfg, weights))
    return _activation(cfg, f"{cfg['config']['name']}_act", Node(y, True), ctx)


@converter("InputLayer")
def _input(cfg, inputs, weights, ctx):
    shape = cfg["config"]["batch_input_shape"][1:]
    return Node(keras.Input(shape=shape, dtype=PROXY_DTYPE, name=cfg["config"]["name"]), False)


@converter("QActivation", "Activation")
def _qactivation(cfg, inputs, weights, ctx):
    return _activation(cfg, cfg["config"]["name"], inputs[0], ctx)


@converter("QDense", "Dense")
def _dense(cfg, inputs, weights, ctx):
    c = cfg["config"]
    layer = keras.layers.Dense(c["units"], use_bias=c["use_bias"], name=c["name"], dtype=PROXY_DTYPE)
    return _weighted(cfg, inputs, weights, layer, ctx)


@converter("QConv1D", "Conv1D", "QConv2D", "Conv2D")
def _conv(cfg, inputs, weights, ctx):
    c = cfg["config"]
    if c.get("data_format", "channels_last") != "channels_last" or c.get("groups", 1) != 1:
        raise ValueError(f"from_qkeras: {_where(cfg)}: only channels_last convolutions with groups=1 are supported")
    layer_class = getattr(keras.layers, cfg["class_name"].removeprefix("Q"))
    layer = layer_class(c["filters"], c["kernel_size"], strides=c["strides"], padding=c["padding"],
                        dilation_rate=c["dilation_rate"], use_bias=c["use_bias"], name=c["name"], dtype=PROXY_DTYPE)
    return _weighted(cfg, inputs, weights, layer, ctx)


@converter("MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D")
def _pool(cfg, inputs, weights, ctx):
    _require_typed(cfg, inputs)
    c = cfg["config"]
    if c.get("data_format", "channels_last") != "channels_last":
        raise ValueError(f"from_qkeras: {_where(cfg)}: only channels_last pooling is supported")
    if cfg["class_name"].startswith("Average"):
        area = int(np.prod(c["pool_size"]))
        if c["padding"] != "valid" or area & (area - 1):
            raise ValueError(f"from_qkeras: {_where(cfg)}: average pooling is exact only with padding='valid' and "
                             "a power-of-two pool area")
    layer = getattr(keras.layers, cfg["class_name"])(c["pool_size"], strides=c["strides"], padding=c["padding"],
                                                     name=c["name"], dtype=PROXY_DTYPE)
    return Node(layer(inputs[0].tensor), True)


@converter("Flatten")
def _flatten(cfg, inputs, weights, ctx):
    _require_typed(cfg, inputs)
    return Node(keras.layers.Flatten(name=cfg["config"]["name"], dtype=PROXY_DTYPE)(inputs[0].tensor), True)


@converter("Reshape")
def _reshape(cfg, inputs, weights, ctx):
    _require_typed(cfg, inputs)
    c = cfg["config"]
    return Node(keras.layers.Reshape(c["target_shape"], name=c["name"], dtype=PROXY_DTYPE)(inputs[0].tensor), True)


@converter("Concatenate")
def _concatenate(cfg, inputs, weights, ctx):
    _require_typed(cfg, inputs)
    c = cfg["config"]
    layer = keras.layers.Concatenate(axis=c.get("axis", -1), name=c["name"], dtype=PROXY_DTYPE)
    return Node(layer([node.tensor for node in inputs]), True)


@converter("Add")
def _add(cfg, inputs, weights, ctx):
    _require_typed(cfg, inputs)
    return Node(keras.layers.Add(name=cfg["config"]["name"], dtype=PROXY_DTYPE)([n.tensor for n in inputs]), True)


def convert_layer(cfg, inputs, weights, ctx):
    """Convert one layer config on its input ``Node`` list; raise ``ValueError`` for an unsupported class."""
    if cfg["class_name"] not in CONVERTERS:
        raise ValueError(f"from_qkeras: {_where(cfg)}: layer class {cfg['class_name']!r} is not supported")
    return CONVERTERS[cfg["class_name"]](cfg, inputs, weights, ctx)
