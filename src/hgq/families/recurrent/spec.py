"""Specs of the recurrent family: the float ``keras.layers.GRU`` and ``LSTM`` (which ``quantize_model`` makes an
``HGRU`` and an ``HLSTM``), ``SimpleRNN`` and ``Bidirectional`` (refused by name, with hls4ml's reason), the H-layers
and the proxy's ``GRU`` and ``LSTM`` (hls4ml's). Registered by being defined."""

import keras
import numpy as np
from keras import ops

from ...proxy_layers.quantize import apply_quantizer
from ...quantizer.types import as_numpy, minimal_kif, total_bits
from .. import estimates
from ..copy import copy_weight
from ..costs import LayerCosts
from ..registry import LayerSpec, OwnTypes, register
from .arithmetic import EXACT_BITS
from .layer import HGRU, HLSTM, STATE_CONF
from .proxy import GRU, LSTM


def refuse(layer, what, reason):
    return ValueError(f"quantize_model: {type(layer).__name__} {layer.name!r} has {what}; {reason}")


@register(keras.layers.GRU, keras.layers.LSTM)
class RecurrentLayerSpec(LayerSpec):
    """A float model's ``GRU`` or ``LSTM``, which ``quantize_model`` makes an ``HGRU`` or an ``HLSTM`` (its kernels and
    biases copied). Refused by name: what hls4ml computes otherwise or not at all (``return_state``, ``go_backwards``,
    ``stateful``, a GRU's ``reset_after=False``, activations other than tanh and sigmoid)."""

    def quantized(self, layer, args, kwargs, options):
        cfg = layer.get_config()
        for key, reason in (("return_state", "hls4ml's converter refuses it: use return_state=False"),
                            ("go_backwards", "hls4ml ignores it (it reads the sequence forwards): reverse the input"),
                            ("stateful", "hls4ml's firmware starts every sequence from zero states")):
            if cfg.get(key):
                raise refuse(layer, f"{key}=True", reason)
        if isinstance(layer, keras.layers.GRU) and not cfg["reset_after"]:
            raise refuse(layer, "reset_after=False", "hls4ml splits its bias wrongly on Keras 3: use reset_after=True")
        for key, expected in (("activation", "tanh"), ("recurrent_activation", "sigmoid")):
            if cfg[key] != expected:
                raise refuse(layer, f"{key}={cfg[key]!r}", f"hgq computes hls4ml's {expected} table only")
        paq_conf = {k: v for k, v in (options.paq_conf or {}).items() if k not in STATE_CONF}
        h_class = HGRU if isinstance(layer, keras.layers.GRU) else HLSTM
        h = h_class(layer.units, return_sequences=cfg["return_sequences"], use_bias=cfg["use_bias"], name=layer.name,
                    **{**options.h_kwargs(), "paq_conf": paq_conf})
        y = h(args[0])
        cell = layer.cell
        copy_weight(h.kernel, cell.kernel)
        copy_weight(h.recurrent_kernel, cell.recurrent_kernel)
        if cfg["use_bias"]:
            copy_weight(h.bias, cell.bias)
        return y


@register(keras.layers.SimpleRNN)
class SimpleRNNSpec(LayerSpec):
    """Refused by name: hls4ml 1.3 never computes a SimpleRNN on Vivado or Vitis (no template: the writer skips it
    and leaves its output unwritten, hls4ml issue #1464)."""

    def quantized(self, layer, args, kwargs, options):
        raise refuse(layer, "no firmware", "hls4ml 1.3 never computes a SimpleRNN on Vivado or Vitis (hls4ml issue "
                                           "#1464: its output is left unwritten); use a GRU or an LSTM")


@register(keras.layers.Bidirectional)
class BidirectionalSpec(LayerSpec):
    """Refused by name: hgq has no bidirectional recurrent layer yet (and hls4ml's Keras-3 converter fails on a
    bidirectional GRU)."""

    def quantized(self, layer, args, kwargs, options):
        raise refuse(layer, "a bidirectional recurrence", "hgq exports forward recurrent layers only (hls4ml's Keras-3 "
                                                          "converter fails on a bidirectional GRU); use one GRU or "
                                                          "LSTM, on the reversed sequence too if needed")


