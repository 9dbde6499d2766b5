"""HGRU, HLSTM and HBidirectional: recurrent layers computed as hls4ml's static GRU, LSTM and bidirectional layer
compute them (their tables, their accumulator, their state type), with per-weight trainable widths on the kernels and
one trainable width for the state."""

import functools
from typing import Any, NamedTuple

import keras
from keras import ops

from ...backend import float64_is_exact
from ...quantizer import Quantizer
from ...quantizer import config as qconfig
from ...quantizer import fixed_point as fxp
from ...quantizer.fixed_type import FixedType
from ...validation import check_int
from ..hlayer import HLayer
from .arithmetic import RecurrentArithmetic, recurrence, straight_through

#: What the state quantizer must be: one width for the whole state (hls4ml's result type is one type), rounding half
#: up in training as in the firmware, recording the states' range.
STATE_CONF = {"skip_dims": "all", "rnd_strategy": "standard_round", "exact_q_value": True, "minmax_record": True}
#: The state quantizer's defaults where ``paq_conf`` does not set them (its width a float32 variable, as the model's
#: other variables and losses, though it computes in float64).
STATE_DEFAULTS = {"init_bw": 8, "bw_clip": (0, 16), "dtype": "float32"}
#: The most fractional bits of the state: the layer's output (``|h| <= 1``) stays exact in float32.
MAX_STATE_FRACTIONAL_BITS = 22
#: The only activations hls4ml's recurrent layers tabulate as Keras defines them.
ACTIVATIONS = {"activation": "tanh", "recurrent_activation": "sigmoid"}


def state_conf(owner, paq_conf):
    """The state quantizer's config: ``paq_conf`` over ``STATE_DEFAULTS``, with ``STATE_CONF``; ``ValueError`` naming
    ``owner`` and the key where ``paq_conf`` sets one of those otherwise or a negative fractional width."""
    conf = {**STATE_DEFAULTS, **(paq_conf or {})}
    for key, value in STATE_CONF.items():
        if key in conf and conf[key] != value:
            raise ValueError(f"{owner}: paq_conf[{key!r}] = {conf[key]!r}; the state of a recurrent layer is one "
                             f"type (hls4ml's result type), rounded half up: leave it out or set {value!r}")
    conf.update(STATE_CONF, dtype=conf["dtype"] or STATE_DEFAULTS["dtype"])
    if conf["bw_clip"][0] < 0:
        raise ValueError(f"{owner}: paq_conf['bw_clip'] = {conf['bw_clip']!r}; the state's fractional bits are at "
                         "least 0")
    return conf


class Direction(NamedTuple):
    """One direction's weights and their quantizers (a bidirectional layer has two)."""

    kernel: Any
    recurrent_kernel: Any
    bias: Any
    kq: Any
    rkq: Any
    backward: bool = False


class Firmware(NamedTuple):
    """The weights (float64) and the accumulator's integer and fractional bits (float64 scalars) of the firmware of a
    recurrent layer at its present widths (``HRecurrent.firmware``)."""

    kernel: Any
    recurrent_kernel: Any
    bias: Any
    recurrent_bias: Any
    accum_i: Any
    accum_f: Any


def run_direction(x, firmware, backward, arithmetic, tables, accum, quantize_state, return_sequences):
    """``recurrence`` on ``x`` with one direction's ``firmware``: a backward direction reads the sequence from its
    end, and its states are put back in the input's order (Keras' and hls4ml's ``Bidirectional``)."""
    fw = firmware
    y = recurrence(ops.flip(x, axis=1) if backward else x, fw.kernel, fw.recurrent_kernel, fw.bias, fw.recurrent_bias,
                   arithmetic, tables, accum, quantize_state, arithmetic.one_type, return_sequences)
    return ops.flip(y, axis=1) if backward and return_sequences else y


def name_of(activation):
    return activation if isinstance(activation, str) else getattr(activation, "__name__", repr(activation))


