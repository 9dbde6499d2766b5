"""HBatchNormalization: a standalone batch normalization ``x * s + o`` with a quantized scale, a rounded offset and a
quantized output."""

import string

import keras
from keras import ops

from ..hlayer import HLayer
from ..kernel.batchnorm import NormalizationMixin, check_momentum_and_epsilon
from ..kernel.einsum_geometry import EinsumGeometry
from ..kernel.mixin import QuantizedAffineMixin


def normalization_geometry(input_shape, channels):
    """The geometry of a per-channel scale on inputs of feature shape ``input_shape`` (channels last): the einsum
    ``"ab…z,z->ab…z"``, one multiplication per input element (``hgq.families.kernel.einsum_geometry``)."""
    letters = string.ascii_lowercase[:1 + len(input_shape)]
    return EinsumGeometry(f"{letters},{letters[-1]}->{letters}", input_shape, (channels,))


@keras.saving.register_keras_serializable(package="hgq")
class HBatchNormalization(QuantizedAffineMixin, NormalizationMixin, HLayer, keras.layers.BatchNormalization):
    """``keras.layers.BatchNormalization`` (last axis) with a quantized scale and a quantized output.

    Computes ``paq(x * kq(s) + round(o))`` per channel with ``s = bn_gamma / sqrt(var + epsilon)`` and
    ``o = bn_beta - mean * s``: the batch statistics while training (which update the moving ones, as Keras does),
    the moving ones at inference or with ``trainable=False``. ``s`` has one trainable bit width per channel
    (``kq_conf``); ``o`` is rounded to one fractional bit more than the finest output step of its channel; while
    training ``beta * BOPs`` joins the loss, one multiplication per input element: ``Σ`` input width × width of its
    channel's scale. Exported as a plain float64 ``BatchNormalization`` whose hls4ml scale and bias are exactly the
    quantized ``s`` and ``o``, then the output quantizer (``docs/batchnorm.md``).

    The offset's variable is ``bn_beta`` and the scale's ``bn_gamma``: ``beta`` is every H-layer's BOPs weight
    (``beta_initializer``, ``beta_regularizer``, ``beta_constraint`` still refer to the offset, as in Keras).

    Args:
        axis: must be -1 (the channels last; any other axis raises ``ValueError``).
        momentum: moving-statistics momentum, in ``[0, 1)``.
        epsilon: added to the variance, ``> 0``.
        center: learn the offset ``bn_beta`` (else 0).
        scale: learn the scale ``bn_gamma`` (else 1).
        beta: BOPs weight in the loss.
        kq_conf: scale-quantizer options overriding the defaults (see ``get_default_kq_conf``).
        paq_conf: output-quantizer options overriding the defaults (see ``get_default_paq_conf``).
        **kwargs: any other ``keras.layers.BatchNormalization`` argument (initializers, regularizers, constraints,
            ``synchronized``); ``renorm=True`` raises ``ValueError``.

    Example:
        >>> x = HQuantize()(keras.Input((8, 8, 3)))
        >>> y = HBatchNormalization(momentum=0.9, beta=1e-5)(x)
    """

    activation = staticmethod(keras.activations.linear)

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True, beta=0.0, kq_conf=None,
                 paq_conf=None, **kwargs):
        owner = f"HBatchNormalization {kwargs['name']!r}" if kwargs.get("name") else "HBatchNormalization"
        if isinstance(axis, bool) or axis != -1:
            raise ValueError(f"{owner}: axis={axis!r} is not supported: only the last axis (axis=-1) is normalized, "
                             "as hls4ml's BatchNormalization does; move the channels last")
        if kwargs.get("renorm"):
            raise ValueError(f"{owner}: renorm=True (batch renormalization) is not supported")
        momentum, epsilon = check_momentum_and_epsilon(owner, momentum, epsilon)
        super().__init__(axis=-1, momentum=momentum, epsilon=epsilon, center=center, scale=scale, beta=beta,
                         paq_conf=paq_conf, **kwargs)
        self._init_kernel_quantizer(kq_conf)

    @property
    def beta(self):
        """Weight of this layer's BOPs in the loss (the offset is ``bn_beta``)."""
        return HLayer.beta.fget(self)

    @beta.setter
    def beta(self, value):
        if value is not None:  # keras.layers.BatchNormalization.__init__ sets its offset variable, ours is bn_beta
            HLayer.beta.fset(self, value)

    @property
    def use_bias(self):
        return True  # the offset

    def build(self, input_shape):
        channels = int(input_shape[-1])
        self._add_normalization_weights(
            (channels,), **{f"{w}_{kind}": getattr(self, f"{w}_{kind}") for w in ("gamma", "beta")
                            for kind in ("initializer", "regularizer", "constraint")},
            moving_mean_initializer=self.moving_mean_initializer,
            moving_variance_initializer=self.moving_variance_initializer)
        self.kq.build((channels,))
        self.paq.build(tuple(input_shape))
        self._reduction_axes = list(range(len(input_shape) - 1))

    def bias_shape(self):
        return tuple(self.moving_mean.shape)

    def geometry(self, input_shape):
        return normalization_geometry(tuple(input_shape[1:]), self.bias_shape()[0])

    def kernel_and_bias(self, inputs=None, training=None):
        """The float scale ``s`` and offset ``o``: with the batch statistics of ``inputs`` while training (which
        updates the moving ones), else with the moving statistics (what is exported and counted in BOPs)."""
        if training and self.trainable and inputs is not None:
            mean, var = ops.moments(inputs, axes=self._reduction_axes, synchronized=self.synchronized)
            self.update_moving_statistics(mean, var)
        else:
            mean, var = self.moving_mean, self.moving_variance
        s = self.normalization_scale(var)
        return s, self.normalization_offset(-mean, s)

    def linear(self, inputs, kernel):
        return inputs * kernel
