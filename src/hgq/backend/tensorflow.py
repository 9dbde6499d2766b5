"""TensorFlow: cross-replica reductions for the min/max records under ``tf.distribute`` strategies.

Keras has no public cross-replica reduction and ``tf.distribute`` reduces only by sum or mean, so the
records' min of mins and max of maxes gather every replica's value here. Outside a multi-replica step the
reductions return their input.
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
