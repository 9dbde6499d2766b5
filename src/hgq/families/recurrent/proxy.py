"""GRU, LSTM and Bidirectional: hls4ml's static recurrent layers, proxy layers holding the tables that hls4ml's C
simulation computes."""

from dataclasses import asdict

import keras
import numpy as np
from keras import ops

from ...quantizer.fixed_type import FixedType
from .arithmetic import RecurrentArithmetic, recurrence

#: The names of one direction's weights (a bidirectional layer prefixes them with ``forward_`` and ``backward_``).
WEIGHTS = ("kernel", "recurrent_kernel", "bias", "recurrent_bias")


class RecurrentProxy(keras.layers.Layer):
    """hls4ml's static recurrent layer (``hgq.families.recurrent.arithmetic``) with the constants of ``arithmetic``,
    the accumulator type ``accum_t`` and the state type ``state_t`` (an LSTM's input is of its one type already:
    ``hgq.families.recurrent.spec.one_type_input``): per direction (``PREFIXES``) its weights ``kernel``,
    ``recurrent_kernel``, ``bias``, ``recurrent_bias`` (a GRU's; zeros for an LSTM), and ``tables`` (what the C
    simulation computes); hls4ml reads the types from its config (``hgq.families.recurrent.hls_handler``).

    Args:
        arithmetic: the ``RecurrentArithmetic`` (or its config).
        accum_t: the accumulator's ``FixedType`` (or its fields): wide enough for every sum.
        state_t: the state's ``FixedType`` (or its fields): hls4ml's result type.
        return_sequences: output every step's state, else the last.
    """

    #: The prefixes of the directions' weights; a direction prefixed ``backward_`` reads the sequence from its end.
    PREFIXES = ("",)

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
        shapes = {"kernel": (int(input_shape[-1]), width), "recurrent_kernel": (a.units, width),
                  "bias": (width,), "recurrent_bias": (width,)}
        for prefix in self.PREFIXES:
            for name in WEIGHTS:
                setattr(self, prefix + name, self.add_weight(name=prefix + name, shape=shapes[name],
                                                             initializer="zeros", trainable=False))
        self.tables = self.add_weight(name="tables", shape=(2, a.table_size), trainable=False,
                                      initializer=keras.initializers.Constant(a.tables()))
        self.built = True

    def direction_weights(self):
        """Per direction, its ``(kernel, recurrent_kernel, bias, recurrent_bias)`` as NumPy arrays."""
        return [tuple(ops.convert_to_numpy(getattr(self, prefix + name)) for name in WEIGHTS)
                for prefix in self.PREFIXES]

    def call(self, x):
        outputs = []
        for prefix in self.PREFIXES:
            backward = prefix == "backward_"
            weights = [ops.convert_to_tensor(getattr(self, prefix + name)) for name in WEIGHTS]
            y = recurrence(ops.flip(x, axis=1) if backward else x, *weights, self.arithmetic,
                           ops.convert_to_tensor(self.tables), self.accum_t.apply, self.state_t.apply,
                           self.arithmetic.one_type, self.return_sequences)
            outputs.append(ops.flip(y, axis=1) if backward and self.return_sequences else y)
        return outputs[0] if len(outputs) == 1 else ops.concatenate(outputs, axis=-1)

    def output_kif(self, feature_shape):
        """The state type, for each output element, shaped ``feature_shape``."""
        t = self.state_t
        return tuple(np.full(feature_shape, v, np.float64) for v in (t.k, t.i, t.f))

    def compute_output_shape(self, input_shape):
        units = len(self.PREFIXES) * self.arithmetic.units
        return (input_shape[0], input_shape[1], units) if self.return_sequences else (input_shape[0], units)

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


@keras.saving.register_keras_serializable(package="hgq")
class Bidirectional(RecurrentProxy):
    """hls4ml's static bidirectional GRU or LSTM (``arithmetic.cell``; ``merge_mode="concat"``): the forward and the
    backward direction's states side by side, the backward one's in the input's order."""

    PREFIXES = ("forward_", "backward_")
