"""Geometry of the multiplying layers: windows sliding along an axis (convolutions and poolings, padded as
Keras/TensorFlow pad them), and which input elements each weight multiplies.

Two views of the same geometry: ``*_weight_input_bits`` (``keras.ops``, for the BOPs of training: per weight, the sum
of the widths of the input elements it multiplies) and the ``Geometry`` classes (NumPy, for the types and costs of an
exported layer: the layer as a matrix product of the input *columns*, the input elements each output position reads,
by the kernel as a matrix).
"""

import numpy as np
from keras import ops


def output_size_and_padding(n, window, stride, padding):
    """``(outputs, padding before the first input)`` of a window of ``window`` inputs moved by ``stride`` over
    ``n`` inputs; ``padding`` is ``"valid"`` or ``"same"`` (the extra padding goes after, as in TensorFlow)."""
    if padding == "same":
        out = -(-n // stride)
        return out, max((out - 1) * stride + window - n, 0) // 2
    return max((n - window) // stride + 1, 0), 0


def output_size_and_paddings(n, window, stride, padding):
    """``(outputs, padding before, padding after)``: ``output_size_and_padding`` and the padding after the last
    input that the last window reads (0 where it ends inside the input)."""
    out, before = output_size_and_padding(n, window, stride, padding)
    return out, before, max((out - 1) * stride + window - n - before, 0)


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


def windows(array, window, strides, padding, fill):
    """``array`` ``(*spatial, channels)`` cut into the windows of a convolution or pooling, padded with ``fill`` as
    Keras pads: shaped ``(*output positions, *window, channels)``."""
    pads, indices = [], []
    for n, k, s in zip(array.shape[:-1], window, strides):
        out, before, after = output_size_and_paddings(n, int(k), int(s), padding)
        pads.append((before, after))
        indices.append(np.arange(out)[:, None] * int(s) + np.arange(int(k))[None, :])
    padded = np.pad(array, pads + [(0, 0)], constant_values=fill)
    grids = np.ix_(*[ix.ravel() for ix in indices])  # every (position, tap) pair of each axis
    picked = padded[grids]  # (out_0 * k_0, out_1 * k_1, ..., channels)
    shape = [d for ix in indices for d in ix.shape]
    picked = picked.reshape(*shape, array.shape[-1])  # (out_0, k_0, out_1, k_1, ..., channels)
    n = len(indices)
    return picked.transpose(*range(0, 2 * n, 2), *range(1, 2 * n, 2), 2 * n)


class DenseGeometry:
    """A Dense layer on inputs of feature shape ``(*positions, inputs)``: each output position multiplies the
    kernel ``(inputs, outputs)`` by the input vector at that position.

    Args:
        input_shape: the input's feature shape (no batch axis).
    """

    def __init__(self, input_shape):
        self.input_shape = tuple(int(n) for n in input_shape)

    def weight_input_bits(self, in_bits):
        return dense_weight_input_bits(in_bits)

    def columns(self, array, fill=0.0):
        """``(groups, positions, terms)``: the input elements (of ``array``, shaped like the input features) that each
        output position reads, ``fill`` where it reads padding; one group (every position shares the kernel)."""
        return np.reshape(array, (1, -1, self.input_shape[-1]))

    def kernel_matrix(self, kernel):
        """The kernel as ``(groups, terms, outputs)``, terms ordered as ``columns``."""
        return np.reshape(kernel, (1, -1, np.shape(kernel)[-1]))

    def output_features(self, y):
        """``(groups, positions, outputs)`` back to the output's feature shape."""
        return np.reshape(y, (*self.input_shape[:-1], np.shape(y)[-1]))


class ConvGeometry(DenseGeometry):
    """A convolution (channels last, no dilation, one group) on inputs of feature shape ``(*spatial, channels)``.

    Args:
        input_shape: the input's feature shape.
        kernel_size, strides: per spatial axis.
        padding: ``"valid"`` or ``"same"``.
    """

    def __init__(self, input_shape, kernel_size, strides, padding):
        super().__init__(input_shape)
        self.kernel_size = tuple(int(k) for k in kernel_size)
        self.strides = tuple(int(s) for s in strides)
        self.padding = padding
        self.output_spatial = tuple(output_size_and_padding(n, k, s, padding)[0]
                                    for n, k, s in zip(self.input_shape[:-1], self.kernel_size, self.strides))

    def weight_input_bits(self, in_bits):
        return conv_weight_input_bits(in_bits, self.kernel_size, self.strides, self.padding)

    def columns(self, array, fill=0.0):
        cut = windows(np.asarray(array), self.kernel_size, self.strides, self.padding, fill)
        return cut.reshape(1, int(np.prod(self.output_spatial)), -1)

    def output_features(self, y):
        return np.reshape(y, (*self.output_spatial, np.shape(y)[-1]))


class DepthwiseGeometry(ConvGeometry):
    """A depthwise convolution (each channel convolved with its own ``depth_multiplier`` kernels, channels last, no
    dilation): one group per input channel, whose terms are the window's taps of that channel; output channel
    ``c * depth_multiplier + m`` as Keras orders them. Arguments as ``ConvGeometry``."""

    def columns(self, array, fill=0.0):
        cut = windows(np.asarray(array), self.kernel_size, self.strides, self.padding, fill)
        positions = int(np.prod(self.output_spatial))
        return np.moveaxis(cut.reshape(positions, -1, self.input_shape[-1]), -1, 0)

    def kernel_matrix(self, kernel):
        kernel = np.asarray(kernel)
        return np.moveaxis(kernel.reshape(-1, *kernel.shape[-2:]), 1, 0)

    def output_features(self, y):
        y = np.moveaxis(np.asarray(y), 0, 1)  # (positions, channels, depth multiplier)
        return np.reshape(y, (*self.output_spatial, -1))
