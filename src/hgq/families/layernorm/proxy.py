"""LayerNormalization: hls4ml's layer normalization, a proxy layer holding the table that hls4ml's C simulation
computes."""

from dataclasses import asdict

import keras
import numpy as np
from keras import ops

from ...quantizer.fixed_type import FixedType
from ...quantizer.types import as_numpy, minimal_kif
from .arithmetic import LayerNormArithmetic, layer_norm


@keras.saving.register_keras_serializable(package="hgq")
class LayerNormalization(keras.layers.Layer):
    """hls4ml's layer normalization over the last axis (``hgq.families.layernorm.arithmetic``), with the constants
    of ``arithmetic``, the accumulator type ``accum_t`` (wide enough for the layer's input type) and the table range
    ``range_power2``: its weights ``gamma`` and ``beta`` (the quantized scales and offsets) and ``table`` (what the C
    simulation computes); hls4ml reads the types from its config (``hgq.families.layernorm.hls_handler``).

    Args:
        arithmetic: the ``LayerNormArithmetic`` (or its config).
        accum_t: the accumulator's ``FixedType`` (or its fields).
        range_power2: hls4ml's ``table_range_power2``: the table covers the variances below ``2^-range_power2``.
    """

    def __init__(self, arithmetic, accum_t, range_power2, **kwargs):
        kwargs.setdefault("dtype", "float64")
        super().__init__(**kwargs)
        self.arithmetic = (arithmetic if isinstance(arithmetic, LayerNormArithmetic)
                           else LayerNormArithmetic.from_config(arithmetic))
        self.accum_t = accum_t if isinstance(accum_t, FixedType) else FixedType(**accum_t)
        self.range_power2 = int(range_power2)

    def build(self, input_shape):
        dim = self.arithmetic.dim
        self.gamma = self.add_weight(name="gamma", shape=(dim,), initializer="ones", trainable=False)
        self.beta = self.add_weight(name="beta", shape=(dim,), initializer="zeros", trainable=False)
        self.table = self.add_weight(name="table", shape=(self.arithmetic.table_size,), trainable=False,
                                     initializer=keras.initializers.Constant(self.arithmetic.table(self.range_power2)))
        self.built = True

    def call(self, x):
        index_scale = self.arithmetic.index_scale(self.range_power2)
        return layer_norm(x, self.arithmetic, ops.convert_to_tensor(self.table), index_scale,
                          ops.convert_to_tensor(self.gamma), ops.convert_to_tensor(self.beta))

    def output_kif(self, feature_shape):
        """The exact type of each output element (``LayerNormArithmetic.output_kif``), shaped ``feature_shape``."""
        kif = self.arithmetic.output_kif(self.accum_t, minimal_kif(as_numpy(self.gamma)),
                                         minimal_kif(as_numpy(self.beta)))
        return tuple(np.broadcast_to(a, feature_shape) for a in kif)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        cfg = super().get_config()
        cfg.update(arithmetic=self.arithmetic.get_config(), accum_t=asdict(self.accum_t),
                   range_power2=self.range_power2)
        return cfg