class HRecurrent(HLayer):
    """The shared part of ``HGRU`` and ``HLSTM`` (``cell``); see ``HGRU``."""

    multiplies = True
    cell = None
    #: The directions the layer reads its input in (``directions()``).
    n_directions = 1
    #: The states are rounded in float64, where the firmware's sums are exact (their width is a float32 variable:
    #: ``STATE_DEFAULTS``).
    paq_dtype = "float64"

    def __init__(self, units, return_sequences=False, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", table_size=1024, table_bits=12, beta=0.0, kq_conf=None, paq_conf=None,
                 **kwargs):
        owner = f"{type(self).__name__} {kwargs.get('name')!r}"
        super().__init__(beta=beta, paq_conf=state_conf(owner, paq_conf), **kwargs)
        owner = f"{type(self).__name__} {self.name!r}"
        for key, value in (("activation", activation), ("recurrent_activation", recurrent_activation)):
            if name_of(value) != ACTIVATIONS[key]:
                raise ValueError(f"{owner}: {key}={name_of(value)!r}; hgq computes hls4ml's {ACTIVATIONS[key]} table "
                                 f"only: {key}={ACTIVATIONS[key]!r}")
        self.units = check_int(owner, "units", units, 1)
        self.return_sequences = bool(return_sequences)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.table_size = check_int(owner, "table_size", table_size, 4, 2**16)
        self.table_bits = check_int(owner, "table_bits", table_bits, 2, 16)
        self.kq = Quantizer(kq_conf, kind="kernel", bias_absorbs_rounding=True, owner=self.name,
                            name=f"{self.name}_kq")
        self.rkq = Quantizer(kq_conf, kind="kernel", bias_absorbs_rounding=True, owner=self.name,
                             name=f"{self.name}_rkq")

    @property
    def kq_conf(self):
        """The full config of the kernel quantizers (``kq``: the input kernel, ``rkq``: the recurrent kernel)."""
        return self.kq.conf

    def build(self, input_shape):
        owner = f"{type(self).__name__} {self.name!r}"
        if len(input_shape) != 3 or input_shape[1] is None:
            raise ValueError(f"{owner}: input shape {tuple(input_shape)}; hls4ml's recurrent layers take sequences "
                             "of a fixed length: (batch, steps, features)")
        if not float64_is_exact():
            raise ValueError(f"{owner} emulates the firmware in float64, which the JAX backend truncates to float32 "
                             "unless 64-bit mode is on: set JAX_ENABLE_X64=1 before importing JAX")
        n_steps, n_in = int(input_shape[1]), int(input_shape[2])
        table_t = FixedType(1, 0, self.table_bits - 1, "TRN", "WRAP")
        self.arithmetic = self.make_arithmetic(n_steps, table_t)
        if self.paq.conf["bw_clip"][1] > MAX_STATE_FRACTIONAL_BITS:
            raise ValueError(f"{owner}: paq_conf['bw_clip'] = {self.paq.conf['bw_clip']!r}; the states (|h| <= 1) stay "
                             f"exact in float32 with at most {MAX_STATE_FRACTIONAL_BITS} fractional bits")
        self.kernel, self.recurrent_kernel, self.bias = self.build_direction("", n_in, self.kq, self.rkq)
        self.tables = self.add_weight(name="tables", shape=(2, self.table_size), dtype="float64", trainable=False,
                                      initializer=keras.initializers.Constant(self.arithmetic.tables()))
        self.paq.build((None, self.units))
        self.built = True

    def make_arithmetic(self, n_steps, table_t):
        """The layer's ``RecurrentArithmetic``."""
        return RecurrentArithmetic(self.cell, self.units, n_steps, self.table_size, table_t)

    def build_direction(self, prefix, n_in, kq, rkq):
        """One direction's kernel, recurrent kernel and bias (``None`` without ``use_bias``), named ``<prefix>kernel``,
        ..., and its kernel quantizers built."""
        width = self.arithmetic.gates * self.units
        kernel = self.add_weight(name=f"{prefix}kernel", shape=(n_in, width), initializer=self.kernel_initializer)
        recurrent_kernel = self.add_weight(name=f"{prefix}recurrent_kernel", shape=(self.units, width),
                                           initializer=self.recurrent_initializer)
        bias_shape = (2, width) if self.cell == "gru" else (width,)
        bias = (self.add_weight(name=f"{prefix}bias", shape=bias_shape, initializer=self.bias_initializer)
                if self.use_bias else None)
        kq.build((n_in, width))
        rkq.build((self.units, width))
        return kernel, recurrent_kernel, bias

    def directions(self):
        """The ``Direction`` of each direction the layer reads its input in: forwards."""
        return [Direction(self.kernel, self.recurrent_kernel, self.bias, self.kq, self.rkq)]

    # ------------------------------------------------------------------------------------------ the firmware's types

    def input_bounds(self):
        """Per input feature (``(n_in, 1)`` float64 tensors): the finest step's fractional bits (``-inf`` where the
        feature is always 0) and the largest magnitude, over the time steps."""
        k, i, f = (ops.cast(ops.broadcast_to(a, self.input_feature_shapes()[0]), "float64")
                   for a in self.quantized_input_layers()[0].output_kif())
        live = k + i + f > 0
        finest = ops.max(ops.where(live, f, -float("inf")), axis=(0, 1))
        largest = ops.max(ops.where(live, fxp.pow2(i), 0.0), axis=(0, 1))
        return ops.expand_dims(finest, -1), ops.expand_dims(largest, -1)

    def quantized_kernels(self, training=None):
        """The kernels as ``kq`` and ``rkq`` quantize them (the forward direction's)."""
        return self.kq(self.kernel, training=training), self.rkq(self.recurrent_kernel, training=training)

    def accum_fractional_bits(self, direction, kernel_q, recurrent_q):
        """The accumulator's fractional bits (``RecurrentArithmetic.accum_fractional_bits``) of one direction for the
        present types."""
        input_f, _ = self.input_bounds()

        def live_f(quantizer, values):
            f = ops.cast(quantizer.fractional_bits(), "float64")
            return ops.where(quantizer.bits(values) > 0, f, -float("inf"))

        state_f = ops.reshape(ops.cast(self.paq.fractional_bits(), "float64"), ())
        return self.arithmetic.accum_fractional_bits(input_f, live_f(direction.kq, kernel_q),
                                                     live_f(direction.rkq, recurrent_q), state_f)

    def quantized_biases(self, bias, accum_f):
        """The input bias and the recurrent bias (a GRU's; zeros otherwise) of ``bias`` (a direction's; ``None``:
        zeros) rounded half up to the accumulator's fractional bits (straight-through gradient), float64."""
        width = self.arithmetic.gates * self.units
        zeros = ops.zeros((width,), dtype="float64")
        if bias is None:
            return zeros, zeros
        bias = ops.cast(bias, "float64")
        rounded = straight_through(bias, fxp.round_to_grid(bias, accum_f, "standard_round"))
        return (rounded[0], rounded[1]) if self.cell == "gru" else (rounded, zeros)

    def firmware(self, training=None):
        """The firmware's weights and types for the present widths: a ``Firmware`` per direction, the quantized kernels
        and the biases rounded to the accumulator (float64), and the accumulator's integer and fractional bits, which
        the directions share (the finest and widest of theirs: hls4ml declares one accumulator type)."""
        quantized = [(d, d.kq(d.kernel, training=training), d.rkq(d.recurrent_kernel, training=training))
                     for d in self.directions()]
        accum_f = functools.reduce(ops.maximum, [self.accum_fractional_bits(*q) for q in quantized])
        accum_f = ops.stop_gradient(accum_f)
        _, input_bound = self.input_bounds()
        parts = []
        for direction, kernel_q, recurrent_q in quantized:
            bias, recurrent_bias = self.quantized_biases(direction.bias, accum_f)
            kernel, recurrent_kernel = ops.cast(kernel_q, "float64"), ops.cast(recurrent_q, "float64")
            accum_i = self.arithmetic.accum_integer_bits(input_bound, kernel, ops.stop_gradient(bias), recurrent_kernel,
                                                         ops.stop_gradient(recurrent_bias), accum_f)
            parts.append((kernel, recurrent_kernel, bias, recurrent_bias, accum_i))
        accum_i = ops.stop_gradient(functools.reduce(ops.maximum, [part[-1] for part in parts]))
        return [Firmware(*part[:-1], accum_i, accum_f) for part in parts]

    def accum_t(self, firmware=None):
        """The accumulator type (``RecurrentArithmetic.accum_t``) for the present weights and widths."""
        fw = (firmware or self.firmware(False))[0]
        return self.arithmetic.accum_t(ops.convert_to_numpy(fw.accum_i), ops.convert_to_numpy(fw.accum_f))

    def state_t(self, firmware=None):
        """The state type (hls4ml's result type, ``RecurrentArithmetic.state_t``) for the present widths."""
        fw = (firmware or self.firmware(False))[0]
        f = ops.convert_to_numpy(ops.reshape(self.paq.fractional_bits(), ()))
        return self.arithmetic.state_t(f, ops.convert_to_numpy(fw.accum_i))

    def state_kif(self, firmware=None):
        """``(k, i, f)`` of the state type as scalar tensors (traceable)."""
        fw = (firmware or self.firmware(False))[0]
        f = ops.reshape(ops.cast(self.paq.fractional_bits(), "float32"), ())
        return 1.0, ops.cast(self.arithmetic.state_integer_bits(fw.accum_i), "float32"), f

    def output_kif(self):
        """The state type, for every output element (the firmware's result type; the export's output quantizer is
        that type, which hls4ml fuses into the layer)."""
        shape = (1, *self.compute_output_shape(self.input_shapes()[0])[1:])
        return tuple(ops.broadcast_to(ops.convert_to_tensor(v, "float32"), shape) for v in self.state_kif())

    def output_bits(self):
        k, i, f = self.output_kif()
        return k + i + f

    def exact_bits(self, firmware=None):
        """The most significant bits the firmware's arithmetic holds (``RecurrentArithmetic.exact_bits``)."""
        fws = firmware or self.firmware(False)
        widest = max(float(ops.convert_to_numpy(ops.max(q.bits(ops.cast(w, "float32")))))
                     for d, fw in zip(self.directions(), fws)
                     for q, w in ((d.kq, fw.kernel), (d.rkq, fw.recurrent_kernel)))
        return self.arithmetic.exact_bits(self.accum_t(fws), self.state_t(fws), int(widest))

    # ------------------------------------------------------------------------------------------ the computation

    def call(self, inputs, training=None):
        fws = self.firmware(training)
        a = self.arithmetic
        x = ops.cast(inputs, "float64")
        rounding, accum_f = a.accum_rounding(), fws[0].accum_f

        def accum(v):
            return straight_through(v, fxp.round_to_grid(v, accum_f, rounding))

        if a.one_type:  # the input is cast to the one type
            x = accum(x)
        f_state = self.paq.fractional_bits()

        def quantize_state(v):  # |h| <= 1 fits the state type whatever the records: no overflow to emulate
            return self.paq(v, training=training, f=f_state, overflow=False)

        tables = ops.convert_to_tensor(self.tables)
        outputs = [run_direction(x, fw, direction.backward, a, tables, accum, quantize_state, self.return_sequences)
                   for direction, fw in zip(self.directions(), fws)]
        self.add_bops_loss(training, firmware=fws)
        return ops.cast(outputs[0] if len(outputs) == 1 else ops.concatenate(outputs, axis=-1), self.compute_dtype)

    def compute_output_shape(self, input_shape):
        units = self.n_directions * self.units
        return (input_shape[0], input_shape[1], units) if self.return_sequences else (input_shape[0], units)

    def compute_bops(self, dtype="float32", firmware=None):
        """``RecurrentArithmetic.bops``: one time step's hardware of each direction, with the present widths (an
        LSTM's input is the one type)."""
        fws = firmware or self.firmware(False)
        k, i, f = self.state_kif(fws)
        state_width = ops.cast(k + i + f, dtype)
        if self.arithmetic.one_type:
            input_bits = ops.broadcast_to(state_width, (int(self.kernel.shape[0]),))
        else:
            input_bits = ops.max(ops.cast(ops.broadcast_to(self.input_bits(), self.input_feature_shapes()[0]), dtype),
                                 axis=(0, 1))
        accum_width = ops.cast(1 + fws[0].accum_i + fws[0].accum_f, dtype)
        total = ops.zeros((), dtype=dtype)
        for d, fw in zip(self.directions(), fws):
            kernel_bits = ops.cast(d.kq.bits(ops.cast(fw.kernel, d.kq.fbits.dtype)), dtype)
            recurrent_bits = ops.cast(d.rkq.bits(ops.cast(fw.recurrent_kernel, d.rkq.fbits.dtype)), dtype)
            input_bops = ops.sum(ops.expand_dims(input_bits, -1) * kernel_bits)
            recurrent_bops = ops.sum(recurrent_bits) * state_width
            total = total + ops.cast(self.arithmetic.bops(input_bops, recurrent_bops, state_width, accum_width), dtype)
        return total

    def quantizers(self):
        return [self.kq, self.rkq, self.paq]

    def get_config(self):
        cfg = super().get_config()
        cfg.update(units=self.units, return_sequences=self.return_sequences, use_bias=self.use_bias,
                   kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
                   recurrent_initializer=keras.initializers.serialize(self.recurrent_initializer),
                   bias_initializer=keras.initializers.serialize(self.bias_initializer),
                   table_size=self.table_size, table_bits=self.table_bits, kq_conf=qconfig.serialize(self.kq_conf),
                   paq_conf=qconfig.serialize(self.paq_conf))
        return cfg


