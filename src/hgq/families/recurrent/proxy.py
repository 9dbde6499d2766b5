"""GRU and LSTM: hls4ml's static recurrent layers, proxy layers holding the tables that hls4ml's C simulation
computes."""

from dataclasses import asdict

import keras
import numpy as np
from keras import ops

from ...quantizer.fixed_type import FixedType
from .arithmetic import RecurrentArithmetic, recurrence


class RecurrentProxy(keras.layers.Layer):
    """hls4ml's static recurrent layer (``hgq.families.recurrent.arithmetic``) with the constants of ``arithmetic``,
    the accumulator type ``accum_t`` and the state type ``state_t`` (an LSTM's input is of its one type already:
    ``hgq.families.recurrent.spec.one_type_input``): its weights ``kernel``, ``recurrent_kernel``,
    ``bias``, ``recurrent_bias`` (a GRU's; zeros for an LSTM) and ``tables`` (what the C simulation computes); hls4ml
    reads the types from its config (``hgq.families.recurrent.hls_handler``).

    Args:
        arithmetic: the ``RecurrentArithmetic`` (or its config).
        accum_t: the accumulator's ``FixedType`` (or its fields): wide enough for every sum.
        state_t: the state's ``FixedType`` (or its fields): hls4ml's result type.
        return_sequences: output every step's state, else the last.
    """

    def __init__(self, arithmetic, accum_t, state_t, return_sequences=False, **kwargs):
        kwargs.setdefault("dtype", "float64")
        super().__init__(**kwargs)
        self.arithmetic = (arithmetic if isinstance(arithmetic, RecurrentArithmetic)
                           else RecurrentArithmetic.from_config(arithmetic))
        self.accum_t = accum_t if isinstance(accum_t, FixedType) else FixedType(**accum_t)
        self.state_t = state_t if isinstance(state_t, FixedType) else FixedType(**state_t)
        self.return_sequences = bool(return_sequences)

    def build(self, input_shape):
        a = self.arithmetic
        width = a.gates * a.units
        self.kernel = self.add_weight(name="kernel", shape=(int(input_shape[-1]), width), trainable=False)
        self.recurrent_kernel = self.add_weight(name="recurrent_kernel", shape=(a.units, width), trainable=False)
        self.bias = self.add_weight(name="bias", shape=(width,), initializer="zeros", trainable=False)
        self.recurrent_bias = self.add_weight(name="recurrent_bias", shape=(width,), initializer="zeros",
                                              trainable=False)
        self.tables = self.add_weight(name="tables", shape=(2, a.table_size), trainable=False,
                                      initializer=keras.initializers.Constant(a.tables()))
        self.built = True

    def call(self, x):
        return recurrence(x, ops.convert_to_tensor(self.kernel), ops.convert_to_tensor(self.recurrent_kernel),
                          ops.convert_to_tensor(self.bias), ops.convert_to_tensor(self.recurrent_bias),
                          self.arithmetic, ops.convert_to_tensor(self.tables), self.accum_t.apply, self.state_t.apply,
                          self.arithmetic.one_type, self.return_sequences)

    def output_kif(self, feature_shape):
        """The state type, for each output element, shaped ``feature_shape``."""
        t = self.state_t
        return tuple(np.full(feature_shape, v, np.float64) for v in (t.k, t.i, t.f))

    def compute_output_shape(self, input_shape):
        if self.return_sequences:
            return (input_shape[0], input_shape[1], self.arithmetic.units)
        return (input_shape[0], self.arithmetic.units)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(arithmetic=self.arithmetic.get_config(), accum_t=asdict(self.accum_t),
                   state_t=asdict(self.state_t), return_sequences=self.return_sequences)
        return cfg


@keras.saving.register_keras_serializable(package="hgq")
class GRU(RecurrentProxy):
    """hls4ml's static GRU (``reset_after=True``)."""


@keras.saving.register_keras_serializable(package="hgq")
class LSTM(RecurrentProxy):
    """hls4ml's static LSTM."""
