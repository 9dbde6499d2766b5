"""Specs of the recurrent family: the float ``keras.layers.GRU``, ``LSTM`` and ``Bidirectional`` (which
``quantize_model`` makes an ``HGRU``, an ``HLSTM`` and an ``HBidirectional``; the other engines refuse the float layers
by name: their specs play the ``QuantizeRule`` role only) and ``SimpleRNN`` (refused by name, with hls4ml's reason),
the H-layers and the proxy's ``GRU``, ``LSTM`` and ``Bidirectional`` (hls4ml's). Registered by being defined."""

import keras
import numpy as np
from keras import ops

from ...proxy_layers.quantize import apply_quantizer
from ...quantizer.types import as_numpy, minimal_kif, total_bits
from .. import estimates
from ..copy import copy_weight
from ..costs import LayerCosts
from ..registry import LayerSpec, OwnTypes, QuantizeRule, register
from .arithmetic import EXACT_BITS
from .layer import HGRU, HLSTM, STATE_CONF, HBidirectional
from .proxy import GRU, LSTM, Bidirectional


def refuse(layer, what, reason):
    return ValueError(f"quantize_model: {type(layer).__name__} {layer.name!r} has {what}; {reason}")


def check_recurrent(layer, rnn, backwards=False):
    """Refuse by name, for ``layer`` (the model's layer), a float ``GRU`` or ``LSTM`` ``rnn`` that hls4ml computes
    otherwise or not at all (``go_backwards`` is the backward direction's own where ``backwards``)."""
    cfg = rnn.get_config()
    for key, reason in (("return_state", "hls4ml's converter refuses it: use return_state=False"),
                        ("stateful", "hls4ml's firmware starts every sequence from zero states")):
        if cfg.get(key):
            raise refuse(layer, f"{key}=True", reason)
    if cfg.get("go_backwards") != backwards:
        raise refuse(layer, f"go_backwards={cfg.get('go_backwards')}", "hls4ml ignores it (it reads the sequence "
                     "forwards): reverse the input, or use a Bidirectional")
    if isinstance(rnn, keras.layers.GRU) and not cfg["reset_after"]:
        raise refuse(layer, "reset_after=False", "hls4ml splits its bias wrongly on Keras 3: use reset_after=True")
    for key, expected in (("activation", "tanh"), ("recurrent_activation", "sigmoid")):
        if cfg[key] != expected:
            raise refuse(layer, f"{key}={cfg[key]!r}", f"hgq computes hls4ml's {expected} table only")
    return cfg


def h_recurrent(rnn, name, options):
    """The ``HGRU`` or ``HLSTM`` of the float ``rnn`` (not yet called), with ``quantize_model``'s options."""
    cfg = rnn.get_config()
    paq_conf = {k: v for k, v in (options.paq_conf or {}).items() if k not in STATE_CONF}
    h_class = HGRU if isinstance(rnn, keras.layers.GRU) else HLSTM
    return h_class(rnn.units, return_sequences=cfg["return_sequences"], use_bias=cfg["use_bias"], name=name,
                   **{**options.h_kwargs(), "paq_conf": paq_conf})


def copy_cell(kernel, recurrent_kernel, bias, rnn):
    """The float ``rnn``'s kernels and bias into an H-layer's (``bias`` ``None`` without one)."""
    copy_weight(kernel, rnn.cell.kernel)
    copy_weight(recurrent_kernel, rnn.cell.recurrent_kernel)
    if bias is not None:
        copy_weight(bias, rnn.cell.bias)


@register(keras.layers.GRU, keras.layers.LSTM)
class RecurrentLayerSpec(QuantizeRule):
    """A float model's ``GRU`` or ``LSTM``, which ``quantize_model`` makes an ``HGRU`` or an ``HLSTM`` (its kernels and
    biases copied). Refused by name: what hls4ml computes otherwise or not at all (``check_recurrent``)."""

    def quantized(self, layer, args, kwargs, options):
        check_recurrent(layer, layer)
        h = h_recurrent(layer, layer.name, options)
        y = h(args[0])
        copy_cell(h.kernel, h.recurrent_kernel, h.bias, layer)
        return y


