"""HLayerNormalization: layer normalization as hls4ml's firmware computes it (its accumulator and its ``1 / sqrt``
table), with quantized, trainable scales and offsets and a quantized output."""

import math

import keras
from keras import ops

from ...backend import float64_is_exact
from ...quantizer import Quantizer
from ...quantizer import config as qconfig
from ...quantizer import fixed_point as fxp
from ...quantizer.fixed_type import FixedType
from ...validation import check_int
from ..hlayer import HLayer
from ..kernel.mixin import max_over_broadcast
from .arithmetic import RANGE_POWERS2, LayerNormArithmetic, layer_norm, variance_scaling

#: The variance recorder: one range for the whole layer, never trained, fine enough for any table range.
VARIANCE_RECORD_CONF = {"skip_dims": "all", "trainable": False, "init_bw": 23, "bw_clip": (23, 23),
                        "rnd_strategy": "standard_round", "regularizer": None, "minmax_record": True,
                        "exact_q_value": True, "dtype": None}


def epsilon_power_of_10(owner, epsilon):
    """hls4ml's ``e`` of ``epsilon`` (``-round(log10(epsilon))``, at least 1), or ``ValueError`` naming ``owner``."""
    try:
        e = -round(math.log10(float(epsilon)))
    except (TypeError, ValueError):  # not a number, or not positive
        e = None
    if e is None or not 1 <= e <= 37:
        raise ValueError(f"{owner}: epsilon={epsilon!r}; hls4ml's layer normalization takes an epsilon of 10^-e with "
                         "e from 1 to 37 (it rounds the exponent), e.g. 1e-3")
    return e


