"""PyTorch: kernel derivatives for the pruning rankings; one replica and exact float64 otherwise."""

import keras
import numpy as np

from .generic import (  # noqa: F401  (as any backend)
    compiled,
    conv_input_gradient_by_matmul,
    evaluate,
    float64_is_exact,
    inference,
    max_over_replicas,
    metric_value,
    min_over_replicas,
)


def kernel_derivatives(model, loss_fn, X, y, layers, order, training):
    import torch

    kernels = [layer.kernel.value for layer in layers]
    loss = loss_fn(keras.ops.convert_to_tensor(y), model(X, training=training))
    grads = torch.autograd.grad(loss, kernels, create_graph=order == 2, allow_unused=True)
    if order == 2:
        grads = torch.autograd.grad(sum(g.sum() for g in grads), kernels, allow_unused=True)
    return [np.zeros(tuple(k.shape)) if g is None else g.detach().cpu().numpy() for g, k in zip(grads, kernels)]
