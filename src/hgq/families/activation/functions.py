"""Element-wise functions with parameters, as ``HActivation`` computes them: Keras' activation layers ``ReLU`` (with
``max_value``, ``negative_slope``, ``threshold``), ``LeakyReLU`` and ``ELU`` (with ``alpha``), each a registered
serializable callable so that a model holding it saves, loads and exports (as a ``UnaryLUT`` table)."""

import keras


class _Configured:
    """Rebuilt from its config (what Keras' deserialization calls)."""

    @classmethod
    def from_config(cls, config):
        return cls(**config)


@keras.saving.register_keras_serializable(package="hgq")
class ParametricReLU(_Configured):
    """``keras.activations.relu(x, negative_slope, max_value, threshold)``: Keras' ``ReLU`` and ``LeakyReLU`` layers.

    Args:
        negative_slope: slope below ``threshold``.
        max_value: the largest output (``None``: unbounded).
        threshold: inputs below it are cut (or scaled by ``negative_slope``).
    """

    def __init__(self, negative_slope=0.0, max_value=None, threshold=0.0):
        self.negative_slope = float(negative_slope)
        self.max_value = None if max_value is None else float(max_value)
        self.threshold = float(threshold)

    def __call__(self, x):
        return keras.activations.relu(x, negative_slope=self.negative_slope, max_value=self.max_value,
                                      threshold=self.threshold)

    def get_config(self):
        return {"negative_slope": self.negative_slope, "max_value": self.max_value, "threshold": self.threshold}


@keras.saving.register_keras_serializable(package="hgq")
class ParametricELU(_Configured):
    """``keras.activations.elu(x, alpha)``: Keras' ``ELU`` layer.

    Args:
        alpha: the scale of the negative part, ``alpha * (exp(x) - 1)``.
    """

    def __init__(self, alpha=1.0):
        self.alpha = float(alpha)

    def __call__(self, x):
        return keras.activations.elu(x, alpha=self.alpha)

    def get_config(self):
        return {"alpha": self.alpha}
