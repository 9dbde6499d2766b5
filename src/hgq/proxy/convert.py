"""Export helpers every proxy converter uses: NumPy views of tensors, hls4ml's types of a quantizer, and new
``FixedPointQuantizer`` layers on proxy tensors. Every proxy layer computes in float64, so accumulations stay exact
up to 53 bits.
"""

import numpy as np
from keras import ops

from ..backend import float64_is_exact
from .fixed_point_quantizer import FixedPointQuantizer

PROXY_DTYPE = "float64"


def require_exact_float64(caller):
    """Raise ``ValueError`` when the backend would compute the float64 proxy in float32."""
    if not float64_is_exact():
        raise ValueError(f"{caller}: the proxy computes in float64, which the JAX backend truncates to float32 "
                           "unless 64-bit mode is on: set JAX_ENABLE_X64=1 before importing JAX")


def as_numpy(x):
    """``x`` (a tensor or array) as a float64 NumPy array."""
    return np.asarray(ops.convert_to_numpy(x), dtype=np.float64)


def export_kbi(quantizer):
    """hls4ml's ``(keep_negative, bits, integers)`` of an activation quantizer (zero where ``bits`` is 0)."""
    k, i, f = (as_numpy(a) for a in quantizer.kif())
    b = np.maximum(k + i + f, 0)
    return np.where(b > 0, k, 0), b, np.where(b > 0, k + i, 0)


def apply_quantizer(x, kbi, rounding, overflow, name, overrides=None):
    """Call a new ``FixedPointQuantizer`` of types ``kbi = (keep_negative, bits, integers)`` on the proxy tensor
    ``x`` and return its output.

    The arrays are stored shaped ``(1, *features)`` as hls4ml requires; where all elements share one type the
    quantizer is ``fusible`` (hls4ml then reads the first element's type only, and may fuse the quantizer into its
    input), which ``hgq.proxy.saturation`` can take back. ``overrides``: hls4ml configuration the quantizer carries
    (e.g. a layer's parallelization factor).
    """
    arrays = [np.broadcast_to(np.asarray(a), (1, *x.shape[1:])) for a in kbi]
    fusible = all(np.unique(a).size == 1 for a in arrays)
    q = FixedPointQuantizer(kbi_shape=arrays[0].shape, RND=rounding, SAT=overflow, fusible=fusible,
                            overrides=overrides, name=name, dtype=PROXY_DTYPE)
    y = q(x)
    q.set_kbi(*arrays)
    return y


def quantize_output(layer, x, ctx, rounding=None, name=None, overrides=None):
    """``layer.paq`` at inference, as a ``FixedPointQuantizer`` named ``name`` (default ``<layer name>_q``);
    ``rounding`` defaults to the quantizer's own hls4ml rounding."""
    rounding = rounding or layer.paq.hls_rounding()
    return apply_quantizer(x, export_kbi(layer.paq), rounding, ctx.overflow, name or f"{layer.name}_q", overrides)


def _bias_absorbs_rounding(layer):
    """True when each output unit has one step everywhere, so a per-unit bias can carry the half step."""
    f = as_numpy(layer.paq.fractional_bits())
    per_unit = f.reshape(-1, f.shape[-1])
    return bool(np.all(per_unit == per_unit[:1]))


def exported_kernel_bias(layer):
    """The quantized kernel and bias (``None`` without one) of a kernel layer, and its output rounding.

    Where the output rounds half up and each channel has one step at every position, the bias carries the
    half step and the quantizer truncates (free in hardware).
    """
    kernel = as_numpy(layer.quantized_kernel(False))
    rounding = layer.paq.hls_rounding()
    bias = as_numpy(layer.quantized_bias()) if layer.use_bias else None
    if bias is not None and rounding == "RND" and _bias_absorbs_rounding(layer):
        f = as_numpy(layer.paq.fractional_bits())
        bias = bias + np.broadcast_to(2.0 ** -(f.reshape(-1, f.shape[-1])[0] + 1), bias.shape)
        rounding = "TRN"
    return kernel, bias, rounding
