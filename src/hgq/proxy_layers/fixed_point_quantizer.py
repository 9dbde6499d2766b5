"""FixedPointQuantizer: the proxy model's quantizer, in the format hls4ml reads."""

import keras
import numpy as np
from keras import ops

from ..quantizer import fixed_point as fxp
from ..quantizer.types import kif_from_kbi


@keras.saving.register_keras_serializable(package="hgq")
class FixedPointQuantizer(keras.layers.Layer):
    """Quantize to per-element fixed-point types, exactly as ``ap_fixed`` does.

    The types are stored as weights in hls4ml's convention: ``keep_negative`` (sign bit), ``bits`` (total
    width) and ``integers`` (integer width including the sign), each shaped ``(1, *features)``, or ``(1,)``
    for one type of every element. An element with zero bits is always zero.

    Args:
        kbi_shape: shape of the three weight arrays.
        RND: rounding, ``"TRN"`` (floor), ``"RND"`` (half up) or ``"RND_CONV"`` (half to even).
        SAT: overflow, ``"WRAP"``, ``"SAT"`` or ``"SAT_SYM"``.
        fusible: whether all elements share one type: hls4ml then reads the first element's type only, narrows it
            once for all elements, and may fuse the quantizer into its input.
        overrides: hls4ml configuration for named layers, e.g. ``{"layers": {"d": {"parallelization_factor": 2}}}``.
    """

    def __init__(self, kbi_shape=(1,), RND="TRN", SAT="WRAP", fusible=None, overrides=None, **kwargs):
        super().__init__(**kwargs)
        if RND not in fxp.HLS_ROUNDINGS:
            raise ValueError(f"FixedPointQuantizer {self.name!r}: RND={RND!r}; allowed: {', '.join(fxp.HLS_ROUNDINGS)}")
        if SAT not in fxp.OVERFLOWS:
            raise ValueError(f"FixedPointQuantizer {self.name!r}: SAT={SAT!r}; allowed: {', '.join(fxp.OVERFLOWS)}")
        self.kbi_shape = tuple(int(s) for s in kbi_shape)
        self.RND, self.SAT = RND, SAT
        self.fusible = fusible
        self.overrides = overrides or {}

    def build(self, input_shape):
        for name in ("keep_negative", "bits", "integers"):
            setattr(self, name, self.add_weight(name=name, shape=self.kbi_shape, dtype="int32",
                                                initializer="zeros", trainable=False))
        self.built = True

    def set_kbi(self, k, b, i):
        """Set the sign, total and integer (sign included) widths: arrays of as many elements as ``kbi_shape``, or
        broadcastable to it."""
        for var, value in zip((self.keep_negative, self.bits, self.integers), (k, b, i)):
            value = np.asarray(value, dtype=np.int32)
            same_size = value.size == np.prod(self.kbi_shape)
            var.assign(value.reshape(self.kbi_shape) if same_size else np.broadcast_to(value, self.kbi_shape))

    def kbi(self):
        """The stored ``(keep_negative, bits, integers)`` as NumPy arrays."""
        return tuple(ops.convert_to_numpy(v) for v in (self.keep_negative, self.bits, self.integers))

    def kif(self):
        """``(k, i, f)`` of each element (float64 NumPy arrays shaped ``kbi_shape``; zero where the width is zero)."""
        return kif_from_kbi(self.kbi())

    def call(self, x):
        k, b, integers = (ops.cast(v, x.dtype) for v in (self.keep_negative, self.bits, self.integers))
        i, f = integers - k, b - integers
        xq = fxp.round_to_grid(x, f, fxp.HLS_ROUNDINGS[self.RND])
        xq = fxp.apply_overflow(xq, k, i, f, self.SAT)
        return ops.where(b > 0, xq, ops.zeros_like(xq))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        cfg = super().get_config()
        cfg.update(kbi_shape=self.kbi_shape, RND=self.RND, SAT=self.SAT, fusible=self.fusible,
                   overrides=self.overrides)
        return cfg
