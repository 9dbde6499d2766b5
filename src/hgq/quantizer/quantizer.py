"""The heterogeneous quantizer: trainable fractional bits per element, integer bits from min/max."""

import keras
import numpy as np
from keras import ops

from ..backend import max_over_replicas, min_over_replicas
from . import config as qconfig
from . import fixed_point as fxp


def _quantize_ste(x, f, rounding, noise, integer_f):
    """``round_to_grid`` with a straight-through gradient for ``x`` and ``-ln2 * (x_q - x)`` for ``f``."""
    axes = tuple(d for d in range(len(x.shape)) if f.shape[d] == 1 and x.shape[d] != 1)

    @ops.custom_gradient
    def quantize(x, f):
        xq = fxp.round_to_grid(x, f, rounding, noise, integer_f)

        def grad(*args, upstream=None):
            dy = args[0] if upstream is None else upstream
            df = dy * (x - xq)  # times ln2 after the reduction: one pass fewer over the batch
            return dy, fxp.LN2 * (ops.sum(df, axis=axes, keepdims=True) if axes else df)

        return xq, grad

    return quantize(ops.cast(x, x.dtype), f)  # cast: a variable (kernel) is read into a tensor first


def _clip_round_ste(f, lo, hi):
    """``round(clip(f, lo, hi))`` with the gradient of the clip (straight-through the rounding): ``dy`` where
    ``lo <= f <= hi``, else 0. One custom gradient instead of the clip's generic gradient plus ``f + stop_gradient(
    round(f) - f)``: fewer ops in every training step (on TensorFlow each is a kernel launch)."""

    @ops.custom_gradient
    def clip_round(f):
        def grad(*args, upstream=None):
            dy = args[0] if upstream is None else upstream
            return ops.where((f >= lo) & (f <= hi), dy, ops.zeros_like(dy))

        return ops.round(ops.clip(f, lo, hi)), grad

    return clip_round(ops.cast(f, f.dtype))  # cast: a variable is read into a tensor first


#: The dtypes an hgq layer computes in: those that hold its fixed-point values exactly. bfloat16 (8 significant bits)
#: and float16 (11) do not (docs/quantizer.md, "Mixed precision").
EXACT_DTYPES = ("float32", "float64")


def exact_dtype(dtype=None):
    """The ``dtype`` an hgq layer passes on to Keras: ``dtype`` when given; else the global dtype policy where it
    computes in float32 or float64 (``None``), else that policy's variable dtype where it is one of them
    (``mixed_bfloat16``, ``mixed_float16``: float32), else float32."""
    if dtype is not None:
        return dtype
    policy = keras.config.dtype_policy()
    if policy.compute_dtype in EXACT_DTYPES:
        return None
    return policy.variable_dtype if policy.variable_dtype in EXACT_DTYPES else "float32"


class ExactDType:
    """Mixin of every hgq layer (H-layers, P-layers, ``Signature``, ``Quantizer``): it computes in float32 or
    float64, whatever the global dtype policy. Without ``dtype=`` it takes ``exact_dtype()``: under a mixed-precision
    policy the hgq layers of a model compute in float32 while its other Keras layers follow the policy (Keras casts
    the tensors between them). A ``dtype=`` that computes in a 16-bit float or mixes precisions raises
    ``ValueError``."""

    def __init__(self, *args, dtype=None, **kwargs):
        super().__init__(*args, dtype=exact_dtype(dtype), **kwargs)
        if self.compute_dtype not in EXACT_DTYPES or self.variable_dtype != self.compute_dtype:
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: dtype={self.dtype_policy.name!r} computes in "
                f"{self.compute_dtype}, which cannot hold fixed-point values exactly (bfloat16 has 8 significant "
                "bits, float16 11), so the layer would differ from its proxy and from the firmware. Pass "
                "dtype='float32' (or 'float64'), or no dtype: under a mixed-precision policy such as "
                "keras.config.set_dtype_policy('mixed_bfloat16') every hgq layer computes in float32 and the "
                "other layers follow the policy")


