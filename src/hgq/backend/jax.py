"""JAX: float64 exists only in 64-bit mode; kernel derivatives with ``jax.grad``. Replica reductions: none yet
(one device)."""

from .generic import max_over_replicas, min_over_replicas  # noqa: F401  (same on JAX for now)


def float64_is_exact():
    import jax

    return bool(jax.config.jax_enable_x64)


def kernel_derivatives(model, loss_fn, X, y, layers, order, training):
    import jax
    import numpy as np

    trainable = [v.value for v in model.trainable_variables]
    non_trainable = [v.value for v in model.non_trainable_variables]
    ids = [id(v) for v in model.trainable_variables]
    where = [ids.index(id(layer.kernel)) for layer in layers]

    def loss_of(kernels):
        values = list(trainable)
        for i, k in zip(where, kernels):
            values[i] = k
        out, _ = model.stateless_call(values, non_trainable, X, training=training)
        return loss_fn(y, out)

    kernels = [trainable[i] for i in where]
    if order == 1:
        return [np.asarray(g) for g in jax.grad(loss_of)(kernels)]
    summed = jax.grad(lambda ks: sum(g.sum() for g in jax.grad(loss_of)(ks)))
    return [np.asarray(g) for g in summed(kernels)]
