"""Specs of the layer normalization family: the float ``keras.layers.LayerNormalization`` (which ``quantize_model``
makes an ``HLayerNormalization``), ``HLayerNormalization`` and the proxy's ``LayerNormalization`` (hls4ml's). Registered
by being defined."""

import keras
import numpy as np

from ...proxy_layers.quantize import quantize_output
from ...quantizer.types import as_numpy, minimal_kif, total_bits
from .. import estimates
from ..copy import copy_weight
from ..costs import LayerCosts
from ..normalization.spec import exact_batchnorm
from ..registry import LayerSpec, OwnTypes, register
from .arithmetic import EXACT_BITS
from .layer import HLayerNormalization
from .proxy import LayerNormalization


@register(keras.layers.LayerNormalization)
class LayerNormalizationLayerSpec(LayerSpec):
    """A float model's ``LayerNormalization``, which ``quantize_model`` makes an ``HLayerNormalization`` (its scale and
    offset copied). Refused by name: a normalized axis other than the last, and ``rms_scaling`` (hls4ml subtracts the
    mean)."""

    def quantized(self, layer, args, kwargs, options):
        cfg = layer.get_config()
        axes = cfg["axis"] if isinstance(cfg["axis"], (list, tuple)) else [cfg["axis"]]
        rank = len(args[0].shape)
        if [a % rank for a in axes] != [rank - 1]:
            raise ValueError(f"quantize_model: LayerNormalization {layer.name!r} normalizes over axis={cfg['axis']}; "
                             "hls4ml normalizes over the last axis only")
        if cfg.get("rms_scaling"):
            raise ValueError(f"quantize_model: LayerNormalization {layer.name!r} has rms_scaling=True; hls4ml's layer "
                             "normalization subtracts the mean, so no export computes it: use rms_scaling=False")
        h = HLayerNormalization(epsilon=cfg["epsilon"], center=cfg["center"], scale=cfg["scale"], name=layer.name,
                                **options.h_kwargs())
        y = h(args[0])
        for name in ("gamma", "beta"):
            if getattr(layer, name, None) is not None:
                copy_weight(getattr(h, f"ln_{name}"), getattr(layer, name))
        return y


@register(LayerNormalization)
class LayerNormalizationSpec(LayerSpec):
    """hls4ml's layer normalization: its output's exact type (the quantizer after it keeps what it needs); its costs
    (``LayerNormArithmetic.bops``, as ``HLayerNormalization`` counts in training), the memory of its scales, offsets
    and table. Refused with ``io_stream`` (hls4ml has no streamed layer normalization)."""

    io_stream = False

    def output_kif(self, layer, input_kifs):
        return layer.output_kif(np.shape(input_kifs[0][0]) if input_kifs[0] is not None else (1, layer.arithmetic.dim))

    def costs(self, layer, input_kifs, parallel_factor, dsp_min_bits):
        a = layer.arithmetic
        gamma_bits = total_bits(minimal_kif_of(layer.gamma))
        beta_bits = total_bits(minimal_kif_of(layer.beta))
        return layernorm_costs(a, layer.accum_t.width, input_kifs, gamma_bits, beta_bits, dsp_min_bits)


def minimal_kif_of(weight):
    """The smallest type of each value of ``weight``."""
    return minimal_kif(as_numpy(weight))


def layernorm_costs(arithmetic, accum_width, input_kifs, gamma_bits, beta_bits, dsp_min_bits):
    """The costs of a layer normalization of ``rows`` rows (from the input's shape)."""
    a = arithmetic
    elements = int(np.prod(np.shape(input_kifs[0][0]))) if input_kifs[0] is not None else None
    rows = None if elements is None else elements // a.dim
    bops = None if rows is None else float(a.bops(rows, accum_width, float(np.sum(gamma_bits))))
    macs = None if rows is None else rows * (2 + 3 * a.dim)
    on_dsp = accum_width >= dsp_min_bits and a.table_t.width >= dsp_min_bits
    return LayerCosts(params=2 * a.dim + a.table_size, macs=macs, bops=bops,
                      weight_memory_bits=int(np.sum(gamma_bits) + np.sum(beta_bits)) + a.table_size * a.table_t.width,
                      lut_est=None if bops is None else (0.0 if on_dsp else bops),
                      dsp_est=None if macs is None else float(macs if on_dsp else 0),
                      latency_est_cycles=4 + 2 * estimates.reduction_latency(a.dim))


def scaled_by_power_of_two(x, power, name):
    """``x · 2^power`` on the proxy tensor ``x``: a float64 ``BatchNormalization`` holding exactly that scale and no
    offset (``hgq.families.normalization.spec.exact_batchnorm``), which hls4ml computes exactly."""
    channels = int(x.shape[-1])
    return exact_batchnorm(x, np.full(channels, 2.0**power), np.zeros(channels), name)


@register(HLayerNormalization)
class HLayerNormalizationSpec(OwnTypes, LayerNormalizationSpec):
    """The input scaled by ``2^-s`` where ``s`` is not 0 (a proxy ``BatchNormalization`` of scale ``2^-s``: a shift
    in the firmware), the proxy ``LayerNormalization`` with the layer's quantized scales and offsets, its
    accumulator wide enough for the scaled input's type and its table range, then the output quantizer. Refused by
    name where the firmware's arithmetic needs more bits than float64 holds exactly."""

    def costs(self, layer, input_kifs, parallel_factor, dsp_min_bits):
        gamma_bits = as_numpy(layer.kq.bits(layer.quantized_gamma(False))) if layer.scale else np.zeros(1)
        beta_bits = total_bits(minimal_kif_of(layer.quantized_beta()))
        return layernorm_costs(layer.arithmetic, int(as_numpy(layer.accum_width())), input_kifs, gamma_bits,
                               beta_bits, dsp_min_bits)

    def convert(self, layer, x, ctx):
        shift, range_power2 = (int(as_numpy(v)) for v in layer.variance_scaling())
        if shift:
            x = scaled_by_power_of_two(x, -shift, f"{layer.name}_prescale")
        accum_t = layer.arithmetic.accum_t(as_numpy(layer.accum_integer_bits()))
        gamma, beta = as_numpy(layer.quantized_gamma(False)), as_numpy(layer.quantized_beta())
        proxy = LayerNormalization(layer.arithmetic, accum_t, range_power2, name=layer.name)
        y = proxy(x)
        proxy.set_weights([gamma, beta, as_numpy(proxy.table)])
        bits = layer.arithmetic.exact_bits(accum_t, minimal_kif_of(gamma), minimal_kif_of(beta))
        if bits > EXACT_BITS:
            raise ValueError(f"{ctx.caller}: HLayerNormalization {layer.name!r} computes values of up to {bits} bits "
                             f"(its {accum_t.width}-bit accumulator, its {layer.table_bits}-bit table, its scales), "
                             f"more than float64 holds exactly ({EXACT_BITS}); lower accum_fractional_bits or "
                             "table_bits, or narrow the input's integer bits")
        return quantize_output(layer, y, ctx)
