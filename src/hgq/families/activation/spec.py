"""Specs of the activations: ``HActivation`` (exported as an exact Keras activation, a ``UnaryLUT`` table, or
hls4ml's own function), ``HPReLU`` (exported as a plain ``PReLU``), the plain ``Activation``/``ReLU``/``LeakyReLU``/
``ELU``/``PReLU`` layers and the proxy's ``UnaryLUT``."""

import types
import warnings

import keras
import numpy as np
from keras import ops

from ...proxy_layers.precision import PROXY_DTYPE
from ...proxy_layers.quantize import apply_quantizer, quantize_output
from ...quantizer.types import all_values, as_numpy, kbi_from_kif, minimal_kif, total_bits, union_kif
from .. import estimates
from ..costs import LayerCosts, width_stats
from ..copy import copy_weight
from ..registry import LayerSpec, OwnTypes, register
from ..softmax import HSoftmax
from .functions import ParametricELU, ParametricReLU
from .layer import EXACT_ACTIVATIONS, HActivation
from .prelu import HPReLU, prelu_kif
from .proxy import UnaryLUT


class Elementwise(LayerSpec):
    """An element-wise function: one cycle (a table or a comparison per element)."""

    def latency(self, layer, input_kifs):
        return 1

    def is_channelwise(self, layer):
        return True


@register(keras.layers.Activation, keras.layers.ReLU, keras.layers.LeakyReLU, keras.layers.ELU)
class ActivationSpec(Elementwise):
    """hls4ml's rule: ``linear`` keeps the type, ``relu`` drops the sign; any other function's type is unknown.
    ``quantize_model`` makes an ``HActivation`` of each (a ``ReLU`` with options, a ``LeakyReLU`` and an ``ELU``
    compute a ``ParametricReLU`` / ``ParametricELU``)."""

    def output_kif(self, layer, input_kifs):
        name = _function(layer)
        if input_kifs[0] is None or name not in EXACT_ACTIVATIONS:
            return None
        k, i, f = input_kifs[0]
        return (np.zeros_like(k) if name == "relu" else k), i, f

    def quantized(self, layer, args, kwargs, options):
        return h_activation(_function(layer) or _parametric(layer), layer.name, options)(args[0])


def h_activation(function, name, options):
    """``quantize_model``'s H-layer for the activation ``function`` (a name or an element-wise callable):
    ``HSoftmax`` over the last axis for ``softmax``, ``HActivation`` otherwise."""
    if function == "softmax":
        return HSoftmax(axis=-1, name=name, **options.h_kwargs(kernel=False))
    return HActivation(function, name=name, **options.h_kwargs(kernel=False))


def _parametric(layer):
    """The element-wise function of a ``ReLU`` with options, a ``LeakyReLU`` or an ``ELU``."""
    cfg = layer.get_config()
    if isinstance(layer, keras.layers.ELU):
        return ParametricELU(cfg["alpha"])
    if isinstance(layer, keras.layers.LeakyReLU):
        return ParametricReLU(negative_slope=cfg["negative_slope"])
    return ParametricReLU(cfg["negative_slope"], cfg["max_value"], cfg["threshold"])


def _function(layer):
    """The name of a plain activation layer's function (``None`` for a ReLU with options, a LeakyReLU, an ELU)."""
    cfg = layer.get_config()
    if isinstance(layer, keras.layers.Activation):
        return cfg["activation"]
    plain_relu = isinstance(layer, keras.layers.ReLU) and cfg.get("max_value") is None and not cfg.get(
        "negative_slope") and not cfg.get("threshold")
    return "relu" if plain_relu else None


@register(UnaryLUT)
class UnaryLUTSpec(Elementwise):
    """A table: its values' type (hls4ml counts a zero as ``(0, 0, 0)``); it costs its entries."""

    def output_kif(self, layer, input_kifs):
        return union_kif(minimal_kif(as_numpy(layer.table), zeros="hls4ml"), live_only=False)

    def costs(self, layer, input_kifs, parallel_factor, dsp_min_bits):
        costs = super().costs(layer, input_kifs, parallel_factor, dsp_min_bits)
        costs.params, costs.weight_memory_bits = layer.table_size, layer.table_size * max(sum(layer.kif_out), 0)
        return costs