def recurrent_costs(arithmetic, input_bits, kernel_bits, recurrent_bits, state_width, accum_width, bias_bits,
                    dsp_min_bits):
    """The costs of one recurrent layer: BOPs of one time step's hardware (``RecurrentArithmetic.bops``; ``input_bits``:
    each input feature's widest width over the steps, ``None`` for a float input), the memory of its weights and
    tables."""
    a = arithmetic
    width = a.gates * a.units
    n_in = int(np.shape(kernel_bits)[0])
    params = int(np.size(kernel_bits) + np.size(recurrent_bits) + np.size(bias_bits))
    macs = n_in * width + a.units * width + 3 * a.units
    bops = None
    if input_bits is not None:
        bops = float(a.bops(float(np.sum(np.reshape(input_bits, (n_in, 1)) * kernel_bits)),
                            float(np.sum(recurrent_bits)) * state_width, state_width, accum_width))
    on_dsp = accum_width >= dsp_min_bits
    memory = int(np.sum(kernel_bits) + np.sum(recurrent_bits) + np.sum(bias_bits)) + 2 * a.table_size * a.table_t.width
    return LayerCosts(params=params, macs=macs, bops=bops, weight_bits_mean=float(np.mean(kernel_bits)),
                      weight_bits_max=float(np.max(kernel_bits)), pruned_fraction=float(np.mean(kernel_bits == 0)),
                      accumulator_bits=accum_width, weight_memory_bits=memory,
                      lut_est=None if bops is None else (0.0 if on_dsp else bops),
                      dsp_est=float(macs if on_dsp else 0),
                      latency_est_cycles=a.n_steps * (4 + estimates.reduction_latency(n_in + a.units)))


def widest_input_bits(input_kif, n_in):
    """Each input feature's widest width over the time steps (``None`` for a float input)."""
    if input_kif is None:
        return None
    return np.max(np.reshape(total_bits(input_kif), (-1, n_in)), axis=0)


def state_quantizer(x, state_t, name):
    """A quantizer of the state type ``state_t`` on the proxy tensor ``x``: the identity on the states; hls4ml fuses
    it into the recurrent layer, whose result type it leaves as it is."""
    return apply_quantizer(x, (state_t.k, state_t.width, state_t.k + state_t.i), state_t.rounding, state_t.overflow,
                           name)


def one_type_input(x, one_t, name):
    """An LSTM's input cast to its one type ``one_t`` (``RecurrentArithmetic.one_type``) on the proxy tensor ``x``: a
    quantizer named ``<name>_input_q`` of that type, but for its first element, which has one integer bit fewer (the
    one type has one to spare over the input's: the same values). The two types keep hls4ml from fusing the quantizer
    into the layer before it; the recurrent layer's precision rule makes its output's type the one type."""
    kbi = [np.full((1, *x.shape[1:]), v, np.float64) for v in (one_t.k, one_t.width, one_t.k + one_t.i)]
    kbi[1].flat[0] -= 1
    kbi[2].flat[0] -= 1
    return apply_quantizer(x, kbi, one_t.rounding, one_t.overflow, f"{name}_input_q")


def bits_of(values):
    """The smallest width of each value."""
    return total_bits(minimal_kif(as_numpy(values)))


def biases_bits(arithmetic, bias, recurrent_bias):
    """The smallest widths of the biases (an LSTM has no recurrent bias: hls4ml's zeros are no parameters)."""
    biases = (bias, recurrent_bias) if arithmetic.cell == "gru" else (bias,)
    return np.concatenate([bits_of(b) for b in biases])


