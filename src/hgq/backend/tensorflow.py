"""TensorFlow: cross-replica reductions for the min/max records under ``tf.distribute`` strategies.

Keras has no public cross-replica reduction and ``tf.distribute`` reduces only by sum or mean, so the
records' min of mins and max of maxes gather every replica's value here. Outside a multi-replica step the
reductions return their input. Kernel derivatives (pruning rankings) with ``tf.GradientTape``.
"""

from keras import ops


def float64_is_exact():
    return True


def _replica_context():
    import tensorflow as tf

    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return None
    return context


def _gathered(x):
    """Every replica's ``x`` stacked on a new leading axis, or ``None`` outside a multi-replica step."""
    context = _replica_context()
    return None if context is None else context.all_gather(ops.expand_dims(x, 0), axis=0)


def min_over_replicas(x):
    """Element-wise minimum of ``x`` over all replicas of the running step."""
    stacked = _gathered(x)
    return x if stacked is None else ops.min(stacked, axis=0)


def max_over_replicas(x):
    """Element-wise maximum of ``x`` over all replicas of the running step."""
    stacked = _gathered(x)
    return x if stacked is None else ops.max(stacked, axis=0)


def kernel_derivatives(model, loss_fn, X, y, layers, order, training):
    import numpy as np
    import tensorflow as tf

    kernels = [layer.kernel.value for layer in layers]
    with tf.GradientTape(persistent=True) as outer:
        with tf.GradientTape(persistent=True) as tape:
            loss = loss_fn(y, model(X, training=training))
        grads = [tape.gradient(loss, k) for k in kernels]
    if order == 2:
        grads = [outer.gradient(g, k) for g, k in zip(grads, kernels)]
    return [np.zeros(k.shape) if g is None else g.numpy() for g, k in zip(grads, kernels)]


def conv_input_gradient_by_matmul(channels):
    return False


def inference(model, purpose):
    return lambda x: model(x, training=False)


def evaluate(model, purpose, fn):
    return fn()
