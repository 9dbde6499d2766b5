"""BatchNormalization: ``keras.layers.BatchNormalization`` at inference, computed as hls4ml computes it, in the layer's
own dtype on every backend; the proxy of ``HBatchNormalization``."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="hgq")
class BatchNormalization(keras.layers.BatchNormalization):
    """``keras.layers.BatchNormalization`` (inference) computed as hls4ml computes it, in the layer's dtype.

    ``x * scale + bias`` with ``scale = gamma / sqrt(var + epsilon)`` and ``bias = beta - scale * mean`` (hls4ml's
    ``BatchNormalization``): square root and division only, which IEEE arithmetic rounds correctly on every device.
    Keras' own layer promotes its input with float32 by rules that turn float64 into float32 on every backend but
    TensorFlow (Keras 3.15), so a float64 proxy holding it would compute in float32 on JAX. hls4ml reads this layer
    with its handler of the plain layer (registered for it by this family's ``hls_handler``); its config and
    weights are the plain layer's.
    """

    def call(self, inputs, training=None, mask=None):
        shape = [1] * len(inputs.shape)
        shape[self.axis] = inputs.shape[self.axis]
        scale = ops.divide(1.0 if self.gamma is None else self.gamma, ops.sqrt(self.moving_variance + self.epsilon))
        bias = -scale * self.moving_mean if self.beta is None else self.beta - scale * self.moving_mean
        return inputs * ops.reshape(scale, shape) + ops.reshape(bias, shape)
