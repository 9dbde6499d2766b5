"""Geometry of the multiplying layers: windows sliding along an axis (convolutions and poolings, padded as
Keras/TensorFlow pad them), and which input elements each weight multiplies (the BOPs rule of Dense and
convolutions, shared by the H-layers and the cost model's view of plain proxy layers)."""

import numpy as np
from keras import ops


def output_size_and_padding(n, window, stride, padding):
    """``(outputs, padding before the first input)`` of a window of ``window`` inputs moved by ``stride`` over
    ``n`` inputs; ``padding`` is ``"valid"`` or ``"same"`` (the extra padding goes after, as in TensorFlow)."""
    if padding == "same":
        out = -(-n // stride)
        return out, max((out - 1) * stride + window - n, 0) // 2
    return max((n - window) // stride + 1, 0), 0


def _axis_taps(in_size, kernel, stride, padding):
    """0/1 matrix ``(in_size, kernel)`` along one spatial axis: 1 where kernel tap ``t`` of some output
    position reads input ``y = p * stride + t - pad`` (a padded zero is read by no entry)."""
    out, pad = output_size_and_padding(in_size, kernel, stride, padding)
    matrix = np.zeros((in_size, kernel))
    for p in range(out):
        for t in range(kernel):
            if 0 <= p * stride + t - pad < in_size:
                matrix[p * stride + t - pad, t] = 1.0
    return matrix


def _tap_matrix(spatial_shape, kernel_size, strides, padding):
    """0/1 matrix ``(input positions, kernel taps)``, both flattened in row-major order: the Kronecker
    product of the per-axis matrices of ``_axis_taps``."""
    matrix = np.ones((1, 1))
    for n, k, s in zip(spatial_shape, kernel_size, strides):
        matrix = np.kron(matrix, _axis_taps(int(n), int(k), int(s), padding))
    return matrix


def dense_weight_input_bits(in_bits):
    """Dense: every output position (any leading axes of a sequence) multiplies weight ``(i, j)`` by input element
    ``i``; the sum of ``in_bits`` (shaped ``(1, *positions, inputs)``) over positions, shaped ``(inputs, 1)``."""
    return ops.sum(ops.reshape(in_bits, (-1, in_bits.shape[-1])), axis=0)[:, None]


def conv_weight_input_bits(in_bits, kernel_size, strides, padding):
    """Convolution: weight ``(t, c, o)`` meets input ``b_in[p*s + t - pad, c]`` at every output position ``p``; the
    sum of those widths per tap and channel, shaped ``(*kernel_size, channels, 1)``. One small matmul by a 0/1
    matrix instead of a convolution of the widths."""
    taps = _tap_matrix(in_bits.shape[1:-1], kernel_size, strides, padding)
    channels = in_bits.shape[-1]
    reads = ops.matmul(ops.convert_to_tensor(taps.T, dtype=in_bits.dtype), ops.reshape(in_bits, (-1, channels)))
    return ops.reshape(reads, (*kernel_size, channels, 1))
