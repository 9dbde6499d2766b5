"""HSeparableConv1D and HSeparableConv2D: a depthwise convolution then a pointwise (1x1) one, each an H-layer with its
own heterogeneous quantizers, as hls4ml computes a separable convolution."""

import keras

from ..hlayer import CompositeHLayer
from .conv import HConv1D, HConv2D
from .depthwise import HDepthwiseConv1D, HDepthwiseConv2D
from .geometry import output_size_and_padding
from .mixin import check_activation

#: The parts of a separable convolution, in the order of its computation.
PARTS = ("depthwise", "pointwise")

#: ``keras.layers.SeparableConv*D`` arguments that the layer passes on to its parts.
_INITIALIZERS = ("depthwise_initializer", "pointwise_initializer", "bias_initializer")


class HSeparableConvBase(CompositeHLayer):
    """Shared part of ``HSeparableConv1D`` and ``HSeparableConv2D`` (see ``HSeparableConv2D``)."""

    rank = None
    part_classes = None  # (depthwise class, pointwise class)

    def __init__(self, filters, kernel_size, strides=1, padding="valid", depth_multiplier=1, activation=None,
                 use_bias=True, beta=0.0, kq_conf=None, paq_conf=None, parallel_factor=1,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", **kwargs):
        super().__init__(beta=beta, kq_conf=kq_conf, paq_conf=paq_conf, **kwargs)
        self.filters, self.depth_multiplier = int(filters), int(depth_multiplier)
        self.kernel_size = _tuple(kernel_size, self.rank)
        self.strides, self.padding = _tuple(strides, self.rank), padding
        self.activation = check_activation(self.name, activation)
        self.use_bias, self.parallel_factor = bool(use_bias), parallel_factor
        self.initializers = {"depthwise_initializer": depthwise_initializer,
                             "pointwise_initializer": pointwise_initializer, "bias_initializer": bias_initializer}

    def build(self, input_shape):
        depthwise_class, pointwise_class = self.part_classes
        common = dict(beta=self.beta, kq_conf=self.kq_conf_, paq_conf=self.paq_conf_,
                      parallel_factor=self.parallel_factor, dtype=self.dtype_policy)
        self.depthwise = depthwise_class(self.kernel_size, strides=self.strides, padding=self.padding,
                                         depth_multiplier=self.depth_multiplier, use_bias=False,
                                         depthwise_initializer=self.initializers["depthwise_initializer"],
                                         name=f"{self.name}_depthwise", **common)
        self.pointwise = pointwise_class(self.filters, 1, activation=self.activation, use_bias=self.use_bias,
                                         kernel_initializer=self.initializers["pointwise_initializer"],
                                         bias_initializer=self.initializers["bias_initializer"],
                                         name=f"{self.name}_pointwise", **common)
        middle = self.depthwise.compute_output_shape(input_shape)
        self.depthwise.build(input_shape)
        self.pointwise.build(middle)
        self.depthwise.wire(lambda: [(self.input_layers()[0], tuple(input_shape))])
        self.pointwise.wire(lambda: [(self.depthwise, tuple(middle))])
        self.built = True

    def compute_output_shape(self, input_shape):
        spatial = [output_size_and_padding(n, k, s, self.padding)[0]
                   for n, k, s in zip(input_shape[1:-1], self.kernel_size, self.strides)]
        return (input_shape[0], *spatial, self.filters)

    def part(self, name):
        """The part ``name`` (one of ``PARTS``) of the layer."""
        return getattr(self, name)

    def parts(self):
        return [self.part(name) for name in PARTS] if self.built else []

    def call(self, inputs, training=None):
        return self.pointwise(self.depthwise(inputs, training=training), training=training)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(filters=self.filters, kernel_size=self.kernel_size, strides=self.strides, padding=self.padding,
                   depth_multiplier=self.depth_multiplier, activation=self.activation, use_bias=self.use_bias,
                   parallel_factor=self.parallel_factor,
                   **{key: keras.saving.serialize_keras_object(value) for key, value in self.initializers.items()})
        return cfg


def _tuple(value, rank):
    return tuple(int(v) for v in value) if isinstance(value, (tuple, list)) else (int(value),) * rank


@keras.saving.register_keras_serializable(package="hgq")
class HSeparableConv1D(HSeparableConvBase):
    """1D separable convolution with heterogeneous quantization (arguments as ``HSeparableConv2D``, on
    ``(batch, steps, channels)``).

    Example:
        >>> x = keras.Input((32, 3))
        >>> y = HSeparableConv1D(8, 3, padding="same", activation="relu", beta=1e-5)(HQuantize()(x))
    """

    rank = 1
    part_classes = (HDepthwiseConv1D, HConv1D)


@keras.saving.register_keras_serializable(package="hgq")
class HSeparableConv2D(HSeparableConvBase):
    """``keras.layers.SeparableConv2D`` composed of H-layers, as hls4ml computes it: an ``HDepthwiseConv2D`` (no
    bias; named ``<name>_depthwise``) whose quantized output feeds an ``HConv2D`` 1x1 (the bias and the activation;
    ``<name>_pointwise``). Each part has its own trainable widths (per weight of both kernels, per element of the
    intermediate and of the output) and BOPs; the layer's costs are theirs summed, its output quantizer the
    pointwise part's, its export the two parts.

    Args:
        filters: number of output channels.
        kernel_size: as in Keras.
        strides: as in Keras.
        padding: ``"valid"`` or ``"same"``.
        depth_multiplier: as in Keras (hls4ml computes ``depth_multiplier=1`` only: a larger one trains, and export
            refuses it by name).
        activation: ``None``/``"linear"`` or ``"relu"``.
        use_bias: a bias in the pointwise part.
        beta: BOPs weight in the loss, for both parts.
        kq_conf: kernel-quantizer options of both kernels.
        paq_conf: output-quantizer options of both parts.
        parallel_factor: output positions computed in parallel in firmware, for both parts (see ``HConv2D``).
        depthwise_initializer: as in Keras.
        pointwise_initializer: as in Keras.
        bias_initializer: as in Keras.
        **kwargs: the other ``keras.layers.Layer`` arguments.

    Example:
        >>> x = keras.Input((8, 8, 3))
        >>> y = HSeparableConv2D(8, 3, padding="same", activation="relu", beta=1e-5)(HQuantize()(x))
    """

    rank = 2
    part_classes = (HDepthwiseConv2D, HConv2D)
