"""HDense: a Dense layer with a per-weight quantized kernel and a quantized output."""

import keras
from keras import ops

from ..quantizer import Quantizer
from ..quantizer import config as qconfig
from ..quantizer import fixed_point as fxp
from .base import HLayer

LINEAR_OR_RELU = ("linear", "relu")


def check_activation(layer_name, activation):
    """Return the activation's name if it is linear or ReLU (what a kernel layer can fuse), else raise."""
    name = activation if isinstance(activation, str) or activation is None else getattr(activation, "__name__", None)
    name = name or "linear"
    if name not in LINEAR_OR_RELU:
        raise ValueError(f"layer {layer_name!r}: activation={activation!r} is not supported here; use 'relu' or "
                         "'linear', and an HActivation layer for any other function")
    return name


@keras.saving.register_keras_serializable(package="hgq")
class HDense(HLayer, keras.layers.Dense):
    """Dense layer with heterogeneous quantization.

    The kernel gets one trainable fractional bit width per weight (``kq_conf``); the output, after the
    activation, is quantized by ``paq`` (``paq_conf``). The bias is rounded to one fractional bit more
    than the output so that the export is exact. While training, ``beta * BOPs`` joins the loss.

    Args:
        units: output size.
        activation: ``None``/``"linear"`` or ``"relu"``.
        beta: BOPs weight in the loss.
        kq_conf: kernel-quantizer options overriding the defaults (see ``get_default_kq_conf``).
        paq_conf: output-quantizer options overriding the defaults (see ``get_default_paq_conf``).
        **kwargs: any other ``keras.layers.Dense`` argument.

    Example:
        >>> x = keras.Input((16,))
        >>> y = HDense(5, activation="relu", beta=1e-5)(HQuantize()(x))
    """

    multiplies = True

    def __init__(self, units, activation=None, beta=0.0, kq_conf=None, paq_conf=None, **kwargs):
        check_activation(kwargs.get("name"), activation)
        super().__init__(units=units, activation=activation, beta=beta, paq_conf=paq_conf, **kwargs)
        self.kq_conf = qconfig.resolve("kq_conf", kq_conf, self.name)
        self.kq = Quantizer(self.kq_conf, kind="kernel", auto_rounding="standard_round", name=f"{self.name}_kq")

    def _auto_rounding(self):
        return "standard_round" if self.use_bias else "floor"

    def build(self, input_shape):
        super().build(input_shape)
        self.kq.build(self.kernel.shape)
        self.paq.build((None, *input_shape[1:-1], self.units))

    def quantized_kernel(self, training=None, f=None):
        """The kernel as quantized by ``kq`` (``f``: its fractional bits, when already computed)."""
        return self.kq(self.kernel, training=training, f=f)

    def bias_fractional_bits(self, f=None):
        """Fractional bits of the quantized bias: one more than the finest output step of each unit."""
        f = self.paq.fractional_bits() if f is None else f
        f = ops.max(ops.reshape(f, (-1, f.shape[-1])), axis=0)
        return ops.broadcast_to(f, (self.units,)) + 1.0

    def quantized_bias(self, f_out=None):
        """The bias rounded half up to ``bias_fractional_bits`` (straight-through gradient)."""
        b = self.bias
        bq = fxp.round_to_grid(b, ops.cast(self.bias_fractional_bits(f_out), b.dtype), "standard_round")
        return b + ops.stop_gradient(bq - b)

    def call(self, inputs, training=None):
        f_kernel, f_out = self.kq.fractional_bits(), self.paq.fractional_bits()
        kernel_q = self.quantized_kernel(training, f=f_kernel)
        z = ops.matmul(inputs, kernel_q)
        if self.use_bias:
            z = z + self.quantized_bias(f_out)
        out = self.paq(self.activation(z), training=training, f=f_out)
        # BOPs use the deterministic kernel: reuse this one unless training rounds it randomly
        same = self.kq.rounding in ("standard_round", "floor")
        self.add_bops_loss(training, kernel_q=kernel_q if same else None, f_kernel=f_kernel)
        return out

    def compute_bops(self, dtype="float32", kernel_q=None, f_kernel=None):
        if kernel_q is None:
            kernel_q = self.quantized_kernel(False)
        w_bits = ops.cast(self.kq.bits(kernel_q, f=f_kernel), dtype)
        in_bits = ops.cast(self.input_bits((None, *self.input.shape[1:])), dtype)
        return ops.sum(ops.matmul(in_bits, w_bits))

    def quantizers(self):
        return [self.kq, self.paq]

    def get_config(self):
        cfg = super().get_config()
        cfg.update(kq_conf=qconfig.serialize(self.kq_conf))
        return cfg
