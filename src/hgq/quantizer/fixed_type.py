"""``FixedType``: one fixed-point type with hls4ml's rounding and overflow modes, for the firmware's internal types
that hgq emulates (table softmax, layer normalization): their values, casts of doubles as ``ap_fixed`` casts them,
the same cast in ``keras.ops``, table indices and hls4ml's ``FixedPrecisionType``."""

from dataclasses import dataclass

import numpy as np
from keras import ops

from . import fixed_point as fxp
from .types import all_values


@dataclass(frozen=True)
class FixedType:
    """One fixed-point type ``(k, i, f)`` with hls4ml's rounding (``TRN``, ``RND``) and overflow (``WRAP``, ``SAT``)."""

    k: int
    i: int
    f: int
    rounding: str = "TRN"
    overflow: str = "WRAP"

    @property
    def width(self):
        return self.k + self.i + self.f

    def values(self):
        """Every value of the type in raw-bit order (``types.all_values``)."""
        return all_values(self.k, self.i, self.f)

    def cast(self, v):
        """``v`` (float64, infinities allowed) converted as ``ap_fixed`` converts a ``double``: rounded to the grid
        (``TRN`` floor, ``RND`` half up), then wrapped or saturated; an infinity is ``2^1024``: wrapped to 0."""
        v = np.asarray(v, np.float64)
        finite = np.where(np.isfinite(v), v, 0.0)
        scaled = finite * 2.0**self.f
        q = np.floor(scaled + 0.5) if self.rounding == "RND" else np.floor(scaled)
        low, high = -self.k * 2.0 ** (self.width - 1), 2.0 ** (self.width - self.k) - 1
        if self.overflow == "SAT":
            q = np.clip(np.where(np.isinf(v), np.sign(v) * np.inf, q), low, high)
        else:
            q = np.where(np.isinf(v), 0.0, np.mod(q - low, 2.0**self.width) + low)
        return q * 2.0**-self.f

    def apply(self, x):
        """``keras.ops`` of ``cast`` on finite tensors (the arithmetic of the firmware)."""
        rounding = {"TRN": "floor", "RND": "standard_round"}[self.rounding]
        k, i, f = (ops.convert_to_tensor(float(v), dtype=x.dtype) for v in (self.k, self.i, self.f))
        return fxp.apply_overflow(fxp.round_to_grid(x, f, rounding), k, i, f, self.overflow)

    def index(self, x):
        """The raw bits of ``x`` (on the type's grid and range) as an int32 tensor: a table index."""
        n = fxp.floor(x * 2.0**self.f + 0.5)
        return ops.cast(ops.mod(n, 2.0**self.width), "int32")

    def to_hls4ml(self):
        """hls4ml's ``FixedPrecisionType`` of this type."""
        from hls4ml.model.types import FixedPrecisionType

        return FixedPrecisionType(max(self.width, 1), self.k + self.i, bool(self.k), rounding_mode=self.rounding,
                                  saturation_mode=self.overflow)
