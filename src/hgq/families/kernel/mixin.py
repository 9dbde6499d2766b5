"""The shared part of layers with a per-weight quantized kernel, a bias and a quantized output."""

from keras import ops

from ...quantizer import Quantizer
from ...quantizer import config as qconfig
from ...quantizer import fixed_point as fxp
from ...quantizer.types import as_numpy
from ..activation.layer import EXACT_ACTIVATIONS


def check_activation(layer_name, activation):
    """Return the activation's name if it is linear or ReLU (what a kernel layer can fuse), else raise."""
    name = activation if isinstance(activation, str) or activation is None else getattr(activation, "__name__", None)
    name = name or "linear"
    if name not in EXACT_ACTIVATIONS:
        raise ValueError(f"layer {layer_name!r}: activation={activation!r} is not supported here; use 'relu' or "
                         "'linear', and an HActivation layer for any other function")
    return name


def max_over_broadcast(x, shape):
    """The maximum of ``x`` over the axes along which an array of ``shape`` broadcasts to ``x``'s shape (leading
    axes, and axes of length 1 in ``shape``), broadcast to ``shape``."""
    lead = len(x.shape) - len(shape)
    axes = tuple(range(lead)) + tuple(lead + d for d, n in enumerate(shape) if n == 1 and x.shape[lead + d] != 1)
    reduced = ops.max(x, axis=axes, keepdims=True) if axes else x
    return ops.broadcast_to(ops.reshape(reduced, tuple(reduced.shape[lead:])), shape)


class QuantizedAffineMixin:
    """What a layer ``paq(activation(linear(x, kq(w)) + round(b)))`` needs: a quantized multiplier array ``w`` (a
    kernel, or the per-channel scale of ``HBatchNormalization``), a bias rounded as the output needs and a quantized
    output.

    The host class defines ``use_bias``, ``activation``, ``kq`` and ``paq``, the float ``kernel_and_bias`` it
    quantizes and the ``bias_shape``, and implements the two halves of its cost protocol (``hgq.cost``):

    - ``linear(inputs, kernel)``: its multiply-accumulate;
    - ``weight_input_bits(in_bits)``: for each weight (broadcastable to the kernel's shape), the sum of the
      widths of the input elements it multiplies over all output positions. A weight's BOPs are this times
      its own width; the layer's BOPs are their sum. By default from the layer's ``geometry(input_shape)``.
    """

    multiplies = True

    def _init_kernel_quantizer(self, kq_conf):
        self.kq = Quantizer(kq_conf, kind="kernel", bias_absorbs_rounding=True, owner=self.name,
                            name=f"{self.name}_kq")

    @property
    def kq_conf(self):
        """The full config of the kernel quantizer."""
        return self.kq.conf

    def bias_absorbs_rounding(self):
        return self.use_bias

    def kernel_and_bias(self, inputs=None, training=None):
        """The float kernel and bias (``None`` without one) that the layer quantizes."""
        raise NotImplementedError

    def bias_shape(self):
        """The shape of the bias: its elements broadcast over the outputs as the bias does."""
        raise NotImplementedError

    def quantized_kernel(self, training=None, f=None):
        """The kernel as quantized by ``kq`` (``f``: its fractional bits, when already computed)."""
        return self.kq(self.kernel_and_bias()[0], training=training, f=f)

    def bias_fractional_bits(self, f=None):
        """Fractional bits of the quantized bias: one more than the finest step of the outputs each bias element is
        added to."""
        f = self.paq.fractional_bits() if f is None else f
        return max_over_broadcast(f, self.bias_shape()) + 1.0

    def _round_bias(self, bias, f_out=None):
        """``bias`` rounded half up to ``bias_fractional_bits`` (straight-through gradient)."""
        bq = fxp.round_to_grid(bias, self.bias_fractional_bits(f_out), "standard_round",
                               integer_f=self.paq.conf["exact_q_value"])
        return bias + ops.stop_gradient(bq - bias)

    def quantized_bias(self, f_out=None):
        """The bias rounded half up to ``bias_fractional_bits`` (straight-through gradient)."""
        return self._round_bias(self.kernel_and_bias()[1], f_out)

    def call(self, inputs, training=None):
        f_kernel, f_out = self.kq.fractional_bits(), self.paq.fractional_bits()
        kernel, bias = self.kernel_and_bias(inputs, training)
        kernel_q = self.kq(kernel, training=training, f=f_kernel)
        z = self.linear(inputs, kernel_q)
        if bias is not None:
            z = ops.add(z, self._round_bias(bias, f_out))  # not "+": on TensorFlow a BiasAdd, fused with its gradient
        out = self.paq(self.activation(z), training=training, f=f_out)
        # BOPs use the deterministic kernel: reuse this one unless training rounds it randomly
        self.add_bops_loss(training, kernel_q=kernel_q if self.kq.deterministic else None, f_kernel=f_kernel)
        return out

    def weight_input_bits(self, in_bits):
        """For each weight, the widths of the inputs it multiplies (see the class): by default from the layer's
        ``geometry(input_shape)``."""
        return self.geometry((None, *in_bits.shape[1:])).weight_input_bits(in_bits)

    def weight_bits(self, kernel_q=None, f_kernel=None):
        """Total width of each weight of the quantized kernel (0: pruned)."""
        if kernel_q is None:
            kernel_q = self.quantized_kernel(False)
        return self.kq.bits(kernel_q, f=f_kernel)

    def compute_bops(self, dtype="float32", kernel_q=None, f_kernel=None):
        w_bits = ops.cast(self.weight_bits(kernel_q, f_kernel), dtype)
        in_bits = ops.cast(self.input_bits(), dtype)
        return ops.sum(self.weight_input_bits(in_bits) * w_bits)

    def quantizers(self):
        return [self.kq, self.paq]

    def bias_carries_half_step(self):
        """Whether the outputs each bias element is added to share one step, so that the bias can carry the half
        step of rounding half up (the output quantizer then truncates)."""
        f = self.paq.fractional_bits()
        return bool(ops.all(f == max_over_broadcast(f, self.bias_shape())))

    def exported_kernel_and_bias(self):
        """``(kernel, bias, rounding)``: what the proxy model holds (NumPy; ``bias`` is ``None`` without one) and the
        hls4ml rounding of its output quantizer. Where the output rounds half up and each channel has one step at
        every position, the bias carries the half step and the quantizer truncates (free in hardware)."""
        kernel = as_numpy(self.quantized_kernel(False))
        rounding = self.paq.hls_rounding()
        bias = as_numpy(self.quantized_bias()) if self.use_bias else None
        if bias is not None and rounding == "RND" and self.bias_carries_half_step():
            bias = bias + 2.0 ** -as_numpy(self.bias_fractional_bits())
            rounding = "TRN"
        return kernel, bias, rounding

    def get_config(self):
        cfg = super().get_config()
        cfg.update(kq_conf=qconfig.serialize(self.kq_conf))
        return cfg


class QuantizedKernelMixin(QuantizedAffineMixin):
    """``QuantizedAffineMixin`` of a layer with a ``kernel`` and a ``bias`` variable (HDense, HConv1D, HConv2D,
    HEinsumDense and their batch-norm fused versions)."""

    def kernel_and_bias(self, inputs=None, training=None):
        return self.kernel, (self.bias if self.use_bias else None)

    def bias_shape(self):
        return tuple(self.bias.shape)
