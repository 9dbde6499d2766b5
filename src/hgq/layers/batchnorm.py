"""HDenseBatchNorm, HConv1DBatchNorm, HConv2DBatchNorm: batch normalization fused into the quantized kernel and bias.

The layer computes ``BN(linear(x, W) + b)`` but quantizes the *fused* weights

    s  = gamma / sqrt(var + epsilon)          (per output channel)
    W' = W * s
    b' = (b - mean) * s + beta

so the exported layer is a plain Dense/Conv (with a bias) followed by the output quantizer: the batch
normalization costs nothing in firmware. See ``docs/batchnorm.md``.
"""

import keras
from keras import ops

from .conv import HConv1D, HConv2D
from .dense import HDense


class BatchNormFusionMixin:
    """Batch normalization fused into a ``QuantizedKernelMixin`` layer (HDense, HConv1D, HConv2D).

    Args (besides the parent's):
        momentum: moving-statistics momentum (as ``keras.layers.BatchNormalization``).
        epsilon: added to the variance.
        center: learn the offset ``bn_beta`` (else it is 0).
        scale: learn the scale ``bn_gamma`` (else it is 1).
        use_bias: whether a raw bias ``b`` is added *before* the normalization. Batch normalization subtracts
            the mean, so ``b`` cancels out (as with Keras Dense + BatchNormalization); ``False`` keeps it at 0
            (a non-trainable zero). Either way the fused layer always has a bias: it carries the shift
            ``beta - mean * s``, which exists even with ``center=False``.
    """

    def __init__(self, *args, momentum=0.99, epsilon=1e-3, center=True, scale=True, use_bias=True, **kwargs):
        momentum, epsilon = float(momentum), float(epsilon)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"{type(self).__name__}: momentum must be in [0, 1), got {momentum!r}")
        if not epsilon > 0.0:
            raise ValueError(f"{type(self).__name__}: epsilon must be > 0 (it keeps 1/sqrt(var + epsilon) "
                             f"finite), got {epsilon!r}")
        # The fused layer always needs a bias for the normalization's shift: build one in any case.
        super().__init__(*args, use_bias=True, **kwargs)
        self.momentum, self.epsilon = momentum, epsilon
        self.center, self.scale = bool(center), bool(scale)
        self.raw_bias = bool(use_bias)

    def build(self, input_shape):
        super().build(input_shape)
        channels = (self.kernel.shape[-1],)
        if not self.raw_bias:
            self.bias.assign(ops.zeros(channels, self.bias.dtype))
            self.bias.trainable = False
        self.bn_gamma = self.add_weight(name="bn_gamma", shape=channels, initializer="ones",
                                        trainable=True) if self.scale else None
        self.bn_beta = self.add_weight(name="bn_beta", shape=channels, initializer="zeros",
                                       trainable=True) if self.center else None
        self.moving_mean = self.add_weight(name="moving_mean", shape=channels, initializer="zeros",
                                           trainable=False)
        self.moving_variance = self.add_weight(name="moving_variance", shape=channels, initializer="ones",
                                               trainable=False)

    # -- the fusion -------------------------------------------------------------------------------------------

    def _raw_bias(self):
        return self.bias if self.raw_bias else ops.stop_gradient(self.bias)

    def fused_kernel_and_bias(self, mean=None, var=None):
        """The float fused kernel ``W * s`` and bias ``(b - mean) * s + beta`` with ``s = gamma/sqrt(var + eps)``.

        ``mean``/``var`` default to the moving statistics (inference)."""
        mean = self.moving_mean if mean is None else mean
        var = self.moving_variance if var is None else var
        s = ops.rsqrt(var + self.epsilon)
        if self.scale:
            s = s * self.bn_gamma
        kernel = self.kernel * s  # broadcasts over the last (output-channel) axis
        bias = (self._raw_bias() - mean) * s
        if self.center:
            bias = bias + self.bn_beta
        return kernel, bias

    def _batch_statistics(self, inputs):
        """Per-channel mean and variance of ``linear(x, W) + b`` over every other axis; updates the moving ones."""
        z = self.linear(inputs, self.kernel) + self._raw_bias()
        axes = list(range(len(z.shape) - 1))
        mean, var = ops.moments(z, axes=axes)
        m = self.momentum
        self.moving_mean.assign(self.moving_mean * m + ops.stop_gradient(mean) * (1.0 - m))
        self.moving_variance.assign(self.moving_variance * m + ops.stop_gradient(var) * (1.0 - m))
        return mean, var

    def kernel_and_bias(self, inputs=None, training=None):
        """The fused kernel and bias: with the batch statistics of ``inputs`` while training (which updates the
        moving ones), else with the moving statistics (what is exported and counted in BOPs)."""
        if training and inputs is not None:
            return self.fused_kernel_and_bias(*self._batch_statistics(inputs))
        return self.fused_kernel_and_bias()

    def _bn_variables(self):
        return {name: getattr(self, name) for name in ("bn_gamma", "bn_beta", "moving_mean", "moving_variance")
                if getattr(self, name) is not None}

    # Keras' Dense saves only its kernel and bias; the generic ``Layer`` mechanism saves every variable of the
    # layer (kernel, bias, then the normalization's, in creation order) by index. Use it for both kinds.
    def save_own_variables(self, store):
        keras.layers.Layer.save_own_variables(self, store)

    def load_own_variables(self, store):
        if "moving_mean" in store.keys():  # hgq 0.1.0 saved the dense layer's statistics by name after "0", "1"
            keys = ["0", "1", *self._bn_variables()]
            store = {str(n): store[key] for n, key in enumerate(keys)}
        keras.layers.Layer.load_own_variables(self, store)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(momentum=self.momentum, epsilon=self.epsilon, center=self.center, scale=self.scale,
                   use_bias=self.raw_bias)
        return cfg


_DOC = """

    Batch normalization is fused into the quantized kernel and bias (``BatchNormFusionMixin``): the layer
    computes ``BN(linear(x, W) + b)`` with ``W' = W * s``, ``b' = (b - mean) * s + bn_beta``,
    ``s = bn_gamma / sqrt(var + epsilon)`` (batch statistics while training, moving ones otherwise) and
    quantizes ``W'`` (``kq``) and ``b'``. It exports as the plain parent layer, always with a bias.
    Extra args: ``momentum=0.99``, ``epsilon=1e-3``, ``center=True``, ``scale=True``; ``use_bias`` only
    says whether a raw (pre-normalization, cancelled-out) bias is learned. See ``docs/batchnorm.md``.
"""


@keras.saving.register_keras_serializable(package="hgq")
class HDenseBatchNorm(BatchNormFusionMixin, HDense):
    __doc__ = (HDense.__doc__ or "") + _DOC


@keras.saving.register_keras_serializable(package="hgq")
class HConv1DBatchNorm(BatchNormFusionMixin, HConv1D):
    __doc__ = (HConv1D.__doc__ or "") + _DOC


@keras.saving.register_keras_serializable(package="hgq")
class HConv2DBatchNorm(BatchNormFusionMixin, HConv2D):
    __doc__ = (HConv2D.__doc__ or "") + _DOC
