"""Einsum: the einsum of two tensors, a proxy layer (Keras has none) that hls4ml converts to its ``Einsum``."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="hgq")
class Einsum(keras.layers.Layer):
    """``ops.einsum(equation, a, b)`` of the layer's two inputs ``[a, b]``.

    Args:
        equation: the einsum equation of the two inputs, batch axis included (``"abc,adc->abd"``).
    """

    def __init__(self, equation, **kwargs):
        kwargs.setdefault("dtype", "float64")
        super().__init__(**kwargs)
        self.equation = equation

    def call(self, inputs):
        return ops.einsum(self.equation, inputs[0], inputs[1])

    def compute_output_spec(self, inputs):
        return keras.KerasTensor(ops.einsum(self.equation, inputs[0], inputs[1]).shape, dtype=self.compute_dtype)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(equation=self.equation)
        return cfg