@keras.saving.register_keras_serializable(package="hgq")
class HLayerNormalization(HLayer):
    """``keras.layers.LayerNormalization`` over the last axis, computed as hls4ml's firmware computes it.

    The forward pass *is* the firmware's arithmetic (``hgq.families.layernorm.arithmetic``): the mean and the variance
    in an accumulator of ``accum_fractional_bits`` fractional bits (its integer bits follow from the input's type),
    ``1 / sqrt(variance + epsilon)`` read from a table of ``table_size`` entries of ``table_bits`` bits, the deviation
    times that, times the quantized scale ``ln_gamma`` (one trainable width per element, ``kq_conf``), plus the
    offset ``ln_beta`` (rounded one bit finer than the output); then the output quantizer ``paq``. The gradient is
    that of the float layer normalization (straight through). The input is first scaled by a power of two ``2^-s``
    so that every variance recorded while training and calibrating lies in the table's range ``[0, 2^-p)``, ``p`` 0
    or 1 (hls4ml's ``table_range_power2``; the effective epsilon is ``epsilon · 4^s``); larger variances read the
    table's last entry, as in the firmware (a batch of larger variances than those recorded, before calibration or
    beyond its range, is scaled for its own). The arithmetic is exact in float64, which the layer uses whatever its
    dtype (on JAX it needs 64-bit mode: ``JAX_ENABLE_X64=1``).

    Args:
        axis: the normalized axis: the last one only (hls4ml's).
        epsilon: ``10^-e`` with ``e`` from 1 to 37 (hls4ml rounds it so).
        center: learn the offset ``ln_beta`` (else 0).
        scale: learn the scale ``ln_gamma`` (else 1).
        beta_initializer: initializer of ``ln_beta``.
        gamma_initializer: initializer of ``ln_gamma``.
        accum_fractional_bits: fractional bits of the accumulator (mean, deviations, variance), in ``[0, 24]``.
        table_size: entries of the ``1 / sqrt`` table, in ``[2, 65536]``.
        table_bits: width of the table's values (unsigned; the integer bits hold ``1 / sqrt(epsilon)``), in
            ``[1, 24]``.
        beta: BOPs weight in the loss.
        kq_conf: scale-quantizer options overriding the defaults (see ``get_default_kq_conf``).
        paq_conf: output-quantizer options overriding the defaults (see ``get_default_paq_conf``).

    Example:
        >>> y = HLayerNormalization(accum_fractional_bits=10, table_size=1024)(HQuantize()(keras.Input((8, 16))))
    """

    multiplies = True

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", accum_fractional_bits=10, table_size=1024, table_bits=12, beta=0.0,
                 kq_conf=None, paq_conf=None, **kwargs):
        super().__init__(beta=beta, paq_conf=paq_conf, **kwargs)
        owner = f"HLayerNormalization {self.name!r}"
        if axis not in (-1, [-1], (-1,)):
            raise ValueError(f"{owner}: axis={axis!r}; hls4ml normalizes over the last axis only: axis=-1")
        self.epsilon_power_of_10 = epsilon_power_of_10(owner, epsilon)
        self.axis, self.epsilon = -1, float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = keras.initializers.get(beta_initializer)
        self.gamma_initializer = keras.initializers.get(gamma_initializer)
        self.accum_fractional_bits = check_int(owner, "accum_fractional_bits", accum_fractional_bits, 0, 24)
        self.table_size = check_int(owner, "table_size", table_size, 2, 2**16)
        self.table_bits = check_int(owner, "table_bits", table_bits, 1, 24)
        self.kq = Quantizer(kq_conf, kind="kernel", owner=self.name, name=f"{self.name}_kq")
        self.vq = Quantizer(VARIANCE_RECORD_CONF, owner=self.name, name=f"{self.name}_variance")

    @property
    def kq_conf(self):
        """The full config of the scale quantizer."""
        return self.kq.conf

    def build(self, input_shape):
        if not float64_is_exact():
            raise ValueError(f"HLayerNormalization {self.name!r} emulates the firmware in float64, which the JAX "
                             "backend truncates to float32 unless 64-bit mode is on: set JAX_ENABLE_X64=1 before "
                             "importing JAX")
        dim = int(input_shape[-1])
        table_max = 1.0 / math.sqrt(float(10.0**-self.epsilon_power_of_10))
        table_integer = math.floor(math.log2(table_max)) + 1
        table_t = FixedType(0, table_integer, self.table_bits - table_integer, "RND", "SAT")
        self.arithmetic = LayerNormArithmetic(dim, self.accum_fractional_bits, self.epsilon_power_of_10,
                                              self.table_size, table_t)
        self.rows = math.prod(int(n) for n in input_shape[1:-1])
        self.tables = self.add_weight(name="tables", shape=(len(RANGE_POWERS2), self.table_size),
                                      initializer=keras.initializers.Constant(self.arithmetic.tables()),
                                      dtype="float64", trainable=False)
        self.ln_gamma = self.add_weight(name="ln_gamma", shape=(dim,), initializer=self.gamma_initializer,
                                        trainable=True) if self.scale else None
        self.ln_beta = self.add_weight(name="ln_beta", shape=(dim,), initializer=self.beta_initializer,
                                       trainable=True) if self.center else None
        if self.scale:
            self.kq.build((dim,))
        self.vq.build((*input_shape[:-1], 1))
        self.paq.build(input_shape)
        self.built = True

    def variance_scaling(self, variance=None):
        """``(s, p)``: the input scaled by ``2^-s`` has its recorded variances below ``2^-p``, which the table covers
        (``hgq.families.layernorm.arithmetic.variance_scaling``); ``variance``: those of a batch, as the variance
        record keeps them, counted too (a batch beyond the record: before calibration, or outside its range)."""
        largest = ops.max(self.vq.vmax)
        return variance_scaling(largest if variance is None else ops.maximum(largest, ops.max(variance)))

    def quantized_gamma(self, training=None):
        """The scales as quantized by ``kq`` (ones without ``scale``)."""
        if self.ln_gamma is None:
            return ops.ones((self.arithmetic.dim,), dtype=self.compute_dtype)
        return self.kq(self.ln_gamma, training=training)

    def quantized_beta(self, f_out=None):
        """The offsets rounded half up one bit finer than the finest output they are added to (zeros without
        ``center``); straight-through gradient."""
        if self.ln_beta is None:
            return ops.zeros((self.arithmetic.dim,), dtype=self.compute_dtype)
        f_out = self.paq.fractional_bits() if f_out is None else f_out
        f = max_over_broadcast(f_out, (self.arithmetic.dim,)) + 1.0
        beta = ops.convert_to_tensor(self.ln_beta)
        bq = fxp.round_to_grid(beta, f, "standard_round", integer_f=self.paq.conf["exact_q_value"])
        return beta + ops.stop_gradient(bq - beta)

    def firmware(self, inputs, gamma, beta, variance=None):
        """The firmware's output before the output quantizer (float64): the input scaled by ``2^-s``, normalized
        (``variance``: see ``variance_scaling``)."""
        shift, p = self.variance_scaling(variance)
        table = ops.take(ops.convert_to_tensor(self.tables), p, axis=0)
        index_scale = self.table_size * fxp.pow2_and_inverse(ops.cast(p, "float64"))[0]
        x = ops.cast(inputs, "float64") * fxp.pow2_and_inverse(ops.cast(shift, "float64"))[1]
        return layer_norm(x, self.arithmetic, table, index_scale, ops.cast(gamma, "float64"),
                          ops.cast(beta, "float64"))

    def call(self, inputs, training=None):
        f_out = self.paq.fractional_bits()
        gamma, beta = self.quantized_gamma(training), self.quantized_beta(f_out)
        mean = ops.mean(inputs, axis=-1, keepdims=True)
        variance = ops.var(inputs, axis=-1, keepdims=True)
        smooth = (inputs - mean) * ops.rsqrt(variance + float(self.arithmetic.epsilon())) * gamma + beta
        recorded = self.vq(variance, training=training)  # records the variances while training and calibrating
        # what the output quantizer keeps of the exact float64 value: truncated one bit finer than its step, exact in
        # the compute dtype and rounded (or truncated) by the quantizer as the exact value would be
        up, down = fxp.pow2_and_inverse(ops.cast(f_out, "float64") + 1.0)
        exact = ops.cast(fxp.floor(self.firmware(inputs, gamma, beta, recorded) * up) * down, smooth.dtype)
        out = self.paq(smooth + ops.stop_gradient(exact - smooth), training=training, f=f_out)
        self.add_bops_loss(training, gamma=gamma if self.kq.deterministic else None)
        return out

    def compute_output_shape(self, input_shape):
        return input_shape

    def accum_integer_bits(self, dtype="float32"):
        """The accumulator's integer bits for the scaled input's present type: the most integer bits of an input
        element of non-zero width (0 when none has any; ``quantizer.types.union_kif``), less the scale's ``s``
        (``LayerNormArithmetic.accum_integer_bits``). What the export declares and the BOPs count."""
        k, i, f = (ops.cast(a, dtype) for a in self.quantized_input_layers()[0].output_kif())
        live = k + i + f > 0
        largest = ops.where(ops.any(live), ops.max(ops.where(live, i, fxp.ZERO_INT_BITS)), 0.0)
        return self.arithmetic.accum_integer_bits(largest - ops.cast(self.variance_scaling()[0], dtype))

    def accum_width(self, dtype="float32"):
        """The accumulator's width (``accum_integer_bits``, the sign, ``accum_fractional_bits``)."""
        return 1.0 + self.accum_integer_bits(dtype) + self.accum_fractional_bits

    def compute_bops(self, dtype="float32", gamma=None):
        """``LayerNormArithmetic.bops`` with the scales' present widths (none without ``scale``)."""
        if self.ln_gamma is None:
            scale_bits = ops.zeros((), dtype=dtype)
        else:
            gamma = self.quantized_gamma(False) if gamma is None else gamma
            scale_bits = ops.sum(ops.cast(self.kq.bits(gamma), dtype))
        return ops.cast(self.arithmetic.bops(self.rows, self.accum_width(dtype), scale_bits), dtype)

    def quantizers(self):
        return [self.kq, self.vq, self.paq] if self.scale else [self.vq, self.paq]

    def get_config(self):
        cfg = super().get_config()
        cfg.update(axis=self.axis, epsilon=self.epsilon, center=self.center, scale=self.scale,
                   beta_initializer=keras.initializers.serialize(self.beta_initializer),
                   gamma_initializer=keras.initializers.serialize(self.gamma_initializer),
                   accum_fractional_bits=self.accum_fractional_bits, table_size=self.table_size,
                   table_bits=self.table_bits, kq_conf=qconfig.serialize(self.kq_conf))
        return cfg
