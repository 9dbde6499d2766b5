"""Holding the widths of kept weights while a step is fine-tuned, for objectives whose resources are bit widths
(``BOPsEstimator``: ``depends_on_bit_widths = True``), with ``optimize_model(hold_bit_widths=True)``.

The knapsack counts each kept weight at its width at mask time. Fine-tuning would let kept weights widen (a
larger weight gains integer bits, the trainable fractional bits may grow, a weight that quantized to zero may
wake up) and the BOPs measured afterwards would grow back towards the unpruned model's. So while a step is
fine-tuned, two Keras constraints (applied after every optimizer step, on any backend) keep the width of every
weight of a masked H kernel layer at most its width at mask time:

- ``KernelRange`` clips each weight to the float values whose quantized type is no wider than its type at mask
  time (a sign bit only where it had one or where an integer bit less pays for it; a weight that quantized
  to zero stays at zero);
- ``CappedFractionalBits`` caps the kernel quantizer's fractional bits at their values at mask time (they may
  still shrink: ``beta`` keeps working).

The widths of the layer's inputs (activations, shared by many weights) are not held: holding them too cost
accuracy in our measurements (docs/optimization.md); the knapsack re-reads them at each step.
``release_widths`` restores the original constraints.
"""

import keras
import numpy as np
from keras import ops

from ... import graph
from ...families.hlayer import HLayer
from ...families.kernel.mixin import QuantizedKernelMixin


class KernelRange(keras.constraints.Constraint):
    """Clips a kernel elementwise to ``[low, high]`` (then applies ``inner``, the constraint it replaces).

    Args:
        low, high: arrays broadcastable to the kernel.
        inner: the constraint that was there before (applied first), or ``None``.
    """

    def __init__(self, low, high, inner=None):
        self.low, self.high, self.inner = low, high, inner

    def __call__(self, w):
        w = self.inner(w) if self.inner is not None else w
        return ops.clip(w, ops.cast(self.low, w.dtype), ops.cast(self.high, w.dtype))


class CappedFractionalBits(keras.constraints.Constraint):
    """Caps a quantizer's fractional bit widths at ``cap`` after its own constraint ``inner``.

    Args:
        cap: array broadcastable to the bit widths (their values at mask time).
        inner: the constraint it replaces (the quantizer's clip to ``bw_clip``), or ``None``.
    """

    def __init__(self, cap, inner=None):
        self.cap, self.inner = cap, inner

    def __call__(self, f):
        f = self.inner(f) if self.inner is not None else f
        return ops.minimum(f, ops.cast(self.cap, f.dtype))


def kernel_range(layer):
    """``(low, high)`` per weight of an H kernel layer: a float weight in ``[low, high]`` quantizes (rounded or
    floored, at the present fractional bits or fewer) to a value no wider than its present quantized value.

    With ``(k, i, f)`` the present type of a weight (``k`` its sign bit; a zero weight has ``k = 0, i = -f``):
    ``high = 2^i - 0.75·2^-f``, a quarter step above the largest grid value below ``2^i``, so that rounding half
    up cannot reach ``2^i``; ``low = -2^i`` for a signed type, ``-2^(i-1)`` for an unsigned one of at least one bit
    (a sign bit more, an integer bit less) and ``0`` for a zero weight. With fewer fractional bits a value may round
    to one integer bit more: one fractional bit less, the same width.
    """
    kernel = layer.quantized_kernel(False)
    k, i, f = (np.asarray(ops.convert_to_numpy(a), np.float64) for a in layer.kq.kif(kernel))
    shape, dtype = tuple(layer.kernel.shape), keras.backend.standardize_dtype(layer.kernel.dtype)
    low = np.broadcast_to(np.where(k > 0, -np.exp2(i), np.where(i + f >= 1, -np.exp2(i - 1), 0.0)), shape)
    high = np.broadcast_to(np.exp2(i) - 0.75 * np.exp2(-f), shape)
    high_cast = high.astype(dtype)  # never above the exact bound (very wide weights in a narrow float)
    high_cast = np.where(high_cast > high, np.nextafter(high_cast, -np.inf, dtype=dtype), high_cast)
    return low.astype(dtype), high_cast


def _cap(quantizer):
    fbits = quantizer.fbits
    if not isinstance(fbits.constraint, CappedFractionalBits):
        fbits.constraint = CappedFractionalBits(ops.convert_to_numpy(fbits), fbits.constraint)


def hold_widths(model, layer_paths):
    """Keep the width of every weight of the H kernel layers ``layer_paths`` of ``model`` (paths of
    ``hgq.graph.flat_layers``) at most its present width while training (see the module's docstring). Call after
    the masks are applied (a pruned weight is zero and stays so); ``release_widths`` undoes it."""
    for path, layer in graph.flat_layers(model):
        if path not in layer_paths or not isinstance(layer, QuantizedKernelMixin):
            continue
        kernel = layer.kernel
        inner = kernel.constraint
        while isinstance(inner, KernelRange):
            inner = inner.inner
        kernel.constraint = KernelRange(*kernel_range(layer), inner)
        kernel.assign(kernel.constraint(kernel))
        _cap(layer.kq)


def release_widths(model):
    """Restore the constraints that ``hold_widths`` replaced."""
    for _, layer in graph.flat_layers(model):
        if isinstance(layer, QuantizedKernelMixin):
            kernel = layer.kernel
            if isinstance(kernel.constraint, KernelRange):
                kernel.constraint = kernel.constraint.inner
        for quantizer in layer.quantizers() if isinstance(layer, HLayer) else ():
            if isinstance(quantizer.fbits.constraint, CappedFractionalBits):
                quantizer.fbits.constraint = quantizer.fbits.constraint.inner
