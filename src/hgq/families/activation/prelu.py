"""HPReLU: ``keras.layers.PReLU`` with quantized, trainable slopes and a quantized output; ``prelu_kif``, the type of
what it computes before its output quantizer."""

import keras
import numpy as np
from keras import ops

from ...quantizer import Quantizer
from ...quantizer import config as qconfig
from ...quantizer.intervals import bounds, kif_of_interval
from ...quantizer.types import fewest_fractional_bits
from ..hlayer import HLayer


@keras.saving.register_keras_serializable(package="hgq")
class HPReLU(HLayer):
    """``keras.layers.PReLU`` with heterogeneous quantization: ``y = x`` where ``x > 0``, else ``alpha * x``.

    The slopes ``alpha`` (one per element of the input's features, shared along ``shared_axes``) are trainable, each
    with its own trainable fractional bit width (``kq_conf``); the output is quantized by ``paq`` (``paq_conf``).
    While training, ``beta * BOPs`` joins the loss: each slope's width times the widths of the inputs it multiplies.
    hls4ml computes it with its ``PReLU`` (one slope per element: the export spells shared slopes out).

    Args:
        alpha_initializer: as in Keras (default zeros: a ReLU).
        shared_axes: feature axes (1 is the first) along which the slopes are shared, as in Keras.
        beta: BOPs weight in the loss.
        kq_conf: slope-quantizer options overriding the defaults (see ``get_default_kq_conf``).
        paq_conf: output-quantizer options overriding the defaults (see ``get_default_paq_conf``).

    Example:
        >>> y = HPReLU(shared_axes=[1], beta=1e-5)(HQuantize()(keras.Input((8, 4))))
    """

    multiplies = True

    def __init__(self, alpha_initializer="zeros", shared_axes=None, beta=0.0, kq_conf=None, paq_conf=None, **kwargs):
        super().__init__(beta=beta, paq_conf=paq_conf, **kwargs)
        self.alpha_initializer = keras.initializers.get(alpha_initializer)
        axes = [shared_axes] if isinstance(shared_axes, int) else shared_axes
        self.shared_axes = None if axes is None else [int(a) for a in axes]
        self.kq = Quantizer(kq_conf, kind="kernel", owner=self.name, name=f"{self.name}_kq")

    @property
    def kq_conf(self):
        """The full config of the slope quantizer."""
        return self.kq.conf

    def build(self, input_shape):
        shape = list(input_shape[1:])
        for axis in self.shared_axes or ():
            if not 1 <= axis <= len(shape):
                raise ValueError(f"HPReLU {self.name!r}: shared_axes={self.shared_axes} names axis {axis}, which "
                                 f"input shape {tuple(input_shape)} lacks (feature axes are 1 to {len(shape)})")
            shape[axis - 1] = 1
        self.alpha = self.add_weight(name="alpha", shape=tuple(shape), initializer=self.alpha_initializer)
        self.kq.build(self.alpha.shape)
        self.paq.build(input_shape)
        self.built = True

    def quantized_alpha(self, training=None):
        """The slopes as quantized by ``kq``."""
        return self.kq(self.alpha, training=training)

    def call(self, inputs, training=None):
        alpha = self.quantized_alpha(training)
        out = self.paq(ops.where(inputs > 0, inputs, alpha * inputs), training=training)
        self.add_bops_loss(training, alpha=alpha if self.kq.deterministic else None)
        return out

    def compute_output_shape(self, input_shape):
        return input_shape

    def slope_input_bits(self, in_bits):
        """For each slope, the sum of ``in_bits`` (``(1, *features)``) over the input elements it multiplies."""
        axes = tuple(a for a in self.shared_axes or ())
        return ops.sum(in_bits, axis=(0, *axes), keepdims=True)[0] if axes else in_bits[0]

    def compute_bops(self, dtype="float32", alpha=None):
        alpha = self.quantized_alpha(False) if alpha is None else alpha
        a_bits = ops.cast(self.kq.bits(alpha), dtype)
        return ops.sum(self.slope_input_bits(ops.cast(self.input_bits(), dtype)) * a_bits)

    def quantizers(self):
        return [self.kq, self.paq]

    def get_config(self):
        cfg = super().get_config()
        cfg.update(alpha_initializer=keras.initializers.serialize(self.alpha_initializer),
                   shared_axes=self.shared_axes, kq_conf=qconfig.serialize(self.kq_conf))
        return cfg


def prelu_kif(in_kif, alpha):
    """The type of each element of ``x > 0 ? x : alpha * x`` (NumPy), for inputs of types ``in_kif`` and the slopes
    ``alpha`` (broadcast to the inputs): the interval of both branches, on the grid of ``x`` and of ``alpha * x``,
    with at least the input's integer bits. A slope below 1 makes values smaller than the input's, which a truncating
    quantizer after it floors to its step; hls4ml's bit-exact pass narrows such a quantizer to no bits at all when its
    input type claims fewer integer bits than that step needs (hls4ml 1.3: it adds one integer bit back, not enough
    for a negative value below the step), so the type keeps the input's integer bits."""
    low, high, f = bounds(in_kif)
    alpha = np.broadcast_to(np.asarray(alpha, np.float64), low.shape)
    negative_end = np.minimum(high, 0.0)
    products = (alpha * low, alpha * negative_end)
    has_negative, has_positive = low < 0, high > 0
    out_low = np.minimum(np.where(has_negative, np.minimum(*products), 0.0), 0.0)
    out_high = np.maximum(np.where(has_negative, np.maximum(*products), 0.0), np.where(has_positive, high, 0.0))
    f_alpha = np.where(has_negative & (alpha != 0), fewest_fractional_bits(alpha), -np.inf)
    k, i, f_out = kif_of_interval(out_low, out_high, np.maximum(f, f + np.maximum(f_alpha, 0.0)))
    live = (out_low != 0) | (out_high != 0)
    return k, np.where(live, np.maximum(i, np.asarray(in_kif[1], np.float64)), i), f_out
