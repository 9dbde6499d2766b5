"""The gradient of a convolution with respect to its input as one matmul and col2im: the same sums as the transposed
convolution that autodiff uses, faster on XLA's CPU backend for convolutions with few input channels
(``hgq.backend.conv_input_gradient_by_matmul``)."""

import itertools

from keras import ops

from .geometry import output_size_and_paddings


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