@register(GRU)
class RecurrentSpec(LayerSpec):
    """hls4ml's static GRU and LSTM: the output is the state type; the costs (``recurrent_costs``) from the weights'
    smallest widths."""

    def output_kif(self, layer, input_kifs):
        a = layer.arithmetic
        return layer.output_kif((1, a.n_steps, a.units) if layer.return_sequences else (1, a.units))

    def costs(self, layer, input_kifs, parallel_factor, dsp_min_bits):
        kernel_bits = bits_of(layer.kernel)
        bias_bits = biases_bits(layer.arithmetic, layer.bias, layer.recurrent_bias)
        return recurrent_costs(layer.arithmetic, widest_input_bits(input_kifs[0], kernel_bits.shape[0]), kernel_bits,
                               bits_of(layer.recurrent_kernel), layer.state_t.width, layer.accum_t.width, bias_bits,
                               dsp_min_bits)


#: Why an LSTM has no io_stream export.
LSTM_IO_STREAM = ("hls4ml's LSTM compiles only when its input is of its one type, which takes a quantizer hls4ml keeps "
                  "as a layer of its own, and io_stream fuses every quantizer")


@register(LSTM)
class LSTMSpec(RecurrentSpec):
    """``RecurrentSpec``, refused with ``io_stream`` (``LSTM_IO_STREAM``)."""

    io_stream = LSTM_IO_STREAM


@register(HGRU)
class HRecurrentSpec(OwnTypes, RecurrentSpec):
    """The proxy ``GRU`` or ``LSTM`` (an LSTM's input cast to its one type first: ``one_type_input``) with the layer's
    quantized weights, accumulator and state types, then a quantizer of the state type (``state_quantizer``).
    Refused by name where the firmware's arithmetic needs more bits than float64 holds exactly."""

    def costs(self, layer, input_kifs, parallel_factor, dsp_min_bits):
        fw = layer.firmware(False)
        state_t, accum_t = layer.state_t(fw), layer.accum_t(fw)
        kernel_bits = as_numpy(layer.kq.bits(ops.cast(fw.kernel, "float32")))
        recurrent_bits = as_numpy(layer.rkq.bits(ops.cast(fw.recurrent_kernel, "float32")))
        n_in = kernel_bits.shape[0]
        input_bits = (np.full(n_in, state_t.width) if layer.arithmetic.one_type
                      else widest_input_bits(input_kifs[0], n_in))
        bias_bits = biases_bits(layer.arithmetic, fw.bias, fw.recurrent_bias)
        return recurrent_costs(layer.arithmetic, input_bits, kernel_bits, recurrent_bits, state_t.width,
                               accum_t.width, bias_bits, dsp_min_bits)

    def convert(self, layer, x, ctx):
        fw = layer.firmware(False)
        accum_t, state_t = layer.accum_t(fw), layer.state_t(fw)
        bits = layer.exact_bits()
        if bits > EXACT_BITS:
            raise ValueError(f"{ctx.caller}: {type(layer).__name__} {layer.name!r} computes values of up to {bits} "
                             f"bits (its {accum_t.width}-bit accumulator, its {state_t.width}-bit state), more than "
                             f"float64 holds exactly ({EXACT_BITS}); narrow the kernels' or the input's fractional bits")
        if layer.arithmetic.one_type:
            x = one_type_input(x, state_t, layer.name)
        proxy = (GRU if layer.cell == "gru" else LSTM)(layer.arithmetic, accum_t, state_t, layer.return_sequences,
                                                        name=layer.name)
        y = proxy(x)
        proxy.set_weights([as_numpy(w) for w in (fw.kernel, fw.recurrent_kernel, fw.bias, fw.recurrent_bias,
                                                 proxy.tables)])
        return state_quantizer(y, state_t, f"{layer.name}_q")


@register(HLSTM)
class HLSTMSpec(HRecurrentSpec):
    """``HRecurrentSpec``, refused with ``io_stream`` (``LSTM_IO_STREAM``)."""

    io_stream = LSTM_IO_STREAM