@register(keras.layers.SimpleRNN)
class SimpleRNNSpec(QuantizeRule):
    """Refused by name: hls4ml 1.3 never computes a SimpleRNN on Vivado or Vitis (no template: the writer skips it
    and leaves its output unwritten, hls4ml issue #1464)."""

    def quantized(self, layer, args, kwargs, options):
        raise refuse(layer, "no firmware", "hls4ml 1.3 never computes a SimpleRNN on Vivado or Vitis (hls4ml issue "
                                           "#1464: its output is left unwritten); use a GRU or an LSTM")


@register(keras.layers.Bidirectional)
class BidirectionalSpec(QuantizeRule):
    """A float model's ``Bidirectional`` of a ``GRU`` or an ``LSTM``, which ``quantize_model`` makes an
    ``HBidirectional`` (both directions' kernels and biases copied). Refused by name: a ``merge_mode`` other than
    ``"concat"``, directions of different kinds or sizes, and what ``check_recurrent`` refuses."""

    def quantized(self, layer, args, kwargs, options):
        forward, backward = layer.forward_layer, layer.backward_layer
        if not isinstance(forward, (keras.layers.GRU, keras.layers.LSTM)):
            raise refuse(layer, f"a {type(forward).__name__} inside", "hgq computes GRU and LSTM layers only")
        if layer.merge_mode != "concat":
            raise refuse(layer, f"merge_mode={layer.merge_mode!r}", "hls4ml puts the directions side by side only: "
                         "use merge_mode='concat'")
        if type(backward) is not type(forward) or backward.units != forward.units:
            raise refuse(layer, "directions of different kinds or sizes", "hls4ml's layer takes one of each")
        check_recurrent(layer, forward)
        check_recurrent(layer, backward, backwards=True)
        h = HBidirectional(h_recurrent(forward, f"{layer.name}_forward", options), name=layer.name)
        y = h(args[0])
        copy_cell(h.kernel, h.recurrent_kernel, h.bias, forward)
        copy_cell(h.backward_kernel, h.backward_recurrent_kernel, h.backward_bias, backward)
        return y