@register(HActivation)
class HActivationSpec(OwnTypes, Elementwise):
    def convert(self, layer, x, ctx):
        return convert_activation(layer, x, ctx)


def convert_activation(layer, x, ctx):
    """``HActivation`` in the proxy: linear and ReLU as such; any other (element-wise) function as a ``UnaryLUT``
    when its input type has few enough values, else a leaky ReLU as a ``PReLU`` (when float32 computes its products
    exactly), hls4ml's own function (not bit-exact, with a warning) or, for a custom function, an error."""
    name = keras.activations.serialize(layer.activation)
    builtin = isinstance(name, str)
    function = layer.activation if isinstance(layer.activation, types.FunctionType) else type(layer.activation)
    name = name if builtin else keras.saving.get_registered_name(function)
    if name in EXACT_ACTIVATIONS:
        if name != "linear":
            x = keras.layers.Activation(name, name=layer.name, dtype=PROXY_DTYPE)(x)
        return quantize_output(layer, x, ctx)
    reason = _unary_lut_refusal(layer, ctx)
    if reason is None and not builtin and ">" not in name:
        reason = (f"its activation {name!r} is not a registered serializable function; decorate it with "
                  "@keras.saving.register_keras_serializable()")
    if reason is None:
        return _unary_lut(layer, x, ctx)
    slope = _exact_leaky_slope(layer)
    if slope is not None:
        return plain_prelu(layer, x, ctx, slope)
    if not builtin:
        raise ValueError(f"to_proxy_model: HActivation {layer.name!r} ({name}) cannot be exported: {reason}")
    warnings.warn(f"HActivation {layer.name!r} ({name}): hls4ml evaluates {name} with its own lookup tables, so "
                  f"this layer of the proxy is not bit-exact with hls4ml ({reason})", stacklevel=3)
    x = keras.layers.Activation(name, name=layer.name, dtype=PROXY_DTYPE)(x)
    return quantize_output(layer, x, ctx)


#: Widest product ``x * slope`` that float32 (the H-model) computes exactly: its significand.
_FLOAT32_EXACT_BITS = 24


def _exact_leaky_slope(layer):
    """The slope of an ``HActivation`` computing a leaky ReLU (``ParametricReLU`` with a slope only) whose products
    with its input float32 computes exactly (input width plus the slope's fewest bits at most 24), else ``None``."""
    f = layer.activation
    if not isinstance(f, ParametricReLU) or f.max_value is not None or f.threshold != 0.0:
        return None
    kif = _union_input_kif(layer)
    slope_bits = sum(union_kif(minimal_kif(np.array([f.negative_slope]))) or (0,))
    return f.negative_slope if kif is not None and sum(kif) + slope_bits <= _FLOAT32_EXACT_BITS else None


def plain_prelu(layer, x, ctx, alpha):
    """A plain ``PReLU`` named like ``layer`` whose slopes are ``alpha`` (broadcast to one per element: hls4ml's PReLU
    reads no ``shared_axes``), computing hls4ml's ``x > 0 ? x : alpha * x``, then the layer's output quantizer."""
    plain = keras.layers.PReLU(name=layer.name, dtype=PROXY_DTYPE)
    y = plain(x)
    plain.set_weights([np.broadcast_to(np.asarray(alpha, np.float64), plain.alpha.shape)])
    return quantize_output(layer, y, ctx)


