"""TensorFlow: cross-replica reductions for the min/max records under ``tf.distribute`` strategies.

Keras has no public cross-replica reduction and ``tf.distribute`` reduces only by sum or mean, so the
records' min of mins and max of maxes gather every replica's value here. Outside a multi-replica step the
reductions return their input. Kernel derivatives (pruning rankings) with ``tf.GradientTape``.

``inference`` and ``evaluate`` run eagerly at their first ``EAGER_CALLS`` calls for a model and purpose and as a
``tf.function`` from then on: tracing one (about a second) costs more than many eager passes of a small model (the
digits MLP's calibration: 23 ms eager, 6 ms compiled), so a pass that runs a few times stays eager and one that
repeats, e.g. ``fit_pareto``'s calibration at every epoch, runs compiled.
"""

import weakref

from keras import ops

from .generic import compiled, metric_value  # noqa: F401  (eager: a metric of one batch costs little next to an epoch;
#                                                    an eager operation compiles nothing)


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


EAGER_CALLS = 3

#: model -> {purpose: (ids of the variables, calls so far, tf.function or None)}; dropped with the model.
_COMPILED = weakref.WeakKeyDictionary()


def _compiled_on_reuse(model, purpose, eager):
    """``eager`` at the first ``EAGER_CALLS`` calls for ``model`` and ``purpose``, its ``tf.function`` from then on
    (traced anew when the model's variables change)."""
    import tensorflow as tf

    ids = tuple(id(v) for v in model.variables)
    per_model = _COMPILED.setdefault(model, {})
    seen_ids, calls, traced = per_model.get(purpose, (None, 0, None))
    if seen_ids != ids:
        calls, traced = 0, None
    if calls >= EAGER_CALLS and traced is None:
        traced = tf.function(eager, reduce_retracing=True)
    per_model[purpose] = ids, calls + 1, traced
    return traced or eager


def inference(model, purpose):
    owner = weakref.ref(model)  # the compiled function must not keep the model alive
    return _compiled_on_reuse(model, purpose, lambda x: owner()(x, training=False))


def evaluate(model, purpose, fn):
    return _compiled_on_reuse(model, purpose, fn)()