def recurrent_costs(arithmetic, input_bits, kernel_bits, recurrent_bits, state_width, accum_width, bias_bits,
                    dsp_min_bits):
    """The costs of one recurrent layer: BOPs of one time step's hardware of each direction
    (``RecurrentArithmetic.bops``; ``input_bits``: each input feature's widest width over the steps, ``None`` for a
    float input), the memory of its weights and tables. ``kernel_bits``, ``recurrent_bits``, ``bias_bits``: one array
    per direction."""
    a = arithmetic
    width = a.gates * a.units
    n_in = int(np.shape(kernel_bits[0])[0])
    params = int(sum(np.size(bits) for bits in (*kernel_bits, *recurrent_bits, *bias_bits)))
    macs = len(kernel_bits) * (n_in * width + a.units * width + 3 * a.units)
    bops = None
    if input_bits is not None:
        bops = float(sum(a.bops(float(np.sum(np.reshape(input_bits, (n_in, 1)) * kernel)),
                                float(np.sum(recurrent)) * state_width, state_width, accum_width)
                         for kernel, recurrent in zip(kernel_bits, recurrent_bits)))
    on_dsp = accum_width >= dsp_min_bits
    all_kernels = np.concatenate([np.ravel(bits) for bits in kernel_bits])
    memory = (int(sum(np.sum(bits) for bits in (*kernel_bits, *recurrent_bits, *bias_bits)))
              + 2 * a.table_size * a.table_t.width)
    return LayerCosts(params=params, macs=macs, bops=bops, weight_bits_mean=float(np.mean(all_kernels)),
                      weight_bits_max=float(np.max(all_kernels)), pruned_fraction=float(np.mean(all_kernels == 0)),
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


#: The proxy layer of each H-layer.
PROXIES = {HGRU: GRU, HLSTM: LSTM, HBidirectional: Bidirectional}


@register(GRU)
class RecurrentSpec(LayerSpec):
    """hls4ml's static GRU and LSTM: the output is the state type; the costs (``recurrent_costs``) from the weights'
    smallest widths."""

    def output_kif(self, layer, input_kifs):
        return layer.output_kif((1, *layer.compute_output_shape((None, layer.arithmetic.n_steps, None))[1:]))

    def costs(self, layer, input_kifs, parallel_factor, dsp_min_bits):
        weights = layer.direction_weights()
        kernel_bits = [bits_of(kernel) for kernel, *_ in weights]
        bias_bits = [biases_bits(layer.arithmetic, bias, recurrent_bias) for _, _, bias, recurrent_bias in weights]
        return recurrent_costs(layer.arithmetic, widest_input_bits(input_kifs[0], kernel_bits[0].shape[0]),
                               kernel_bits, [bits_of(recurrent) for _, recurrent, *_ in weights], layer.state_t.width,
                               layer.accum_t.width, bias_bits, dsp_min_bits)


#: Why an LSTM has no io_stream export.
LSTM_IO_STREAM = ("hls4ml's LSTM compiles only when its input is of its one type, which takes a quantizer hls4ml keeps "
                  "as a layer of its own, and io_stream fuses every quantizer")


@register(LSTM)
class LSTMSpec(RecurrentSpec):
    """``RecurrentSpec``, refused with ``io_stream`` (``LSTM_IO_STREAM``)."""

    io_stream = LSTM_IO_STREAM


#: Why a bidirectional layer has no io_stream export.
BIDIRECTIONAL_IO_STREAM = "hls4ml has no streamed bidirectional layer (its bidirectional_stack takes arrays only)"


@register(Bidirectional)
class BidirectionalProxySpec(RecurrentSpec):
    """``RecurrentSpec``, refused with ``io_stream`` (``BIDIRECTIONAL_IO_STREAM``)."""

    io_stream = BIDIRECTIONAL_IO_STREAM


@register(HGRU)
class HRecurrentSpec(OwnTypes, RecurrentSpec):
    """The proxy ``GRU`` or ``LSTM`` (an LSTM's input cast to its one type first: ``one_type_input``) with the layer's
    quantized weights, accumulator and state types, then a quantizer of the state type (``state_quantizer``).
    Refused by name where the firmware's arithmetic needs more bits than float64 holds exactly."""

    def costs(self, layer, input_kifs, parallel_factor, dsp_min_bits):
        fws = layer.firmware(False)
        state_t, accum_t = layer.state_t(fws), layer.accum_t(fws)
        kernel_bits = [as_numpy(d.kq.bits(ops.cast(fw.kernel, "float32"))) for d, fw in zip(layer.directions(), fws)]
        recurrent_bits = [as_numpy(d.rkq.bits(ops.cast(fw.recurrent_kernel, "float32")))
                          for d, fw in zip(layer.directions(), fws)]
        n_in = kernel_bits[0].shape[0]
        input_bits = (np.full(n_in, state_t.width) if layer.arithmetic.one_type
                      else widest_input_bits(input_kifs[0], n_in))
        bias_bits = [biases_bits(layer.arithmetic, fw.bias, fw.recurrent_bias) for fw in fws]
        return recurrent_costs(layer.arithmetic, input_bits, kernel_bits, recurrent_bits, state_t.width,
                               accum_t.width, bias_bits, dsp_min_bits)

    def convert(self, layer, x, ctx):
        fws = layer.firmware(False)
        accum_t, state_t = layer.accum_t(fws), layer.state_t(fws)
        bits = layer.exact_bits(fws)
        if bits > EXACT_BITS:
            raise ValueError(f"{ctx.caller}: {type(layer).__name__} {layer.name!r} computes values of up to {bits} "
                             f"bits (its {accum_t.width}-bit accumulator, its {state_t.width}-bit state), more than "
                             f"float64 holds exactly ({EXACT_BITS}); narrow the kernels' or the input's "
                             "fractional bits")
        if layer.arithmetic.one_type:
            x = one_type_input(x, state_t, layer.name)
        proxy = PROXIES[type(layer)](layer.arithmetic, accum_t, state_t, layer.return_sequences, name=layer.name)
        y = proxy(x)
        weights = [w for fw in fws for w in (fw.kernel, fw.recurrent_kernel, fw.bias, fw.recurrent_bias)]
        proxy.set_weights([as_numpy(w) for w in (*weights, proxy.tables)])
        return state_quantizer(y, state_t, f"{layer.name}_q")


@register(HLSTM)
class HLSTMSpec(HRecurrentSpec):
    """``HRecurrentSpec``, refused with ``io_stream`` (``LSTM_IO_STREAM``)."""

    io_stream = LSTM_IO_STREAM


@register(HBidirectional)
class HBidirectionalSpec(HRecurrentSpec):
    """``HRecurrentSpec``, refused with ``io_stream`` (``BIDIRECTIONAL_IO_STREAM``)."""

    io_stream = BIDIRECTIONAL_IO_STREAM