def _union_input_kif(layer):
    """One ``(k, i, f)`` holding every element of the HActivation's input (zero-width elements ignored)."""
    return union_kif(tuple(as_numpy(a) for a in layer.quantized_input_layers()[0].output_kif()))


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
    x = apply_quantizer(x, kbi_from_kif(kif_in), "TRN", "WRAP", f"{layer.name}_in")

    v = all_values(*kif_in)
    y = as_numpy(layer.activation(ops.convert_to_tensor(v.astype(np.float32))))
    if y.shape != v.shape or not np.all(np.isfinite(y)):
        raise ValueError(f"to_proxy_model: HActivation {layer.name!r}: its activation is not an element-wise "
                         "function with finite values on its input range, so it cannot be tabulated")
    union = union_kif(tuple(as_numpy(a) for a in layer.paq.kif()))
    f_max = 0 if union is None else union[2]
    table = np.floor(y * 2.0 ** (f_max + 1)) / 2.0 ** (f_max + 1)
    kif_out = union_kif(minimal_kif(table)) or (0, 1, 0)  # all zeros: one (unused) bit, a valid hls4ml type
    lut = UnaryLUT(table_size=table.size, kif_in=kif_in, kif_out=kif_out, name=layer.name, dtype=PROXY_DTYPE)
    y = lut(x)
    lut.set_weights([table])
    return quantize_output(layer, y, ctx)


@register(keras.layers.PReLU)
class PReLUSpec(Elementwise):
    """The plain ``keras.layers.PReLU``: its type ``prelu_kif``, its costs those of its slopes' multiplications (each
    slope's smallest type); ``quantize_model`` makes an ``HPReLU`` of it, its slopes copied."""

    def output_kif(self, layer, input_kifs):
        return None if input_kifs[0] is None else prelu_kif(input_kifs[0], as_numpy(layer.alpha)[None])

    def costs(self, layer, input_kifs, parallel_factor, dsp_min_bits):
        alpha = as_numpy(layer.alpha)
        return slope_costs(total_bits(minimal_kif(alpha)), input_kifs[0], lambda bits: _summed_to(bits, alpha.shape),
                           dsp_min_bits)

    def quantized(self, layer, args, kwargs, options):
        cfg = layer.get_config()
        h = HPReLU(cfg["alpha_initializer"], cfg["shared_axes"], name=layer.name, **options.h_kwargs())
        y = h(args[0])
        copy_weight(h.alpha, layer.alpha)
        return y


@register(HPReLU)
class HPReLUSpec(OwnTypes, PReLUSpec):
    """Exported as a plain ``PReLU`` holding the quantized slopes, one per element (hls4ml's PReLU reads no
    ``shared_axes``), then the output quantizer."""

    def costs(self, layer, input_kifs, parallel_factor, dsp_min_bits):
        a_bits = as_numpy(layer.kq.bits(layer.quantized_alpha(False)))
        costs = slope_costs(a_bits, input_kifs[0], lambda bits: as_numpy(layer.slope_input_bits(ops.convert_to_tensor(
            bits))), dsp_min_bits)
        costs.bops = layer.bops() if input_kifs[0] is not None else None
        return costs

    def convert(self, layer, x, ctx):
        return plain_prelu(layer, x, ctx, as_numpy(layer.quantized_alpha(False)))


def _summed_to(bits, shape):
    """``bits`` (``(1, *features)``) summed over the axes along which an array of ``shape`` is broadcast."""
    axes = tuple(d for d, n in enumerate(shape) if n == 1 and bits.shape[d + 1] != 1)
    return np.sum(bits[0], axis=axes, keepdims=True)


def slope_costs(a_bits, in_kif, slope_input_bits, dsp_min_bits):
    """The costs of multiplying inputs of types ``in_kif`` (``None``: unknown) element by element by slopes of widths
    ``a_bits``; ``slope_input_bits(in_bits)``: for each slope, the input widths it multiplies, summed."""
    stats = width_stats(a_bits)
    known = dict(params=stats["size"], weight_bits_mean=stats["mean"], weight_bits_max=stats["max"],
                 pruned_fraction=stats["pruned"], weight_memory_bits=int(np.sum(a_bits)),
                 latency_est_cycles=estimates.MULTIPLIER_CYCLES + estimates.OUTPUT_CYCLES)
    if in_kif is None:
        return LayerCosts(**known)
    in_bits = total_bits(in_kif)
    lut, dsp = estimates.multiplier_split(slope_input_bits, in_bits, a_bits, dsp_min_bits)
    return LayerCosts(**known, macs=int(in_bits.size), bops=float(np.sum(slope_input_bits(in_bits) * a_bits)),
                      lut_est=lut, dsp_est=dsp)