@keras.saving.register_keras_serializable(package="hgq")
class Quantizer(ExactDType, keras.layers.Layer):
    """Fixed-point quantizer with one trainable fractional bit width per element.

    In the forward pass ``x_q = R(x * 2**f') / 2**f'`` with ``f' = round(clip(f, *bw_clip))`` when
    ``exact_q_value`` (straight-through). The gradient w.r.t. ``x`` is straight-through; w.r.t. ``f``
    it is the surrogate ``-ln2 * (x_q - x)``. Integer bits and sign are not trained: they come from
    the recorded min/max of ``x_q`` (``minmax_record``), or from each value itself (kernels).

    Args:
        conf: a full quantizer config (see ``hgq.quantizer.config``); ``None`` takes the default.
        kind: ``"kernel"`` (weights: no batch axis) or ``"activation"`` (axis 0 is the batch, always shared).
        bias_absorbs_rounding: whether the owning layer has a bias that absorbs the half-step offset of
            rounding half up; it decides what ``rnd_strategy="auto"`` means (``fixed_point.training_rounding``).
        owner: name of the owning layer, for error messages (``conf`` is validated as ``<kind> of layer <owner>``).
    """

    def __init__(self, conf=None, kind="activation", bias_absorbs_rounding=False, owner=None, **kwargs):
        super().__init__(**kwargs)
        if kind not in ("kernel", "activation"):
            raise ValueError(f"Quantizer kind must be 'kernel' or 'activation', got {kind!r}")
        self.conf = qconfig.resolve("kq_conf" if kind == "kernel" else "paq_conf", conf, owner)
        self.kind = kind
        self.bias_absorbs_rounding = bool(bias_absorbs_rounding)
        self.rounding = fxp.training_rounding(self.conf["rnd_strategy"], self.bias_absorbs_rounding)
        self.calibrating = False
        self.emulated_overflow = False  # True: at inference, wrap around the calibrated type as the export does
        if self.rounding in ("stochastic_round", "fast_uniform_noise_injection"):
            self.seed_generator = keras.random.SeedGenerator()

    def param_shape(self, shape):
        """Shape of the bit-width tensor for values of ``shape``: shared axes become 1."""
        shape = list(shape)
        skip = self.conf["skip_dims"]
        if skip == "all":
            return tuple(1 for _ in shape)
        shared = set(skip or ())
        if self.kind == "activation":
            shared.add(0)
        bad = [d for d in shared if d >= len(shape)]
        if bad:
            raise ValueError(f"skip_dims {skip} of quantizer {self.name!r} names axis {bad[0]}, "
                             f"but the quantized tensor has rank {len(shape)}")
        return tuple(1 if d in shared else int(s) for d, s in enumerate(shape))

    def build(self, input_shape):
        shape = self.param_shape(input_shape)
        dtype = self.conf["dtype"] or self.variable_dtype
        lo, hi = self.conf["bw_clip"]
        self.fbits = self.add_weight(
            name="fractional_bits", shape=shape, dtype=dtype,
            initializer=keras.initializers.Constant(self.conf["init_bw"]),
            trainable=self.conf["trainable"], regularizer=self.conf["regularizer"],
            constraint=lambda f: ops.clip(f, lo - 0.5, hi + 0.5),
        )
        if self.conf["minmax_record"]:
            # Every replica assigns the same cross-replica min/max (see hgq.backend): keep the first.
            self.vmin = self.add_weight(name="min", shape=shape, dtype=dtype, aggregation="only_first_replica",
                                        initializer=keras.initializers.Constant(float("inf")), trainable=False)
            self.vmax = self.add_weight(name="max", shape=shape, dtype=dtype, aggregation="only_first_replica",
                                        initializer=keras.initializers.Constant(float("-inf")), trainable=False)
        self.built = True

    @property
    def records_minmax(self):
        return self.conf["minmax_record"]

    @property
    def deterministic(self):
        """Whether training rounds as inference does (no random rounding)."""
        return self.rounding == fxp.inference_rounding(self.rounding)

    def hls_rounding(self):
        """hls4ml's rounding mode of this quantizer's values at inference (``"RND"`` or ``"TRN"``)."""
        return fxp.hls_rounding(self.rounding)

    def fractional_bits(self):
        """Fractional bits used in the forward pass (clipped; rounded when ``exact_q_value``)."""
        lo, hi = self.conf["bw_clip"]
        f = ops.convert_to_tensor(self.fbits)
        if self.conf["exact_q_value"]:
            return _clip_round_ste(f, lo, hi)
        return ops.clip(f, lo, hi)

    def call(self, x, training=None, f=None, overflow=True):
        f = ops.cast(self.fractional_bits() if f is None else f, x.dtype)
        rounding = self.rounding if training else fxp.inference_rounding(self.rounding)
        noise = None
        if rounding in ("stochastic_round", "fast_uniform_noise_injection"):
            noise = keras.random.uniform(ops.shape(x), dtype=x.dtype, seed=self.seed_generator)
        out = _quantize_ste(x, f, rounding, noise, self.conf["exact_q_value"])
        if self.records_minmax and (training or self.calibrating):
            self._record(out)
        elif self.emulated_overflow and overflow and self.records_minmax and not training:
            k, i, f = (ops.cast(t, out.dtype) for t in self.kif())
            out = fxp.apply_overflow(out, k, i, f, "WRAP")
        return out

    def _record(self, xq):
        shape = tuple(self.fbits.shape)
        axes = tuple(d for d, s in enumerate(shape) if s == 1)
        dtype = self.fbits.dtype
        batch_min = ops.reshape(ops.cast(ops.min(xq, axis=axes, keepdims=True), dtype), shape)
        batch_max = ops.reshape(ops.cast(ops.max(xq, axis=axes, keepdims=True), dtype), shape)
        self.vmin.assign(ops.minimum(self.vmin, min_over_replicas(batch_min)))
        self.vmax.assign(ops.maximum(self.vmax, max_over_replicas(batch_max)))

    def kif(self, values=None):
        """``(k, i, f)`` tensors: from the min/max records, or from ``values`` (quantized kernels)."""
        f = self.fractional_bits()
        if self.records_minmax:
            return fxp.kif_from_range(ops.convert_to_tensor(self.vmin), ops.convert_to_tensor(self.vmax), f)
        self._require_values(values)
        values = ops.cast(values, f.dtype)
        return fxp.kif_from_range(values, values, f)

    def bits(self, values=None, f=None):
        """Total bit width per element (zero where the value is always zero)."""
        f = self.fractional_bits() if f is None else f
        if self.records_minmax:
            return fxp.bits_from_range(ops.convert_to_tensor(self.vmin), ops.convert_to_tensor(self.vmax), f)
        self._require_values(values)
        return fxp.bits_from_values(ops.cast(values, f.dtype), f)

    def _require_values(self, values):
        """Without min/max records the integer bits come from the values themselves, which must be given."""
        if values is not None:
            return
        if self.kind == "activation":
            raise ValueError(f"quantizer {self.name!r} has minmax_record=False, so the integer bits of its outputs "
                             "are unknown: BOPs, calibration and export need minmax_record=True in paq_conf")
        raise ValueError(f"quantizer {self.name!r} records no min/max: pass the quantized values")

    def reset_minmax(self):
        """Forget the recorded ranges."""
        if self.records_minmax:  # NumPy values: no operation for the backend to run (on JAX, to compile per shape)
            self.vmin.assign(np.full(self.vmin.shape, np.inf, dtype=self.vmin.dtype))
            self.vmax.assign(np.full(self.vmax.shape, -np.inf, dtype=self.vmax.dtype))

    def widen_minmax(self, cover_factor):
        """Scale the recorded ranges by ``cover_factor`` (both ends, away from zero when > 1)."""
        if self.records_minmax:
            self.vmin.assign(self.vmin * cover_factor)
            self.vmax.assign(self.vmax * cover_factor)

    def is_calibrated(self):
        """True once every element has a recorded range (always True without records)."""
        if not self.records_minmax:
            return True
        return bool(np.all(ops.convert_to_numpy(self.vmax) >= ops.convert_to_numpy(self.vmin)))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        cfg = super().get_config()
        cfg.update(conf=qconfig.serialize(self.conf), kind=self.kind, bias_absorbs_rounding=self.bias_absorbs_rounding)
        return cfg