@keras.saving.register_keras_serializable(package="hgq")
class HGRU(HRecurrent):
    """``keras.layers.GRU`` (``reset_after=True``) computed as hls4ml's static GRU computes it.

    The forward pass *is* the firmware's arithmetic (``hgq.families.recurrent.arithmetic``): the kernels quantized
    per weight (``kq``, ``rkq``: trainable widths), the dense products and the biases exact in the accumulator
    (its fractional bits are the finest product's, its integer bits hold the largest sum), the gates read from
    hls4ml's sigmoid and tanh tables (``table_size`` entries of ``table_bits`` bits), the state held in one type of
    trainable width (``paq``, which is also the output's quantizer; its integer bits hold every state).
    ``docs/sequence.md`` says which types and why. The
    gradients are those of the functions the tables hold, straight through every rounding. The arithmetic is exact
    in float64, which the layer uses whatever its dtype (on JAX it needs 64-bit mode: ``JAX_ENABLE_X64=1``). BOPs
    count one time step's hardware, which the firmware reuses for every step.

    Args:
        units: the state's length.
        return_sequences: output every step's state ``(batch, steps, units)``, else the last ``(batch, units)``.
        activation: ``"tanh"`` only (hls4ml's table).
        recurrent_activation: ``"sigmoid"`` only (hls4ml's table).
        use_bias: learn the input and recurrent biases (``bias``, ``(2, 3 · units)``; else 0).
        kernel_initializer: initializer of ``kernel``.
        recurrent_initializer: initializer of ``recurrent_kernel``.
        bias_initializer: initializer of ``bias``.
        table_size: entries of each table, in ``[4, 65536]``.
        table_bits: width of the tables' values (signed, no integer bit), in ``[2, 16]``.
        beta: BOPs weight in the loss.
        kq_conf: kernel-quantizer options overriding the defaults (both kernels).
        paq_conf: state-quantizer options (``init_bw``, ``bw_clip``, ``trainable``, ``regularizer``, ``dtype``;
            defaults ``init_bw=8``, ``bw_clip=(0, 16)``).

    Example:
        >>> y = HGRU(16)(HQuantize()(keras.Input((8, 8))))
    """

    cell = "gru"


