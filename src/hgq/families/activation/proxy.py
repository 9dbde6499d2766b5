"""UnaryLUT: an element-wise function as a lookup table indexed by the input's raw bits, as hls4ml evaluates it."""

import keras
from keras import ops

from ...quantizer import fixed_point as fxp


@keras.saving.register_keras_serializable(package="hgq")
class UnaryLUT(keras.layers.Layer):
    """``y = table[raw bits of x]``, exactly as hls4ml's ``unary_lut``.

    The input must lie on the grid of one fixed-point type ``kif_in = (k, i, f)`` (put a homogeneous
    ``FixedPointQuantizer`` of that type before it); the index is the input's ``k + i + f`` raw bits (two's
    complement when signed, so negative inputs sit in the upper half of the table). hls4ml reads the weight
    ``table`` (length ``2 ** (k + i + f)``) and the config ``kif_out`` (type of the table values); it ignores
    ``kif_in``.

    Args:
        table_size: number of entries, ``2 ** (k_in + i_in + f_in)``.
        kif_in: ``(k, i, f)`` of the input (``i`` without the sign bit).
        kif_out: ``(k, i, f)`` holding every table value.
    """

    def __init__(self, table_size, kif_in, kif_out, **kwargs):
        kwargs.setdefault("dtype", "float64")
        super().__init__(**kwargs)
        self.table_size = int(table_size)
        self.kif_in = tuple(int(v) for v in kif_in)
        self.kif_out = tuple(int(v) for v in kif_out)
        if 2 ** sum(self.kif_in) != self.table_size:
            raise ValueError(f"UnaryLUT {self.name!r}: table_size={table_size} but kif_in={self.kif_in} "
                             f"needs 2**{sum(self.kif_in)} entries")

    def build(self, input_shape):
        self.table = self.add_weight(name="table", shape=(self.table_size,), dtype=self.dtype,
                                     initializer="zeros", trainable=False)
        self.built = True

    def call(self, x):
        _, _, f = self.kif_in
        n = fxp.floor(ops.cast(x, "float64") * 2.0 ** f)
        index = ops.cast(n - fxp.floor(n / self.table_size) * self.table_size, "int32")  # two's complement bits
        return ops.cast(ops.take(ops.convert_to_tensor(self.table), index), self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        cfg = super().get_config()
        cfg.update(table_size=self.table_size, kif_in=list(self.kif_in), kif_out=list(self.kif_out))
        return cfg



