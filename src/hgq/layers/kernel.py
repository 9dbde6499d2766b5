"""The shared part of layers with a per-weight quantized kernel, a bias and a quantized output."""

from keras import ops

from ..quantizer import Quantizer
from ..quantizer import config as qconfig
from ..quantizer import fixed_point as fxp

LINEAR_OR_RELU = ("linear", "relu")


def check_activation(layer_name, activation):
    """Return the activation's name if it is linear or ReLU (what a kernel layer can fuse), else raise."""
    name = activation if isinstance(activation, str) or activation is None else getattr(activation, "__name__", None)
    name = name or "linear"
    if name not in LINEAR_OR_RELU:
        raise ValueError(f"layer {layer_name!r}: activation={activation!r} is not supported here; use 'relu' or "
                         "'linear', and an HActivation layer for any other function")
    return name


class QuantizedKernelMixin:
    """What a layer with a quantized kernel, a bias and a quantized output needs (HDense, HConv1D, HConv2D).

    The host class defines ``kernel``, ``bias``, ``use_bias``, ``activation``, ``kq`` and ``paq``, and
    implements ``_linear(inputs, kernel)`` (its multiply-accumulate) and ``_bops(in_bits, w_bits)``
    (the sum of that multiply-accumulate applied to bit widths: the BOPs).
    """

    multiplies = True

    def _init_kernel_quantizer(self, kq_conf):
        self.kq_conf = qconfig.resolve("kq_conf", kq_conf, self.name)
        self.kq = Quantizer(self.kq_conf, kind="kernel", auto_rounding="standard_round", name=f"{self.name}_kq")

    def _auto_rounding(self):
        # A bias can absorb the half-step offset of rounding half up; without one the output floors.
        return "standard_round" if self.use_bias else "floor"

    def quantized_kernel(self, training=None, f=None):
        """The kernel as quantized by ``kq`` (``f``: its fractional bits, when already computed)."""
        return self.kq(self.kernel, training=training, f=f)

    def bias_fractional_bits(self, f=None):
        """Fractional bits of the quantized bias: one more than the finest output step of each channel."""
        f = self.paq.fractional_bits() if f is None else f
        per_channel = ops.max(ops.reshape(f, (-1, f.shape[-1])), axis=0)
        return ops.broadcast_to(per_channel, tuple(self.bias.shape)) + 1.0

    def quantized_bias(self, f_out=None):
        """The bias rounded half up to ``bias_fractional_bits`` (straight-through gradient)."""
        b = self.bias
        bq = fxp.round_to_grid(b, ops.cast(self.bias_fractional_bits(f_out), b.dtype), "standard_round")
        return b + ops.stop_gradient(bq - b)

    def call(self, inputs, training=None):
        f_kernel, f_out = self.kq.fractional_bits(), self.paq.fractional_bits()
        kernel_q = self.quantized_kernel(training, f=f_kernel)
        z = self._linear(inputs, kernel_q)
        if self.use_bias:
            z = z + self.quantized_bias(f_out)
        out = self.paq(self.activation(z), training=training, f=f_out)
        # BOPs use the deterministic kernel: reuse this one unless training rounds it randomly
        deterministic = self.kq.rounding in ("standard_round", "floor")
        self.add_bops_loss(training, kernel_q=kernel_q if deterministic else None, f_kernel=f_kernel)
        return out

    def compute_bops(self, dtype="float32", kernel_q=None, f_kernel=None):
        if kernel_q is None:
            kernel_q = self.quantized_kernel(False)
        w_bits = ops.cast(self.kq.bits(kernel_q, f=f_kernel), dtype)
        in_bits = ops.cast(self.input_bits((None, *self.input.shape[1:])), dtype)
        return self._bops(in_bits, w_bits)

    def quantizers(self):
        return [self.kq, self.paq]
