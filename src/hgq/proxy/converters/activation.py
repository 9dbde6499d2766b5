"""Proxy converter of HActivation: an exact Keras activation, a ``UnaryLUT`` table, or hls4ml's own function."""

import warnings

import keras
import numpy as np
from keras import ops

from ...layers import HActivation
from ..convert import PROXY_DTYPE, apply_quantizer, as_numpy, quantize_output
from ..registry import register
from ..unary_lut import UnaryLUT, minimal_kif, table_inputs

EXACT_ACTIVATIONS = ("linear", "relu")
NON_ELEMENTWISE_ACTIVATIONS = ("softmax", "log_softmax")


@register(HActivation)
def convert_activation(layer, x, ctx):
    name = keras.activations.serialize(layer.activation)
    builtin = isinstance(name, str)
    name = name if builtin else keras.saving.get_registered_name(layer.activation)
    if name in EXACT_ACTIVATIONS:
        if name != "linear":
            x = keras.layers.Activation(name, name=layer.name, dtype=PROXY_DTYPE)(x)
        return quantize_output(layer, x, ctx)
    if name not in NON_ELEMENTWISE_ACTIVATIONS:
        reason = _unary_lut_refusal(layer, ctx)
        if reason is None and not builtin and ">" not in name:
            reason = (f"its activation {name!r} is not a registered serializable function; decorate it with "
                      "@keras.saving.register_keras_serializable()")
        if reason is None:
            return _unary_lut(layer, x, ctx)
        if not builtin:
            raise ValueError(f"to_proxy_model: HActivation {layer.name!r} ({name}) cannot be exported: {reason}")
        detail = f" ({reason})"
    else:
        detail = ""
    warnings.warn(f"HActivation {layer.name!r} ({name}): hls4ml evaluates {name} with its own lookup "
                  f"tables, so this layer of the proxy is not bit-exact with hls4ml{detail}", stacklevel=3)
    x = keras.layers.Activation(name, name=layer.name, dtype=PROXY_DTYPE)(x)
    return quantize_output(layer, x, ctx)


def _union_input_kif(layer):
    """One ``(k, i, f)`` holding every element of the HActivation's input (zero-width elements ignored)."""
    k, i, f = (as_numpy(a) for a in layer.quantized_input_layers()[0].output_kif())
    k, i, f = np.broadcast_arrays(k, i, f)
    live = k + i + f > 0
    if not np.any(live):
        return None
    return tuple(int(np.max(a[live])) for a in (k, i, f))


def _unary_lut_refusal(layer, ctx):
    """Why the HActivation cannot become a UnaryLUT, or ``None`` when it can."""
    try:
        kif = _union_input_kif(layer)
    except ValueError as e:
        return f"its input type is unknown ({e})"
    if kif is None:
        return "its input has zero bits"
    size = 2 ** sum(kif)
    if size > ctx.unary_lut_max_table_size:
        return (f"its input type fixed<k={kif[0]}, i={kif[1]}, f={kif[2]}> needs a {size}-entry table, more than "
                f"unary_lut_max_table_size={ctx.unary_lut_max_table_size}")
    return None


def _unary_lut(layer, x, ctx):
    """[homogeneous input quantizer] -> UnaryLUT -> the layer's own output quantizer.

    The input quantizer (the union type of the producer's per-element types, TRN, WRAP) changes no value:
    every input already lies on that grid and in that range. It fixes the type hls4ml feeds to the table.

    Table values: ``y = act(v)`` computed in float32 exactly as the H-model does, then floored to
    ``F + 1`` fractional bits, ``F`` the largest output fractional width. The output quantizer then rounds
    each element to its own ``f <= F``. This equals rounding ``y`` directly: with ``t = floor(y, F + 1)``,
    ``t <= y < t + 2^-(F+1)``, and ``t * 2^f + 1/2`` is a multiple of ``2^(f-F-1) <= 1/2``, so no integer
    lies in ``(t * 2^f + 1/2, y * 2^f + 1/2]`` and both round half up (and both floor) to the same value.
    """
    kif_in = _union_input_kif(layer)
    k_in, i_in, f_in = kif_in
    x = apply_quantizer(x, (k_in, k_in + i_in + f_in, k_in + i_in), "TRN", "WRAP", f"{layer.name}_in")

    v = table_inputs(*kif_in)
    y = as_numpy(layer.activation(ops.convert_to_tensor(v.astype(np.float32))))
    if y.shape != v.shape or not np.all(np.isfinite(y)):
        raise ValueError(f"to_proxy_model: HActivation {layer.name!r}: its activation is not an element-wise "
                         "function with finite values on its input range, so it cannot be tabulated")
    k, i, f = (as_numpy(a) for a in layer.paq.kif())
    live = (k + i + f) > 0
    f_max = int(np.max(f[live])) if np.any(live) else 0
    table = np.floor(y * 2.0 ** (f_max + 1)) / 2.0 ** (f_max + 1)
    lut = UnaryLUT(table_size=table.size, kif_in=kif_in, kif_out=minimal_kif(table), name=layer.name,
                   dtype=PROXY_DTYPE)
    y = lut(x)
    lut.set_weights([table])
    return quantize_output(layer, y, ctx)
