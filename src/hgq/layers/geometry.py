"""Geometry of the multiplying layers: windows sliding along an axis (convolutions and poolings, padded as
Keras/TensorFlow pad them), and which input elements each weight multiplies (the BOPs rule of Dense and
convolutions, shared by the H-layers and the cost model's view of plain proxy layers)."""

import itertools

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


def _spread(x, axis, stride):
    """``x`` with ``stride - 1`` zeros between its elements along ``axis`` (length ``(n - 1) * stride + 1``)."""
    if stride == 1:
        return x
    n = int(x.shape[axis])
    x = ops.expand_dims(x, axis + 1)
    x = ops.concatenate([x] + [ops.zeros_like(x)] * (stride - 1), axis=axis + 1)
    x = ops.reshape(x, (-1, *x.shape[1:axis], n * stride, *x.shape[axis + 2:]))
    return x[(slice(None),) * axis + (slice(0, (n - 1) * stride + 1),)]


def conv_input_gradient(dz, kernel, input_shape, strides, padding):
    """The gradient of a convolution (channels last, no dilation, one group) with respect to its input, given
    ``dz`` with respect to its output: one matmul by the transposed kernel, then each kernel tap's share added back
    where that tap read the input (col2im). Same sums as the transposed convolution that autodiff uses."""
    kernel_size = tuple(int(k) for k in kernel.shape[:-2])
    channels, filters = int(kernel.shape[-2]), int(kernel.shape[-1])
    spatial = tuple(int(n) for n in input_shape[1:-1])
    strides = tuple(int(s) for s in strides)
    outs, befores, padded = [], [], []
    for n, k, s in zip(spatial, kernel_size, strides):
        out, before, after = output_size_and_paddings(n, k, s, padding)
        outs.append(out)
        befores.append(before)
        padded.append(n + before + after)
    columns = ops.matmul(dz, ops.transpose(ops.reshape(kernel, (-1, filters))))  # (batch, *outs, taps * channels)
    total = None
    for j, taps in enumerate(itertools.product(*(range(k) for k in kernel_size))):
        piece = columns[..., j * channels:(j + 1) * channels]
        for axis, s in enumerate(strides, start=1):
            piece = _spread(piece, axis, s)
        widths = [(t, p - t - (o - 1) * s - 1) for t, o, s, p in zip(taps, outs, strides, padded)]
        piece = ops.pad(piece, [(0, 0), *widths, (0, 0)])
        total = piece if total is None else total + piece
    return total[(slice(None), *(slice(b, b + n) for b, n in zip(befores, spatial)))]


def convolution_with_matmul_input_gradient(convolution_op, inputs, kernel, strides, padding):
    """``convolution_op(inputs, kernel)`` whose gradient with respect to ``inputs`` is ``conv_input_gradient``
    (the kernel's gradient stays the convolution's own)."""

    @ops.custom_gradient
    def input_path(x, kernel, z):
        def grad(*args, upstream=None):
            dz = args[0] if upstream is None else upstream
            dx = conv_input_gradient(dz, kernel, x.shape, strides, padding)
            return dx, ops.zeros_like(kernel), ops.zeros_like(z)

        return ops.zeros_like(z), grad

    z = convolution_op(ops.stop_gradient(inputs), kernel)
    # zero in the forward pass; carries the input's gradient in the backward pass
    return z + input_path(inputs, kernel, ops.stop_gradient(z))