@keras.saving.register_keras_serializable(package="hgq")
class HLSTM(HRecurrent):
    """``keras.layers.LSTM`` computed as hls4ml's static LSTM computes it: as ``HGRU`` (same arguments; ``bias`` is
    ``(4 · units,)``), with the cell state ``c`` held in the state type too (its integer bits hold ``|c| <= steps``).

    Example:
        >>> y = HLSTM(16, return_sequences=True)(HQuantize()(keras.Input((8, 8))))
    """

    cell = "lstm"


#: The arguments of the recurrent layer an ``HBidirectional`` wraps (in its config, not the wrapper's).
WRAPPED_ARGS = ("units", "return_sequences", "use_bias", "kernel_initializer", "recurrent_initializer",
                "bias_initializer", "table_size", "table_bits", "kq_conf", "paq_conf")


@keras.saving.register_keras_serializable(package="hgq")
class HBidirectional(HRecurrent):
    """``keras.layers.Bidirectional`` of an ``HGRU`` or an ``HLSTM`` (``merge_mode="concat"``), computed as hls4ml's
    static bidirectional layer computes it: the wrapped layer's arithmetic once forwards and once on the sequence read
    from its end (the backward states put back in the input's order, as Keras does), the two directions' states side by
    side. Each direction has its own kernels (``kq``, ``rkq``; ``backward_kq``, ``backward_rkq``); they share the
    tables, the accumulator type (the finest and widest of theirs) and the state type (``paq``), as hls4ml declares one
    of each. hls4ml calls the static code only here, so an LSTM's types are a GRU's: an exact accumulator, a state of
    the integer bits of ``|c| <= steps``.

    Args:
        layer: the ``HGRU`` or ``HLSTM`` (not yet called) whose arguments both directions take (its ``beta`` unless
            ``beta`` is given here).
        merge_mode: ``"concat"`` only (hls4ml's).

    Example:
        >>> y = HBidirectional(HGRU(8, return_sequences=True))(HQuantize()(keras.Input((8, 8))))
    """

    n_directions = 2

    def __init__(self, layer, merge_mode="concat", **kwargs):
        if isinstance(layer, dict):
            layer = keras.saving.deserialize_keras_object(layer)
        owner = f"HBidirectional {kwargs.get('name')!r}"
        if not isinstance(layer, (HGRU, HLSTM)):
            raise ValueError(f"{owner}: layer is a {type(layer).__name__}; HBidirectional wraps an HGRU or an HLSTM")
        if merge_mode != "concat":
            raise ValueError(f"{owner}: merge_mode={merge_mode!r}; hls4ml puts the directions side by side only: "
                             "merge_mode='concat'")
        self.cell = layer.cell
        wrapped = layer.get_config()
        kwargs.setdefault("beta", wrapped["beta"])
        super().__init__(**{key: wrapped[key] for key in WRAPPED_ARGS}, **kwargs)
        self.merge_mode = merge_mode
        self.backward_kq = Quantizer(self.kq_conf, kind="kernel", bias_absorbs_rounding=True, owner=self.name,
                                     name=f"{self.name}_backward_kq")
        self.backward_rkq = Quantizer(self.kq_conf, kind="kernel", bias_absorbs_rounding=True, owner=self.name,
                                      name=f"{self.name}_backward_rkq")

    def make_arithmetic(self, n_steps, table_t):
        return RecurrentArithmetic(self.cell, self.units, n_steps, self.table_size, table_t, one_type=False)

    def build(self, input_shape):
        super().build(input_shape)
        self.backward_kernel, self.backward_recurrent_kernel, self.backward_bias = self.build_direction(
            "backward_", int(input_shape[2]), self.backward_kq, self.backward_rkq)

    def directions(self):
        backward = Direction(self.backward_kernel, self.backward_recurrent_kernel, self.backward_bias,
                             self.backward_kq, self.backward_rkq, backward=True)
        return [*super().directions(), backward]

    def quantizers(self):
        return [self.kq, self.rkq, self.backward_kq, self.backward_rkq, self.paq]

    def get_config(self):
        cfg = super().get_config()
        wrapped = {key: cfg.pop(key) for key in WRAPPED_ARGS}
        layer = (HGRU if self.cell == "gru" else HLSTM)(**wrapped, beta=cfg["beta"], name=f"{self.name}_forward")
        cfg.update(layer=keras.saving.serialize_keras_object(layer), merge_mode=self.merge_mode)
        return cfg
